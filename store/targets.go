package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"gorm.io/gorm/clause"
)

type targetRow struct {
	ID           string `gorm:"primaryKey"`
	Subject      string
	TerritoryID  *string
	RepID        *string
	Period       string
	PeriodStart  string
	PeriodEnd    string
	RevenueCents int64
	Visits       *int64
	NewAccounts  *int64
	UpdatedBy    string
	Version      int64
	UpdatedAt    time.Time
}

func (targetRow) TableName() string { return "targets" }

func (r targetRow) domain() domain.Target {
	return domain.Target{ID: r.ID, TerritoryID: r.TerritoryID, RepID: r.RepID, Period: r.Period,
		PeriodStart: r.PeriodStart, PeriodEnd: r.PeriodEnd, RevenueCents: r.RevenueCents, Visits: r.Visits,
		NewAccounts: r.NewAccounts, UpdatedBy: r.UpdatedBy, Meta: meta(r.Version, r.UpdatedAt)}
}

type targetHistoryRow struct {
	TargetID        string `gorm:"primaryKey"`
	Version         int64  `gorm:"primaryKey"`
	ChangedBy       string
	ChangedAt       time.Time
	OldRevenueCents *int64
	OldVisits       *int64
	OldNewAccounts  *int64
	NewRevenueCents int64
	NewVisits       *int64
	NewNewAccounts  *int64
}

func (targetHistoryRow) TableName() string { return "target_history" }

// SetTarget creates the target of t's subject and period, or changes its
// figures, recording the change in the target's history and the change log in
// one transaction. The subject must exist (a rep target's user must be a rep):
// otherwise a field error. Setting the figures a target already has changes
// nothing (no new version, no history entry). created tells a create from a
// change. t.ID is used only when the target is created.
func (db *DB) SetTarget(ctx context.Context, actorID string, t domain.Target) (out domain.Target, created bool, err error) {
	err = db.InTx(ctx, func(tx *Tx) error {
		if err := checkTargetSubject(tx, t); err != nil {
			return err
		}
		now := tx.now
		cur, found, err := lockTarget(tx, t.Subject(), t.Period)
		if err != nil {
			return err
		}
		if !found {
			r := targetRow{ID: t.ID, Subject: t.Subject(), TerritoryID: t.TerritoryID, RepID: t.RepID,
				Period: t.Period, PeriodStart: t.PeriodStart, PeriodEnd: t.PeriodEnd, RevenueCents: t.RevenueCents,
				Visits: t.Visits, NewAccounts: t.NewAccounts, UpdatedBy: actorID, Version: 1, UpdatedAt: now}
			// A concurrent create of the same subject and period inserts nothing
			// here; the row it made is then locked and changed like any other.
			res := tx.g.Clauses(clause.OnConflict{DoNothing: true}).Create(&r)
			if res.Error != nil {
				return fmt.Errorf("create target: %w", res.Error)
			}
			if res.RowsAffected == 1 {
				out, created = r.domain(), true
				return recordTarget(tx, r, nil)
			}
			if cur, found, err = lockTarget(tx, t.Subject(), t.Period); err != nil {
				return err
			} else if !found {
				return errors.New("create target: the conflicting target vanished")
			}
		}
		if cur.RevenueCents == t.RevenueCents && eqInt(cur.Visits, t.Visits) && eqInt(cur.NewAccounts, t.NewAccounts) {
			out = cur.domain()
			return nil
		}
		old := cur
		cur.RevenueCents, cur.Visits, cur.NewAccounts = t.RevenueCents, t.Visits, t.NewAccounts
		cur.UpdatedBy, cur.Version, cur.UpdatedAt = actorID, cur.Version+1, now
		if err := tx.g.Model(&targetRow{}).Where("id = ?", cur.ID).Updates(map[string]any{
			"revenue_cents": cur.RevenueCents, "visits": cur.Visits, "new_accounts": cur.NewAccounts,
			"updated_by": cur.UpdatedBy, "version": cur.Version, "updated_at": cur.UpdatedAt}).Error; err != nil {
			return fmt.Errorf("change target %s: %w", cur.ID, err)
		}
		out = cur.domain()
		return recordTarget(tx, cur, &old)
	})
	return out, created, err
}

