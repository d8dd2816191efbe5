package reports

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// The expected figures below are worked out by hand from the world in
// fixture_test.go; the comments give the arithmetic.
var (
	// T1: active a1 A, a2 B, a3 C, a5 B. Visited in period: a1 (03-04), a2
	// (03-10 23:30), a5 (03-02, before it moved here); a3's only visit is checked
	// in at 03-11 00:00, after `to`. Planned in period: a1 03-04, a2 03-10, a2
	// cancelled 03-03, a3 03-10, a4 03-05, a5 03-02 = 6. Completed: a1, a2, a4
	// (inactive account: the visit still counts), a5 = 4. Required: 10/5 + 2×10/10
	// + 10/20 = 4.5; attainment 4/4.5 = 88.9%. Overdue: a1 (10-4 = 6 > 5), a3
	// (none) = 2. Orders: o1 10000 (cancelled, rejected and draft excluded); per
	// visit 1/4 = 0.25 → 0.3.
	wantT1 = Metrics{Accounts: 4, AccountsVisited: 3, CoveragePct: 75, VisitsPlanned: 6, VisitsCompleted: 4,
		VisitsRequired: 4.5, AttainmentPct: 88.9, OverdueAccounts: 2, Orders: 1, RevenueCents: 10000, OrdersPerVisit: 0.3}
	// T2: b1 C (last 02-18: 20 days, not > 20), b2 A (03-01 00:00, first instant
	// of the period; 9 > 5 overdue), b3 A (checked in, never completed: overdue).
	// Planned: b3 = 1 (b2 planned 02-28). Required 10/20 + 2×10/5 = 4.5.
	wantT2 = Metrics{Accounts: 3, AccountsVisited: 1, CoveragePct: 33.3, VisitsPlanned: 1, VisitsCompleted: 1,
		VisitsRequired: 4.5, AttainmentPct: 22.2, OverdueAccounts: 2, Orders: 1, RevenueCents: 2500, OrdersPerVisit: 1}
	// T3: c1 A visited 03-05: 10-5 = 5, not > 5, so not overdue. Required 2.
	wantT3 = Metrics{Accounts: 1, AccountsVisited: 1, CoveragePct: 100, VisitsPlanned: 1, VisitsCompleted: 1,
		VisitsRequired: 2, AttainmentPct: 50, OverdueAccounts: 0, Orders: 1, RevenueCents: 1234, OrdersPerVisit: 1}
	// Manager: T1+T2. 4/7 = 57.1%; 5/9 = 55.6%; 2/5 = 0.4.
	wantManager = Metrics{Accounts: 7, AccountsVisited: 4, CoveragePct: 57.1, VisitsPlanned: 7, VisitsCompleted: 5,
		VisitsRequired: 9, AttainmentPct: 55.6, OverdueAccounts: 4, Orders: 2, RevenueCents: 12500, OrdersPerVisit: 0.4}
	// Director: all. 5/8 = 62.5%; 6/11 = 54.5%; 3/6 = 0.5.
	wantDirector = Metrics{Accounts: 8, AccountsVisited: 5, CoveragePct: 62.5, VisitsPlanned: 8, VisitsCompleted: 6,
		VisitsRequired: 11, AttainmentPct: 54.5, OverdueAccounts: 4, Orders: 3, RevenueCents: 13734, OrdersPerVisit: 0.5}
	// rep1: T1's accounts; own visits planned a1, a2, a2, a3, a4 = 5, completed
	// a1, a2, a4 = 3 (3/4.5 = 66.7%); o1; 1/3 = 0.3.
	wantRep1 = Metrics{Accounts: 4, AccountsVisited: 3, CoveragePct: 75, VisitsPlanned: 5, VisitsCompleted: 3,
		VisitsRequired: 4.5, AttainmentPct: 66.7, OverdueAccounts: 2, Orders: 1, RevenueCents: 10000, OrdersPerVisit: 0.3}
	// rep2: T2's accounts; own visits planned a5 (now in T1, still in scope), b3
	// = 2; completed a5, b2 = 2 (44.4%); o3; 1/2.
	wantRep2 = Metrics{Accounts: 3, AccountsVisited: 1, CoveragePct: 33.3, VisitsPlanned: 2, VisitsCompleted: 2,
		VisitsRequired: 4.5, AttainmentPct: 44.4, OverdueAccounts: 2, Orders: 1, RevenueCents: 2500, OrdersPerVisit: 0.5}
)

