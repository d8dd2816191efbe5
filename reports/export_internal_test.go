package reports

import (
	"context"
	"slices"
	"testing"

	"github.com/fieldsync/fieldsync/export"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// TestOverdueExport_PagesAreTheReport: read a page of 1, 2, 4 or 100 rows
// at a time, the export lists the overdue report's accounts in its order,
// each once, with the reps of the JSON report.
func TestOverdueExport_PagesAreTheReport(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildWorld(t, db)
		s := newService(t, db)
		ctx := context.Background()
		for _, who := range []string{"manager", "director"} {
			p := params(t, "", "2026-03-20", "")
			page, err := s.Overdue(ctx, w.caller(who), p, "", 1000)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, a := range page.Items {
				reps := ""
				for i, r := range a.Reps {
					if i > 0 {
						reps += "; "
					}
					reps += r.ID
				}
				want = append(want, a.AccountID+" "+a.TerritoryName+" "+reps)
			}
			if len(want) < 3 {
				t.Fatalf("%s: %d overdue accounts; the test needs several pages", who, len(want))
			}
			for _, size := range []int{1, 2, 4, 100} {
				e, err := s.overdueExport(ctx, w.caller(who), p, size)
				if err != nil {
					t.Fatal(err)
				}
				tab := e.Tables[0]
				id, name, reps := slices.Index(tab.Columns, "account_id"), slices.Index(tab.Columns, "territory_name"), slices.Index(tab.Columns, "rep_ids")
				var got []string
				if err := tab.Rows(ctx, func(r export.Row) error {
					got = append(got, r[id].(string)+" "+r[name].(string)+" "+r[reps].(string))
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s, pages of %d:\n got  %q\n want %q", who, size, got, want)
				}
			}
		}
		// A territory outside the caller's scope is refused before any row.
		if _, err := s.OverdueExport(ctx, w.caller("coordinator"), params(t, "", "2026-03-20", "")); err == nil {
			t.Fatal("a coordinator exported the overdue report")
		}
	})
}
