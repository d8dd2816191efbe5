package store

import (
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// Sort orders of the order queue; the id breaks ties in the same direction.
const (
	OrderSortSubmitted     = "submitted_at"
	OrderSortSubmittedDesc = "-submitted_at"
	OrderSortTotal         = "total_cents"
	OrderSortTotalDesc     = "-total_cents"
)

// OrderQueue selects the order desk's queue: orders that have been submitted
// (drafts are still the rep's), filtered, in Sort order (submitted_at by
// default). Territories, unless All, limits them to accounts of those
// territories.
type OrderQueue struct {
	All         bool
	Territories []string
	Status      string

	Number        string
	AccountID     string
	RepID         string
	SubmittedFrom *time.Time // inclusive
	SubmittedTo   *time.Time // exclusive
	MinTotal      *int64
	MaxTotal      *int64
	Sort          string

	// The page starts after the item with these sort key values.
	AfterSubmitted *time.Time
	AfterTotal     *int64
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
	if q.Number != "" {
		db = db.Where("orders.number = ?", q.Number)
	}
	if q.AccountID != "" {
		db = db.Where("orders.account_id = ?", q.AccountID)
	}
	if q.RepID != "" {
		db = db.Where("orders.rep_id = ?", q.RepID)
	}
	if q.SubmittedFrom != nil {
		db = db.Where("orders.submitted_at >= ?", *q.SubmittedFrom)
	}
	if q.SubmittedTo != nil {
		db = db.Where("orders.submitted_at < ?", *q.SubmittedTo)
	}
	if q.MinTotal != nil {
		db = db.Where("orders.total_cents >= ?", *q.MinTotal)
	}
	if q.MaxTotal != nil {
		db = db.Where("orders.total_cents <= ?", *q.MaxTotal)
	}
	col, cmp, dir := "orders.submitted_at", ">", ""
	var after any
	if q.AfterSubmitted != nil {
		after = *q.AfterSubmitted
	}
	switch q.Sort {
	case OrderSortSubmittedDesc:
		cmp, dir = "<", " DESC"
	case OrderSortTotal, OrderSortTotalDesc:
		col, after = "orders.total_cents", nil
		if q.AfterTotal != nil {
			after = *q.AfterTotal
		}
		if q.Sort == OrderSortTotalDesc {
			cmp, dir = "<", " DESC"
		}
	}
	if after != nil {
		db = db.Where(fmt.Sprintf("(%[1]s %[2]s ? OR (%[1]s = ? AND orders.id %[2]s ?))", col, cmp), after, after, q.AfterID)
	}
	var rows []orderRow
	if err := db.Select("orders.*").Order(col + dir + ", orders.id" + dir).Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list order queue: %w", err)
	}
	out := make([]domain.Order, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