func TestReports_Coverage(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildWorld(t, db)
		s := newService(t, db)
		ctx := context.Background()

		t.Run("Manager", func(t *testing.T) {
			got, err := s.Coverage(ctx, w.caller("manager"), params(t, "2026-03-01", "2026-03-10", ""))
			if err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, "totals", got.Totals, wantManager)
			if len(got.Territories) != 2 {
				t.Fatalf("territories = %+v, want T1 and T2 (R holds no accounts)", got.Territories)
			}
			checkMetrics(t, "T1", got.Territories[0].Metrics, wantT1)
			checkMetrics(t, "T2", got.Territories[1].Metrics, wantT2)
			if got.Territories[0].TerritoryID != w.id("T1") || *got.Territories[0].ParentID != w.id("R") {
				t.Errorf("first territory = %+v, want T1 under R", got.Territories[0])
			}
			if len(got.Reps) != 2 || got.Reps[0].RepID != w.id("rep1") || got.Reps[1].RepID != w.id("rep2") {
				t.Fatalf("reps = %+v, want rep1 and rep2", got.Reps)
			}
			checkMetrics(t, "rep1", got.Reps[0].Metrics, wantRep1)
			checkMetrics(t, "rep2", got.Reps[1].Metrics, wantRep2)
			if got.Days != 10 || got.From.String() != "2026-03-01" || got.To.String() != "2026-03-10" {
				t.Errorf("period = %s..%s (%d days)", got.From, got.To, got.Days)
			}
		})

		t.Run("Director", func(t *testing.T) {
			got, err := s.Coverage(ctx, w.caller("director"), params(t, "2026-03-01", "2026-03-10", ""))
			if err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, "totals", got.Totals, wantDirector)
			if len(got.Territories) != 3 || len(got.Reps) != 3 {
				t.Fatalf("got %d territories, %d reps; want 3, 3", len(got.Territories), len(got.Reps))
			}
			checkMetrics(t, "T3", got.Territories[2].Metrics, wantT3)
			checkMetrics(t, "rep3", got.Reps[2].Metrics, wantT3)
		})

		t.Run("TerritoryFilter", func(t *testing.T) {
			got, err := s.Coverage(ctx, w.caller("manager"), params(t, "2026-03-01", "2026-03-10", w.id("T2")))
			if err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, "totals", got.Totals, wantT2)
			// rep2's visit to a5 is outside T2 now: planned b3 only; completed b2.
			want := wantT2
			if len(got.Reps) != 1 {
				t.Fatalf("reps = %+v, want rep2", got.Reps)
			}
			checkMetrics(t, "rep2", got.Reps[0].Metrics, want)
		})

		t.Run("RegionFilterEqualsScope", func(t *testing.T) {
			got, err := s.Coverage(ctx, w.caller("director"), params(t, "2026-03-01", "2026-03-10", w.id("R")))
			if err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, "totals", got.Totals, wantManager)
		})

		t.Run("PeriodWithoutVisits", func(t *testing.T) {
			// 7 days in 2025: nothing happened, every account is overdue (no
			// visit before `to`). Required: 3×7/5 + 2×7/10 + 2×7/20 = 6.3.
			got, err := s.Coverage(ctx, w.caller("manager"), params(t, "2025-01-01", "2025-01-07", ""))
			if err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, "totals", got.Totals, Metrics{Accounts: 7, VisitsRequired: 6.3, OverdueAccounts: 7})
		})

		t.Run("OneDayPeriod", func(t *testing.T) {
			// 03-10 alone: a2 visited (23:30); b1 last visit 02-18 is 20 days
			// before: not overdue; b2's 03-01 is 9 > 5. Orders: o3 at 23:59.
			// Required 3/5 + 2/10 + 2/20 = 0.9; attainment 1/0.9 = 111.1%.
			got, err := s.Coverage(ctx, w.caller("manager"), params(t, "2026-03-10", "2026-03-10", ""))
			if err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, "totals", got.Totals, Metrics{Accounts: 7, AccountsVisited: 1, CoveragePct: 14.3,
				VisitsPlanned: 2, VisitsCompleted: 1, VisitsRequired: 0.9, AttainmentPct: 111.1,
				OverdueAccounts: 4, Orders: 1, RevenueCents: 2500, OrdersPerVisit: 1})
		})
	})
}

func TestReports_CoverageAccess(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildWorld(t, db)
		s := newService(t, db)
		p := params(t, "2026-03-01", "2026-03-10", "")
		for _, tc := range []struct {
			caller, territory string
			want              domain.Code
		}{
			{"rep1", "", domain.CodeForbidden},
			{"coordinator", "", domain.CodeForbidden},
			{"ops", "", domain.CodeForbidden},
			{"manager", "T3", domain.CodeNotFound},
			{"manager", "unknown", domain.CodeNotFound},
		} {
			t.Run(tc.caller+"/"+string(tc.want), func(t *testing.T) {
				q := p
				if tc.territory == "unknown" {
					q.TerritoryID = "00000000-0000-0000-0000-000000000000"
				} else if tc.territory != "" {
					q.TerritoryID = w.id(tc.territory)
				}
				_, err := s.Coverage(context.Background(), w.caller(tc.caller), q)
				if got := domain.ErrorCode(err); got != tc.want {
					t.Fatalf("error = %v, want code %s", err, tc.want)
				}
			})
		}
	})
}

func checkMetrics(t *testing.T, what string, got, want Metrics) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}
