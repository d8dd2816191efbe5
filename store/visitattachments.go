package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// A visit with its attachments, as the managers' dashboard shows it.

// VisitAttachments is a visit, the names the dashboard shows beside it, the
// scope keys it has now (its account's) and its attachments, oldest first.
type VisitAttachments struct {
	Visit       domain.Visit
	AccountName string
	RepName     string
	Keys        []string
	Attachments []domain.Attachment
}

// VisitWithAttachments reads visit id with its attachments (pending and
// stored); not_found when the visit does not exist.
func (db *DB) VisitWithAttachments(ctx context.Context, id string) (VisitAttachments, error) {
	var out VisitAttachments
	tx := db.Gorm.WithContext(ctx)
	var v visitRow
	if err := tx.Where("id = ?", id).Take(&v).Error; err != nil {
		return out, Translate(err, "visit")
	}
	var acc accountRow
	if err := tx.Select("name", "territory_id", "owner_id").Where("id = ?", v.AccountID).Take(&acc).Error; err != nil {
		return out, Translate(err, "account")
	}
	var rep userRow
	if err := tx.Select("name").Where("id = ?", v.RepID).Take(&rep).Error; err != nil {
		return out, Translate(err, "user")
	}
	var rows []attachmentRow
	if err := tx.Where("parent_table = ? AND parent_id = ?", domain.TableVisits, id).
		Order("captured_at, id").Find(&rows).Error; err != nil {
		return out, fmt.Errorf("attachments of visit %s: %w", id, err)
	}
	out = VisitAttachments{Visit: v.domain(), AccountName: acc.Name, RepName: rep.Name,
		Keys: domain.AccountKeys(acc.TerritoryID, acc.OwnerID)}
	for _, r := range rows {
		out.Attachments = append(out.Attachments, r.domain())
	}
	return out, nil
}

// VisitAttachmentSummary is one visit of the dashboard's list of visits with
// stored attachments.
type VisitAttachmentSummary struct {
	VisitID     string
	AccountName string
	RepName     string
	Status      string
	PlannedAt   time.Time // UTC
	Photos      []string  // ids of the stored photos, oldest first, at most photosPerSummary
	Count       int       // stored attachments of any kind
}

const photosPerSummary = 4

// RecentVisitsWithAttachments lists the visits with stored attachments whose
// accounts carry one of keys (every account when all), the visit with the
// most recently stored attachment first, at most limit.
func (db *DB) RecentVisitsWithAttachments(ctx context.Context, all bool, keys []string, limit int) ([]VisitAttachmentSummary, error) {
	out := []VisitAttachmentSummary{}
	var territories, owners []string
	for _, k := range keys {
		if id, ok := strings.CutPrefix(k, domain.TerritoryKey("")); ok {
			territories = append(territories, id)
		} else if id, ok := strings.CutPrefix(k, domain.OwnerKey("")); ok {
			owners = append(owners, id)
		}
	}
	if !all && len(territories) == 0 && len(owners) == 0 {
		return out, nil
	}
	// The most recently stored attachments first (index attachments_recent),
	// a bounded window of them: the visits they hang on, in that order.
	q := db.Gorm.WithContext(ctx).Table("attachments a").Select("a.parent_id").
		Joins("JOIN accounts ac ON ac.id = a.account_id").
		Where("a.parent_table = ? AND a.status = ?", domain.TableVisits, domain.AttachmentStored)
	switch {
	case all:
	case len(territories) > 0 && len(owners) > 0:
		q = q.Where("(ac.territory_id IN ? OR ac.owner_id IN ?)", territories, owners)
	case len(territories) > 0:
		q = q.Where("ac.territory_id IN ?", territories)
	default:
		q = q.Where("ac.owner_id IN ?", owners)
	}
	var recent []string
	if err := q.Order("a.updated_at DESC, a.id DESC").Limit(limit*photosPerSummary*4).Pluck("a.parent_id", &recent).Error; err != nil {
		return nil, fmt.Errorf("visits with attachments: %w", err)
	}
	var ids []string
	seen := map[string]bool{}
	for _, id := range recent {
		if !seen[id] && len(ids) < limit {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var counts []struct {
		ParentID string
		N        int
	}
	if err := db.Gorm.WithContext(ctx).Model(&attachmentRow{}).Select("parent_id, COUNT(*) AS n").
		Where("parent_table = ? AND parent_id IN ? AND status = ?", domain.TableVisits, ids, domain.AttachmentStored).
		Group("parent_id").Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("visits with attachments: %w", err)
	}
	var visits []struct {
		ID, Status, AccountName, RepName string
		PlannedAt                        time.Time
	}
	if err := db.Gorm.WithContext(ctx).Table("visits v").
		Select("v.id, v.status, v.planned_at, ac.name AS account_name, u.name AS rep_name").
		Joins("JOIN accounts ac ON ac.id = v.account_id").Joins("JOIN users u ON u.id = v.rep_id").
		Where("v.id IN ?", ids).Scan(&visits).Error; err != nil {
		return nil, fmt.Errorf("visits with attachments: %w", err)
	}
	var photos []struct{ ID, ParentID string }
	if err := db.Gorm.WithContext(ctx).Model(&attachmentRow{}).Select("id, parent_id").
		Where("parent_table = ? AND parent_id IN ? AND status = ? AND kind = ?", domain.TableVisits, ids, domain.AttachmentStored, domain.KindPhoto).
		Order("captured_at, id").Scan(&photos).Error; err != nil {
		return nil, fmt.Errorf("photos of visits: %w", err)
	}
	byID := map[string]*VisitAttachmentSummary{}
	for _, id := range ids {
		out = append(out, VisitAttachmentSummary{VisitID: id})
	}
	for i := range out {
		byID[out[i].VisitID] = &out[i]
	}
	for _, n := range counts {
		byID[n.ParentID].Count = n.N
	}
	for _, v := range visits {
		s := byID[v.ID]
		s.AccountName, s.RepName, s.Status = v.AccountName, v.RepName, v.Status
		s.PlannedAt = v.PlannedAt.UTC()
	}
	for _, p := range photos {
		if s := byID[p.ParentID]; len(s.Photos) < photosPerSummary {
			s.Photos = append(s.Photos, p.ID)
		}
	}
	return out, nil
}
