package backoffice

import (
	"context"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/export"
	"github.com/fieldsync/fieldsync/store"
	"gorm.io/gorm"
)

// orderExportPage is how many orders an export reads per query, each page in
// a short read transaction of its own: a download of millions of orders
// holds neither a transaction nor more than a page in memory.
const orderExportPage = 1000

// OrderExportColumns are the columns of the order list's export: the JSON
// list's fields, the lines replaced by their count.
var OrderExportColumns = []string{"id", "number", "account_id", "rep_id", "visit_id", "status", "total_cents",
	"currency", "submitted_at", "note", "reason", "line_count", "version", "updated_at"}

// ExportOrders is the order list as one table (docs/api.md "Exports"): the
// same filters, sort and scope as List, every page of it. Role, filters and
// territory are checked now, so a refusal is an HTTP error; the rows are read
// as the file is written, in keyset pages (the list's own cursor).
func (d *OrderDesk) ExportOrders(ctx context.Context, c domain.Caller, q OrderQuery) (export.Table, error) {
	return d.exportOrders(ctx, c, q, orderExportPage)
}

func (d *OrderDesk) exportOrders(ctx context.Context, c domain.Caller, q OrderQuery, size int) (export.Table, error) {
	if err := domain.Authorize(c.Role, domain.ActListOrders); err != nil {
		return export.Table{}, err
	}
	var sel store.OrderQueue
	if err := parseOrderFilters(q, &sel); err != nil {
		return export.Table{}, err
	}
	err := d.db.ReadTx(ctx, func(tx *gorm.DB) error {
		r, err := reachWithin(tx, c, q.TerritoryID)
		sel.All, sel.Territories = r.All, r.Territories
		return err
	})
	if err != nil {
		return export.Table{}, err
	}
	sel.Limit = size
	rows := func(ctx context.Context, emit func(export.Row) error) error {
		page := sel
		for {
			var items []domain.Order
			err := d.db.ReadTx(ctx, func(tx *gorm.DB) error {
				var err error
				items, err = store.ListOrderQueue(tx, page)
				return err
			})
			if err != nil {
				return err
			}
			for _, o := range items {
				if err := emit(orderCells(o)); err != nil {
					return err
				}
			}
			if len(items) < size {
				return nil
			}
			if err := applyCursor(&page, page.Sort, *encodeOrderCursor(page.Sort, items[len(items)-1])); err != nil {
				return err
			}
		}
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
