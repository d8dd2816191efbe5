package backoffice

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/export"
	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// TestExportOrders_IsTheList: in every sort and with a filter, the export
// lists the queue of List, every page of it, in its order.
func TestExportOrders_IsTheList(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := fixtures.Generate(ctx, db, fixtures.Options{Demo: true, Seed: 1, Now: time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		u, err := store.GetUserByEmail(db.Autocommit(ctx), "coordinator@demo.fieldsync.dev")
		if err != nil {
			t.Fatal(err)
		}
		who := domain.Caller{UserID: u.ID, Role: u.Role}
		d := NewOrderDesk(db)
		for _, q := range []OrderQuery{{}, {Sort: store.OrderSortSubmittedDesc}, {Sort: store.OrderSortTotal},
			{Sort: store.OrderSortTotalDesc, Status: domain.OrderStatuses()[1]}} {
			var want []string
			cursor := ""
			for {
				lq := q
				lq.Cursor, lq.Limit = cursor, 1000
				page, err := d.List(ctx, who, lq)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Items {
					want = append(want, o.ID)
				}
				if page.NextCursor == nil {
					break
				}
				cursor = *page.NextCursor
			}
			if len(want) < 4 {
				t.Fatalf("%+v: %d orders; the test needs several pages", q, len(want))
			}
			tab, err := d.ExportOrders(ctx, who, q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if err := tab.Rows(ctx, func(r export.Row) error { got = append(got, r[0].(string)); return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%+v: %d orders, the list has %d", q, len(got), len(want))
			}
		}
		if _, err := d.ExportOrders(ctx, domain.Caller{UserID: u.ID, Role: domain.RoleRep}, OrderQuery{}); domain.ErrorCode(err) != domain.CodeForbidden {
			t.Fatalf("a rep's export: %v", err)
		}
		if _, err := d.ExportOrders(ctx, who, OrderQuery{Sort: "name"}); domain.ErrorCode(err) != domain.CodeBadRequest {
			t.Fatalf("a bad sort: %v", err)
		}
	})
}
