package store

import (
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// OrderQueue selects the order desk's queue: orders that have been submitted
// (drafts are still the rep's), optionally of one status, in (submitted_at, id)
// order. Territories, unless All, limits them to accounts of those territories.
type OrderQueue struct {
	All         bool
	Territories []string
	Status      string

	AfterSubmitted *time.Time
	AfterID        string
	Limit          int
}

// ListOrderQueue returns one page of the queue.
func ListOrderQueue(tx *Tx, q OrderQueue) ([]domain.Order, error) {
	if !q.All && len(q.Territories) == 0 {
		return []domain.Order{}, nil
	}
	db := tx.g.Model(&orderRow{}).Where("orders.submitted_at IS NOT NULL")
	if !q.All {
		db = db.Joins("JOIN accounts ON accounts.id = orders.account_id").
			Where("accounts.territory_id IN ?", q.Territories)
	}
	if q.Status != "" {
		db = db.Where("orders.status = ?", q.Status)
	}
	if q.AfterSubmitted != nil {
		db = db.Where("(orders.submitted_at > ? OR (orders.submitted_at = ? AND orders.id > ?))",
			*q.AfterSubmitted, *q.AfterSubmitted, q.AfterID)
	}
	var rows []orderRow
	if err := db.Select("orders.*").Order("orders.submitted_at, orders.id").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list order queue: %w", err)
	}
	out := make([]domain.Order, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
