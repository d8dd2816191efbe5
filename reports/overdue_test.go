package reports

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

func TestReports_Overdue(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildWorld(t, db)
		s := newService(t, db)
		ctx := context.Background()

		t.Run("Manager", func(t *testing.T) {
			// As of 03-10: a3 and b3 never visited (before `to`), then b2 (last
			// 03-01: 9 days, 4 over), a1 (03-04: 6 days, 1 over).
			page, err := s.Overdue(ctx, w.caller("manager"), params(t, "", "2026-03-10", ""), "", 100)
			if err != nil {
				t.Fatal(err)
			}
			never := []string{w.id("a3"), w.id("b3")}
			if never[0] > never[1] {
				never[0], never[1] = never[1], never[0]
			}
			checkOrder(t, page.Items, append(never, w.id("b2"), w.id("a1")))
			if page.NextCursor != nil {
				t.Errorf("next_cursor = %q, want null on the last page", *page.NextCursor)
			}
			b2 := page.Items[2]
			if b2.LastVisitDate.String() != "2026-03-01" || *b2.DaysSince != 9 || *b2.DaysOverdue != 4 ||
				b2.CadenceDays != 5 || b2.TerritoryName != "Territory T2" {
				t.Errorf("b2 = %+v", b2)
			}
			if len(b2.Reps) != 1 || b2.Reps[0].ID != w.id("rep2") {
				t.Errorf("b2 reps = %+v, want rep2 (T2's rep)", b2.Reps)
			}
			for _, it := range page.Items {
				if it.AccountID == w.id("b3") && (len(it.Reps) != 1 || it.Reps[0].ID != w.id("rep1")) {
					t.Errorf("b3 reps = %+v, want its owner rep1", it.Reps)
				}
				if it.AccountID == w.id("a3") && (it.LastVisitAt != nil || it.DaysOverdue != nil) {
					t.Errorf("a3 = %+v, want no last visit (its visit is after `to`)", it)
				}
			}
		})

		t.Run("PagesAcrossClasses", func(t *testing.T) {
			// As of 03-20 for the director: b3 never; b2 14 over; a1 11; b1 (C,
			// 02-18) and c1 (A, 03-05) both 10 over, the earlier visit first; a5
			// 8. a2 (10 days, B) and a3 (03-11, C) are not overdue.
			want := []string{w.id("b3"), w.id("b2"), w.id("a1"), w.id("b1"), w.id("c1"), w.id("a5")}
			for _, size := range []int{1, 2, 4, 6, 100} {
				var got []OverdueAccount
				cursor := ""
				for pages := 0; pages < 10; pages++ {
					page, err := s.Overdue(ctx, w.caller("director"), params(t, "", "2026-03-20", ""), cursor, size)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, page.Items...)
					if page.NextCursor == nil {
						break
					}
					cursor = *page.NextCursor
				}
				checkOrder(t, got, want)
			}
		})

		t.Run("BadCursor", func(t *testing.T) {
			_, err := s.Overdue(ctx, w.caller("manager"), params(t, "", "2026-03-10", ""), "not-a-cursor", 10)
			if domain.ErrorCode(err) != domain.CodeBadRequest {
				t.Fatalf("error = %v, want bad_request", err)
			}
		})

		t.Run("Coordinator/ErrForbidden", func(t *testing.T) {
			_, err := s.Overdue(ctx, w.caller("coordinator"), params(t, "", "2026-03-10", ""), "", 10)
			if domain.ErrorCode(err) != domain.CodeForbidden {
				t.Fatalf("error = %v, want forbidden", err)
			}
		})
	})
}

func checkOrder(t *testing.T, got []OverdueAccount, want []string) {
	t.Helper()
	ids := make([]string, len(got))
	for i, a := range got {
		ids[i] = a.AccountID
	}
	if len(ids) != len(want) {
		t.Fatalf("got %d accounts %v, want %d %v", len(ids), ids, len(want), want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("account %d = %s, want %s (got %v)", i, ids[i], want[i], ids)
		}
	}
}
