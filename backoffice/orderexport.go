package backoffice

import (
	"context"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/export"
	"github.com/fieldsync/fieldsync/store"
)

// OrderExportColumns are the columns of the order list's export: the JSON
// list's fields, the lines replaced by their count.
var OrderExportColumns = []string{"id", "number", "account_id", "rep_id", "visit_id", "status", "total_cents",
	"currency", "submitted_at", "note", "reason", "line_count", "version", "updated_at"}

// ExportOrders is the order list as one table (docs/api.md "Exports"): the
// same filters, sort and scope as List, every order of it. Role, filters and
// territory are checked now, so a refusal is an HTTP error; the rows are read
// as the file is written, from one query in one read transaction
// (store.EachQueuedOrder): one sort of the queue, one order in memory.
func (d *OrderDesk) ExportOrders(ctx context.Context, c domain.Caller, q OrderQuery) (export.Table, error) {
	if err := domain.Authorize(c.Role, domain.ActListOrders); err != nil {
		return export.Table{}, err
	}
	var sel store.OrderQueue
	if err := parseOrderFilters(q, &sel); err != nil {
		return export.Table{}, err
	}
	err := d.db.ReadTx(ctx, func(tx *store.Tx) error {
		r, err := reachWithin(tx, c, q.TerritoryID)
		sel.All, sel.Territories = r.All, r.Territories
		return err
	})
	if err != nil {
		return export.Table{}, err
	}
	rows := func(ctx context.Context, emit func(export.Row) error) error {
		return d.db.ReadTx(ctx, func(tx *store.Tx) error {
			return store.EachQueuedOrder(tx, sel, func(o domain.Order) error { return emit(orderCells(o)) })
		})
	}
	return export.Table{Name: "orders", Columns: OrderExportColumns, Rows: rows}, nil
}

func orderCells(o domain.Order) export.Row {
	opt := func(s *string) any {
		if s == nil {
			return nil
		}
		return *s
	}
	var submitted any
	if o.SubmittedAt != nil {
		submitted = *o.SubmittedAt
	}
	return export.Row{o.ID, opt(o.Number), o.AccountID, o.RepID, opt(o.VisitID), o.Status, o.TotalCents,
		o.Currency, submitted, opt(o.Note), opt(o.Reason), len(o.Lines), o.Version, o.UpdatedAt}
}
