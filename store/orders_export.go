package store

import (
	"fmt"

	"github.com/fieldsync/fieldsync/domain"
)

// EachQueuedOrder calls fn with every order of the queue q selects, in q.Sort
// order (the keyset and Limit of q are ignored), as the database returns them:
// one query whose rows are read one at a time, so an export of millions of
// orders holds one order in memory and sorts once (paging with the keyset
// costs a sort of the whole queue per page where no index gives its order).
// An error from fn stops the read and is returned.
func EachQueuedOrder(tx *Tx, q OrderQueue, fn func(domain.Order) error) error {
	if !q.All && len(q.Territories) == 0 {
		return nil
	}
	db := tx.g.Model(&orderRow{}).Where("orders.submitted_at IS NOT NULL")
	if !q.All {
		db = db.Joins("JOIN accounts ON accounts.id = orders.account_id").
			Where("accounts.territory_id IN ?", q.Territories)
	}
	for _, f := range []struct {
		cond string
		set  bool
		arg  any
	}{
		{"orders.status = ?", q.Status != "", q.Status},
		{"orders.number = ?", q.Number != "", q.Number},
		{"orders.account_id = ?", q.AccountID != "", q.AccountID},
		{"orders.rep_id = ?", q.RepID != "", q.RepID},
		{"orders.submitted_at >= ?", q.SubmittedFrom != nil, q.SubmittedFrom},
		{"orders.submitted_at < ?", q.SubmittedTo != nil, q.SubmittedTo},
		{"orders.total_cents >= ?", q.MinTotal != nil, q.MinTotal},
		{"orders.total_cents <= ?", q.MaxTotal != nil, q.MaxTotal},
	} {
		if f.set {
			db = db.Where(f.cond, f.arg)
		}
	}
	order := "orders.submitted_at, orders.id"
	switch q.Sort {
	case OrderSortSubmittedDesc:
		order = "orders.submitted_at DESC, orders.id DESC"
	case OrderSortTotal:
		order = "orders.total_cents, orders.id"
	case OrderSortTotalDesc:
		order = "orders.total_cents DESC, orders.id DESC"
	}
	rows, err := db.Select("orders.*").Order(order).Rows()
	if err != nil {
		return fmt.Errorf("read order queue: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r orderRow
		if err := tx.g.ScanRows(rows, &r); err != nil {
			return fmt.Errorf("read order queue: %w", err)
		}
		if err := fn(r.domain()); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read order queue: %w", err)
	}
	return nil
}