func eqInt(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// lockTarget reads the target of a subject and period, locked to commit.
func lockTarget(tx *Tx, subject, period string) (targetRow, bool, error) {
	var rows []targetRow
	q := tx.g.Where("subject = ? AND period = ?", subject, period)
	if tx.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Find(&rows).Error; err != nil {
		return targetRow{}, false, fmt.Errorf("read target: %w", err)
	}
	if len(rows) == 0 {
		return targetRow{}, false, nil
	}
	return rows[0], true, nil
}

// recordTarget appends the history entry of a create (old nil) or change and
// logs the row for the devices that see it.
func recordTarget(tx *Tx, r targetRow, old *targetRow) error {
	h := targetHistoryRow{TargetID: r.ID, Version: r.Version, ChangedBy: r.UpdatedBy, ChangedAt: tx.now,
		NewRevenueCents: r.RevenueCents, NewVisits: r.Visits, NewNewAccounts: r.NewAccounts}
	if old != nil {
		h.OldRevenueCents, h.OldVisits, h.OldNewAccounts = &old.RevenueCents, old.Visits, old.NewAccounts
	}
	if err := tx.g.Create(&h).Error; err != nil {
		return fmt.Errorf("target history of %s: %w", r.ID, err)
	}
	return LogChange(tx, Change{Table: domain.TableTargets, RowID: r.ID, Version: r.Version,
		Keys: domain.TargetKeys(r.domain()), Created: old == nil})
}

// checkTargetSubject answers a field error when the territory or rep a target
// names does not exist, or the user is not a rep.
func checkTargetSubject(tx *Tx, t domain.Target) error {
	if t.TerritoryID != nil {
		var n int64
		if err := tx.g.Model(&territoryRow{}).Where("id = ?", *t.TerritoryID).Count(&n).Error; err != nil {
			return fmt.Errorf("check target territory: %w", err)
		}
		if n == 0 {
			return domain.Invalid(domain.FieldError{Field: "territory_id", Message: "does not exist"})
		}
	}
	if t.RepID != nil {
		var roles []string
		if err := tx.g.Model(&userRow{}).Where("id = ?", *t.RepID).Pluck("role", &roles).Error; err != nil {
			return fmt.Errorf("check target rep: %w", err)
		}
		if len(roles) == 0 || roles[0] != string(domain.RoleRep) {
			return domain.Invalid(domain.FieldError{Field: "rep_id", Message: "must be a rep"})
		}
	}
	return nil
}

// TargetFilter selects targets. Territories, when not nil, restricts the list
// to the targets of those territories and of the reps assigned to one of them
// (a manager's subtree); nil means the whole organisation. Period, TerritoryID
// and RepID narrow further when set. After is the last id of the previous page.
type TargetFilter struct {
	Territories []string
	Period      string
	TerritoryID string
	RepID       string
	ID          string
	After       string
	Limit       int
}

// ListTargets returns up to f.Limit targets in id order.
func (db *DB) ListTargets(ctx context.Context, f TargetFilter) ([]domain.Target, error) {
	var rows []targetRow
	q := db.Gorm.WithContext(ctx).Model(&targetRow{})
	if f.Territories != nil {
		if len(f.Territories) == 0 {
			return []domain.Target{}, nil
		}
		q = q.Where("(territory_id IN ? OR rep_id IN (SELECT user_id FROM user_territories WHERE territory_id IN ?))",
			f.Territories, f.Territories)
	}
	if f.Period != "" {
		q = q.Where("period = ?", f.Period)
	}
	if f.TerritoryID != "" {
		q = q.Where("territory_id = ?", f.TerritoryID)
	}
	if f.RepID != "" {
		q = q.Where("rep_id = ?", f.RepID)
	}
	if f.ID != "" {
		q = q.Where("id = ?", f.ID)
	}
	if f.After != "" {
		q = q.Where("id > ?", f.After)
	}
	if err := q.Order("id").Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list targets: %w", err)
	}
	out := make([]domain.Target, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// TargetHistory returns the changes of target id, oldest first, when the
// target exists and lies in the filter's territories (nil: anywhere); else
// not found.
func (db *DB) TargetHistory(ctx context.Context, territories []string, id string) ([]domain.TargetChange, error) {
	list, err := db.ListTargets(ctx, TargetFilter{Territories: territories, ID: id, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, domain.Errorf(domain.CodeNotFound, "target not found")
	}
	var rows []targetHistoryRow
	if err := db.Gorm.WithContext(ctx).Where("target_id = ?", id).Order("version").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("target history: %w", err)
	}
	out := make([]domain.TargetChange, len(rows))
	for i, r := range rows {
		c := domain.TargetChange{TargetID: r.TargetID, Version: r.Version, ChangedBy: r.ChangedBy,
			ChangedAt: r.ChangedAt.UTC(), New: domain.TargetValues{RevenueCents: r.NewRevenueCents,
				Visits: r.NewVisits, NewAccounts: r.NewNewAccounts}}
		if r.OldRevenueCents != nil {
			c.Old = &domain.TargetValues{RevenueCents: *r.OldRevenueCents, Visits: r.OldVisits, NewAccounts: r.OldNewAccounts}
		}
		out[i] = c
	}
	return out, nil
}

// UserSubtree returns the territories the one visibility rule gives a user
// whose reach is a subtree (a manager's), sorted.
func (db *DB) UserSubtree(ctx context.Context, userID string) ([]string, error) {
	v, err := LoadVisibility(db.Autocommit(ctx), VisibilityQuery{UserID: userID})
	if err != nil {
		return nil, err
	}
	if v.Territories == nil {
		return []string{}, nil
	}
	return v.Territories, nil
}

// TerritoryExists reports whether a territory with the id exists.
func (db *DB) TerritoryExists(ctx context.Context, id string) (bool, error) {
	var n int64
	if err := db.Gorm.WithContext(ctx).Model(&territoryRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return false, fmt.Errorf("territory exists: %w", err)
	}
	return n > 0, nil
}
