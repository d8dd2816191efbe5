package reports

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

func TestReports_Orders(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildWorld(t, db)
		s := newService(t, db)
		ctx := context.Background()
		p := params(t, "2026-03-01", "2026-03-10", "")

		t.Run("Manager", func(t *testing.T) {
			// T1: confirmed 10000, cancelled 5000, rejected 400 (the draft changed
			// 02-01, outside); T2: submitted 2500 at 23:59 on `to` (delivered
			// 02-28 is outside).
			got, err := s.Orders(ctx, w.caller("manager"), p)
			if err != nil {
				t.Fatal(err)
			}
			checkAmount(t, "totals", got.Totals, StatusAmount{Count: 4, ValueCents: 17900})
			checkStatuses(t, "all", got.ByStatus, map[string]StatusAmount{
				"confirmed": {Count: 1, ValueCents: 10000}, "cancelled": {Count: 1, ValueCents: 5000},
				"rejected": {Count: 1, ValueCents: 400}, "submitted": {Count: 1, ValueCents: 2500}})
			if len(got.Territories) != 2 || got.Territories[0].TerritoryID != w.id("T1") {
				t.Fatalf("territories = %+v, want T1, T2", got.Territories)
			}
			t1 := got.Territories[0]
			checkAmount(t, "T1", StatusAmount{Count: t1.Count, ValueCents: t1.ValueCents}, StatusAmount{Count: 3, ValueCents: 15400})
			checkStatuses(t, "T2", got.Territories[1].ByStatus, map[string]StatusAmount{"submitted": {Count: 1, ValueCents: 2500}})
		})

		t.Run("CoordinatorSeesOwnTerritory", func(t *testing.T) {
			got, err := s.Orders(ctx, w.caller("coordinator"), p)
			if err != nil {
				t.Fatal(err)
			}
			checkAmount(t, "totals", got.Totals, StatusAmount{Count: 3, ValueCents: 15400})
		})

		t.Run("DirectorAndDrafts", func(t *testing.T) {
			got, err := s.Orders(ctx, w.caller("director"), p)
			if err != nil {
				t.Fatal(err)
			}
			checkAmount(t, "totals", got.Totals, StatusAmount{Count: 5, ValueCents: 19134})
			// The draft belongs to the day it last changed.
			got, err = s.Orders(ctx, w.caller("director"), params(t, "2026-02-01", "2026-02-01", ""))
			if err != nil {
				t.Fatal(err)
			}
			checkStatuses(t, "02-01", got.ByStatus, map[string]StatusAmount{"draft": {Count: 1, ValueCents: 800}})
		})

		t.Run("Rep/ErrForbidden", func(t *testing.T) {
			_, err := s.Orders(ctx, w.caller("rep1"), p)
			if domain.ErrorCode(err) != domain.CodeForbidden {
				t.Fatalf("error = %v, want forbidden", err)
			}
		})
	})
}

func checkAmount(t *testing.T, what string, got, want StatusAmount) {
	t.Helper()
	if got.Count != want.Count || got.ValueCents != want.ValueCents {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func checkStatuses(t *testing.T, what string, got []StatusAmount, want map[string]StatusAmount) {
	t.Helper()
	if len(got) != len(orderStatuses) {
		t.Fatalf("%s: %d statuses, want all %d", what, len(got), len(orderStatuses))
	}
	for i, sa := range got {
		if sa.Status != orderStatuses[i] {
			t.Errorf("%s: status %d = %s, want %s", what, i, sa.Status, orderStatuses[i])
		}
		checkAmount(t, what+" "+sa.Status, sa, want[sa.Status])
	}
}
