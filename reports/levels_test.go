package reports

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// One level of the tree at a time (docs/reports.md "Levels and pages"): the
// rows of a level add up their subtrees, the totals stay those of the scope,
// and the reps' pages together list every rep once.
func TestReports_Levels(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildWorld(t, db)
		s := newService(t, db)
		ctx := context.Background()
		one := Level{Limit: DefaultRepLimit}

		t.Run("DirectorTopLevel", func(t *testing.T) {
			got, err := s.CoverageLevel(ctx, w.caller("director"), params(t, "2026-03-01", "2026-03-10", ""), one)
			if err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, "totals", got.Totals, wantDirector)
			if len(got.Territories) != 2 || got.Territories[0].TerritoryID != w.id("R") || got.Territories[1].TerritoryID != w.id("T3") {
				t.Fatalf("top level %+v, want R and T3", got.Territories)
			}
			// R adds up T1 and T2: the manager's figures.
			checkMetrics(t, "R", got.Territories[0].Metrics, wantManager)
			checkMetrics(t, "T3", got.Territories[1].Metrics, wantT3)
			if got.Territories[0].SubTerritories != 2 || got.Territories[1].SubTerritories != 0 || got.Depth != "1" {
				t.Fatalf("sub-territories %d, %d; depth %q", got.Territories[0].SubTerritories, got.Territories[1].SubTerritories, got.Depth)
			}
		})

		t.Run("DrillDown", func(t *testing.T) {
			got, err := s.CoverageLevel(ctx, w.caller("director"), params(t, "2026-03-01", "2026-03-10", w.id("R")), one)
			if err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, "totals", got.Totals, wantManager)
			if len(got.Territories) != 2 {
				t.Fatalf("R's level %+v, want T1 and T2", got.Territories)
			}
			checkMetrics(t, "T1", got.Territories[0].Metrics, wantT1)
			checkMetrics(t, "T2", got.Territories[1].Metrics, wantT2)
			leaf, err := s.CoverageLevel(ctx, w.caller("director"), params(t, "2026-03-01", "2026-03-10", w.id("T1")), one)
			if err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, "T1 totals", leaf.Totals, wantT1)
			if len(leaf.Territories) != 0 || len(leaf.Reps) != 1 || leaf.Reps[0].RepID != w.id("rep1") {
				t.Fatalf("leaf T1: %d rows, reps %+v", len(leaf.Territories), leaf.Reps)
			}
		})

		t.Run("ManagerTopLevelIsTheirRegion", func(t *testing.T) {
			got, err := s.CoverageLevel(ctx, w.caller("manager"), params(t, "2026-03-01", "2026-03-10", ""), one)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Territories) != 1 || got.Territories[0].TerritoryID != w.id("R") {
				t.Fatalf("manager's top level %+v, want R", got.Territories)
			}
			checkMetrics(t, "R", got.Territories[0].Metrics, wantManager)
		})

		t.Run("RepPages", func(t *testing.T) {
			all, err := s.Coverage(ctx, w.caller("director"), params(t, "2026-03-01", "2026-03-10", ""))
			if err != nil {
				t.Fatal(err)
			}
			byID := map[string]RepCoverage{}
			for _, r := range all.Reps {
				byID[r.RepID] = r
			}
			seen, cursor, pages := map[string]bool{}, "", 0
			for {
				lv, err := ParseLevel("1", 1, cursor)
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.CoverageLevel(ctx, w.caller("director"), params(t, "2026-03-01", "2026-03-10", ""), lv)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if got.RepsTotal != len(all.Reps) || len(got.Reps) > 1 {
					t.Fatalf("page %d: %d reps of %d, want at most 1 of %d", pages, len(got.Reps), got.RepsTotal, len(all.Reps))
				}
				for _, r := range got.Reps {
					if seen[r.RepID] {
						t.Fatalf("rep %s listed twice", r.Name)
					}
					seen[r.RepID] = true
					if r.Metrics != byID[r.RepID].Metrics {
						t.Fatalf("rep %s: %+v on a page, %+v in the whole answer", r.Name, r.Metrics, byID[r.RepID].Metrics)
					}
				}
				if got.RepsNextCursor == nil {
					break
				}
				cursor = *got.RepsNextCursor
			}
			if len(seen) != len(all.Reps) || pages != len(all.Reps) {
				t.Fatalf("%d pages listed %d reps, want %d", pages, len(seen), len(all.Reps))
			}
			if _, err := ParseLevel("1", 1, "not-a-cursor"); domain.ErrorCode(err) != domain.CodeBadRequest {
				t.Fatalf("a bad cursor: %v, want bad_request", err)
			}
			if _, err := ParseLevel("2", 1, ""); domain.ErrorCode(err) != domain.CodeBadRequest {
				t.Fatalf("depth=2: %v, want bad_request", err)
			}
		})

		t.Run("TerritoryPages", func(t *testing.T) {
			var got []string
			lv, cursor := Level{Limit: DefaultRepLimit}, ""
			for i := 0; i < 5; i++ {
				page, err := lv.WithTerritoryPage(1, cursor)
				if err != nil {
					t.Fatal(err)
				}
				cov, err := s.CoverageLevel(ctx, w.caller("director"), params(t, "2026-03-01", "2026-03-10", ""), page)
				if err != nil {
					t.Fatal(err)
				}
				kp, _ := ParseKPIParams(at("2026-03-20 12:00"), "2026-03", "2026-03-10", "")
				k, err := s.KPIsLevel(ctx, w.caller("director"), kp, page)
				if err != nil {
					t.Fatal(err)
				}
				if len(cov.Territories) != 1 || cov.TerritoriesTotal != 2 || len(k.Territories) != 1 ||
					k.Territories[0].TerritoryID != cov.Territories[0].TerritoryID {
					t.Fatalf("page %d: coverage %+v (of %d), kpis %+v", i, cov.Territories, cov.TerritoriesTotal, k.Territories)
				}
				got = append(got, cov.Territories[0].TerritoryID)
				checkMetrics(t, "totals on every page", cov.Totals, wantDirector)
				if cov.TerritoriesNextCursor == nil {
					break
				}
				cursor = *cov.TerritoriesNextCursor
			}
			if len(got) != 2 || got[0] != w.id("R") || got[1] != w.id("T3") {
				t.Fatalf("pages of one territory: %v, want R then T3", got)
			}
			if _, err := lv.WithTerritoryPage(1, "%%"); domain.ErrorCode(err) != domain.CodeBadRequest {
				t.Fatalf("a bad territory cursor: %v", err)
			}
		})

		t.Run("KPIsAndOrders", func(t *testing.T) {
			kp, err := ParseKPIParams(at("2026-03-20 12:00"), "2026-03", "2026-03-10", "")
			if err != nil {
				t.Fatal(err)
			}
			whole, err := s.KPIs(ctx, w.caller("director"), kp)
			if err != nil {
				t.Fatal(err)
			}
			lvl, err := s.KPIsLevel(ctx, w.caller("director"), kp, one)
			if err != nil {
				t.Fatal(err)
			}
			if len(lvl.Territories) != 2 || lvl.Territories[0].TerritoryID != w.id("R") || lvl.Totals.RevenueCents != whole.Totals.RevenueCents {
				t.Fatalf("KPI top level %+v, totals %d (whole %d)", lvl.Territories, lvl.Totals.RevenueCents, whole.Totals.RevenueCents)
			}
			for _, row := range lvl.Territories {
				for _, w := range whole.Territories {
					if w.TerritoryID == row.TerritoryID && w.RevenueCents != row.RevenueCents {
						t.Fatalf("%s: %d at its level, %d in the whole tree", row.Name, row.RevenueCents, w.RevenueCents)
					}
				}
			}
			if lvl.Territories[0].RevenueCents != 12500 || lvl.RepsTotal != len(whole.Reps) {
				t.Fatalf("R's revenue %d, want T1's 10000 + T2's 2500; reps %d of %d", lvl.Territories[0].RevenueCents, lvl.RepsTotal, len(whole.Reps))
			}
			p := params(t, "2026-03-01", "2026-03-10", "")
			orders, err := s.OrdersLevel(ctx, w.caller("director"), p, one)
			if err != nil {
				t.Fatal(err)
			}
			all, err := s.Orders(ctx, w.caller("director"), p)
			if err != nil {
				t.Fatal(err)
			}
			var sub int64
			for _, r := range all.Territories {
				if r.TerritoryID == w.id("T1") || r.TerritoryID == w.id("T2") {
					sub += r.Count
				}
			}
			if len(orders.Territories) == 0 || orders.Territories[0].TerritoryID != w.id("R") || orders.Territories[0].Count != sub ||
				orders.Totals != all.Totals {
				t.Fatalf("orders top level %+v (R should count T1 and T2's %d)", orders.Territories, sub)
			}
		})

		t.Run("Accounts", func(t *testing.T) {
			var names []string
			cursor := ""
			for i := 0; i < 10; i++ {
				page, err := s.Accounts(ctx, w.caller("director"), params(t, "2026-03-01", "2026-03-10", w.id("T1")), "", cursor, 2)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range page.Items {
					names = append(names, a.Name)
				}
				if page.NextCursor == nil {
					break
				}
				cursor = *page.NextCursor
			}
			// a5 moved to T1; a4 is inactive and still listed.
			want := []string{"Account a1", "Account a2", "Account a3", "Account a4", "Account a5"}
			if len(names) != len(want) {
				t.Fatalf("T1's accounts %v, want %v", names, want)
			}
			for i := range want {
				if names[i] != want[i] {
					t.Fatalf("T1's accounts %v, want %v", names, want)
				}
			}
			mine, err := s.Accounts(ctx, w.caller("manager"), params(t, "2026-03-01", "2026-03-10", ""), w.id("rep2"), "", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(mine.Items) != 3 || mine.Items[0].Name != "Account b1" || mine.Items[0].LastVisitDate == nil ||
				mine.Items[0].LastVisitDate.String() != "2026-02-18" {
				t.Fatalf("rep2's accounts %+v, want b1 (last visit 2026-02-18), b2, b3", mine.Items)
			}
			// A rep outside the manager's scope lists nothing; a territory
			// outside it is not found.
			if out, err := s.Accounts(ctx, w.caller("manager"), params(t, "2026-03-01", "2026-03-10", ""), w.id("rep3"), "", 10); err != nil || len(out.Items) != 0 {
				t.Fatalf("rep3 for the manager: %+v, %v", out.Items, err)
			}
			if _, err := s.Accounts(ctx, w.caller("manager"), params(t, "2026-03-01", "2026-03-10", w.id("T3")), "", "", 10); domain.ErrorCode(err) != domain.CodeNotFound {
				t.Fatalf("T3 for the manager: %v, want not_found", err)
			}
		})
	})
}

// A request without depth gets the contract's whole tree in a scope of fewer
// than AutoLevelTerritories territories and one level in a larger one (the
// head of sales' 26,400); depth=all and depth=1 are answered as asked
// whatever the size.
func TestLevel_AutoFollowsScopeSize(t *testing.T) {
	parse := func(depth string) Level {
		t.Helper()
		l, err := ParseLevel(depth, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	small := scope{domain.Visibility{Found: true, Territories: make([]string, AutoLevelTerritories-1)}}
	large := scope{domain.Visibility{Found: true, Territories: make([]string, AutoLevelTerritories)}}
	for _, c := range []struct {
		depth string
		sc    scope
		want  string
	}{
		{"", small, "all"}, {"", large, "1"},
		{"all", small, "all"}, {"all", large, "all"},
		{"1", small, "1"}, {"1", large, "1"},
	} {
		l := parse(c.depth).forScope(c.sc)
		if got := l.depth(); got != c.want || l.All != (c.want == "all") || l.Auto {
			t.Errorf("depth %q over %d territories: answered %q (All %v, Auto %v), want %q",
				c.depth, len(c.sc.Territories), got, l.All, l.Auto, c.want)
		}
	}
}
