package store

import (
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"gorm.io/gorm"
)

// ConflictFilter says which conflicts a caller may see and which of those to list.
// Visibility: All sees everything; otherwise a conflict is visible when its
// writer is WriterID, or when it is routed to one of Territories. A conflict on
// a row that no longer exists has no territory; it is routed to the territories
// of the user who wrote it, so the writer's managers still get it.
type ConflictFilter struct {
	All         bool
	WriterID    string
	Territories []string
	Tables      []string // when not empty, only conflicts on these tables are visible

	Status string // "" for every status
	Table  string // "" for every table
}

// ConflictPage positions a page: entries after (CreatedAt, ID) in that order.
type ConflictPage struct {
	AfterCreated *time.Time
	AfterID      string
	Limit        int
}

// ListConflicts returns the visible conflicts of f after the page position, in
// (created_at, id) order.
func ListConflicts(tx *Tx, f ConflictFilter, p ConflictPage) ([]ConflictRecord, error) {
	q := f.apply(tx.g.Model(&ConflictRecord{}))
	if p.AfterCreated != nil {
		q = q.Where("(created_at > ? OR (created_at = ? AND id > ?))", *p.AfterCreated, *p.AfterCreated, p.AfterID)
	}
	var out []ConflictRecord
	if err := q.Order("created_at, id").Limit(p.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list conflicts: %w", err)
	}
	for i := range out {
		out[i].normalize()
	}
	return out, nil
}

// GetVisibleConflict returns conflict id if f may see it, else not found. The
// row is locked for update when forUpdate: resolving takes it once.
func GetVisibleConflict(tx *Tx, f ConflictFilter, id string, forUpdate bool) (ConflictRecord, error) {
	var c ConflictRecord
	err := f.apply(lock(tx, forUpdate).Model(&ConflictRecord{})).Where("id = ?", id).Take(&c).Error
	if err != nil {
		return c, Translate(err, "conflict")
	}
	c.normalize()
	return c, nil
}

// ResolveConflict marks an open conflict resolved. Only one resolution wins:
// the update is conditional on the conflict still being open.
func ResolveConflict(tx *Tx, id, resolution, by string) error {
	res := tx.g.Model(&ConflictRecord{}).Where("id = ? AND status = ?", id, ConflictOpen).
		Updates(map[string]any{"status": ConflictResolved, "resolution": resolution, "resolved_by": by, "resolved_at": tx.now})
	if res.Error != nil {
		return fmt.Errorf("resolve conflict %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.Errorf(domain.CodeAlreadyResolved, "conflict is already resolved")
	}
	var c ConflictRecord
	if err := tx.g.Where("id = ?", id).Take(&c).Error; err != nil {
		return fmt.Errorf("resolved conflict %s: %w", id, err)
	}
	return queueConflictWebhook(tx, domain.EventConflictResolved, c)
}

func (f ConflictFilter) apply(q *gorm.DB) *gorm.DB {
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Table != "" {
		q = q.Where("tbl = ?", f.Table)
	}
	if len(f.Tables) > 0 {
		q = q.Where("tbl IN ?", f.Tables)
	}
	switch {
	case f.All:
		return q
	case f.WriterID != "" && len(f.Territories) == 0:
		return q.Where("user_id = ?", f.WriterID)
	case len(f.Territories) == 0:
		return q.Where("1 = 0")
	}
	cond := `territory_id IN ? OR (territory_id IS NULL AND user_id IN
		(SELECT user_id FROM user_territories WHERE territory_id IN ?))`
	args := []any{f.Territories, f.Territories}
	if f.WriterID != "" {
		cond += " OR user_id = ?"
		args = append(args, f.WriterID)
	}
	return q.Where("("+cond+")", args...)
}

// normalize reads times back in UTC whatever the driver gave.
func (c *ConflictRecord) normalize() {
	c.CreatedAt = c.CreatedAt.UTC()
	c.ResolvedAt = utcPtr(c.ResolvedAt)
}
