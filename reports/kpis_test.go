package reports

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// kpiWorld is the organisation of the KPI tests; every figure below is worked
// out by hand. The period is November 2026 (30 days, 21 working days; the 1st
// is a Sunday) read as of the 15th: 15 days and 10 working days elapsed.
//
//	R (region)            T3 (another root): rep3; c1
//	├── T1: rep1; a1, a2
//	└── T2: rep2; b1, b2   rep2 worked T1 (o3 on a2) before moving to T2
//
// Targets for 2026-11: T1 30000 (visits 10), T2 20000, rep1 20000 (new
// accounts 2); none for R, T3, rep2. T1 also has a quarter target (ignored by
// a monthly report).
type kpiWorld struct{ ids map[string]string }

func (w kpiWorld) id(n string) string { return w.ids[n] }

func buildKPIWorld(t *testing.T, db *store.DB) kpiWorld {
	t.Helper()
	w := kpiWorld{ids: map[string]string{}}
	for _, n := range []string{"R", "T1", "T2", "T3", "manager", "director", "rep1", "rep2", "rep3",
		"a1", "a2", "b1", "b2", "c1"} {
		w.ids[n] = uuid.NewString()
	}
	ctx := context.Background()
	now := at("2026-09-01 00:00")
	err := db.InTx(ctx, func(tx *store.Tx) error {
		for _, tr := range []struct{ name, parent string }{{"R", ""}, {"T1", "R"}, {"T2", "R"}, {"T3", ""}} {
			row := domain.Territory{ID: w.id(tr.name), Name: "Territory " + tr.name}
			if tr.parent != "" {
				row.ParentID = ptr(w.id(tr.parent))
			}
			if _, err := store.CreateTerritory(tx.At(now), row); err != nil {
				return err
			}
		}
		for _, u := range []struct {
			name  string
			role  domain.Role
			terrs []string
		}{{"manager", domain.RoleManager, []string{"R"}}, {"director", domain.RoleDirector, nil},
			{"rep1", domain.RoleRep, []string{"T1"}}, {"rep2", domain.RoleRep, []string{"T2"}},
			{"rep3", domain.RoleRep, []string{"T3"}}} {
			var terrs []string
			for _, tr := range u.terrs {
				terrs = append(terrs, w.id(tr))
			}
			if _, err := store.CreateUser(tx.At(now), store.UserRecord{User: domain.User{ID: w.id(u.name),
				Name: "User " + u.name, Role: u.role, TerritoryIDs: terrs}, Email: u.name + "@example.com",
				PasswordHash: "x"}); err != nil {
				return err
			}
		}
		for _, a := range []struct{ name, terr string }{{"a1", "T1"}, {"a2", "T1"}, {"b1", "T2"}, {"b2", "T2"}, {"c1", "T3"}} {
			if _, err := store.CreateAccount(tx.At(now), domain.Account{ID: w.id(a.name), Name: "Account " + a.name,
				TerritoryID: w.id(a.terr), Class: "A", Status: "active"}); err != nil {
				return err
			}
		}
		for _, o := range []struct {
			account, rep, status, submitted string
			total                           int64
		}{
			{"a1", "rep1", "confirmed", "2026-11-02 10:00", 10000}, // o1
			{"a1", "rep1", "submitted", "2026-11-12 10:00", 5000},  // o2
			{"a2", "rep2", "delivered", "2026-11-03 10:00", 8000},  // o3: rep2 still in T1
			{"b1", "rep2", "confirmed", "2026-11-10 10:00", 12000}, // o4: rep2 in T2
			{"b1", "rep2", "cancelled", "2026-11-11 10:00", 3000},  // o5
			{"a1", "rep1", "rejected", "2026-11-13 10:00", 9000},   // o6
			{"c1", "rep3", "confirmed", "2026-11-20 10:00", 7000},  // o7: after as_of
			{"a1", "rep1", "draft", "", 800},                       // o8
			{"a1", "rep1", "delivered", "2026-10-05 10:00", 6000},  // p1
			{"b2", "rep2", "confirmed", "2026-10-20 10:00", 4000},  // p2: after Oct 15
			{"c1", "rep3", "confirmed", "2026-10-10 10:00", 2000},  // p3
			{"a2", "rep1", "delivered", "2025-11-04 10:00", 5000},  // y1
			{"b1", "rep2", "cancelled", "2025-11-20 10:00", 1000},  // y2: not a purchase
		} {
			acc, _, err := store.GetAccount(tx, w.id(o.account), false)
			if err != nil {
				return err
			}
			row := domain.Order{ID: uuid.NewString(), AccountID: acc.ID, RepID: w.id(o.rep), Status: o.status,
				TotalCents: o.total, Currency: "EUR"}
			if o.submitted != "" {
				row.SubmittedAt = ptr(at(o.submitted))
				row.Number = ptr("SO-" + row.ID[:8])
			}
			if _, err := store.CreateOrder(tx.At(now), acc, row); err != nil {
				return err
			}
		}
		for _, v := range []struct{ account, rep, status, at string }{
			{"a1", "rep1", "completed", "2026-11-02 09:00"}, // v1
			{"a1", "rep1", "completed", "2026-11-09 09:00"}, // v2
			{"a2", "rep2", "completed", "2026-11-03 09:00"}, // v3
			{"b1", "rep2", "completed", "2026-11-10 09:00"}, // v4
			{"c1", "rep3", "completed", "2026-11-15 23:30"}, // v5: the last day
			{"c1", "rep3", "completed", "2026-11-16 00:00"}, // v6: after as_of
			{"b2", "rep2", "checked_in", "2026-11-04 09:00"},
		} {
			acc, _, err := store.GetAccount(tx, w.id(v.account), false)
			if err != nil {
				return err
			}
			row := domain.Visit{ID: uuid.NewString(), AccountID: acc.ID, RepID: w.id(v.rep), Status: v.status,
				PlannedAt: at(v.at), CheckedInAt: ptr(at(v.at))}
			if v.status == "completed" {
				row.CheckedOutAt = ptr(at(v.at).Add(time.Minute))
			}
			if _, err := store.CreateVisit(tx.At(now), acc, row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("build kpi world: %v", err)
	}
	for _, tg := range []struct {
		terr, rep, period string
		revenue           int64
		visits, newAccs   *int64
	}{
		{"T1", "", "2026-11", 30000, ptr(int64(10)), nil},
		{"T2", "", "2026-11", 20000, nil, nil},
		{"", "rep1", "2026-11", 20000, nil, ptr(int64(2))},
		{"T1", "", "2026-Q4", 999, nil, nil},
	} {
		p, err := domain.ParsePeriod(tg.period)
		if err != nil {
			t.Fatal(err)
		}
		row := domain.Target{ID: uuid.NewString(), Period: p.Name, PeriodStart: p.Start.Format(DateLayout),
			PeriodEnd: p.End.Format(DateLayout), RevenueCents: tg.revenue, Visits: tg.visits, NewAccounts: tg.newAccs}
		if tg.terr != "" {
			row.TerritoryID = ptr(w.id(tg.terr))
		} else {
			row.RepID = ptr(w.id(tg.rep))
		}
		if _, _, err := db.SetTarget(ctx, w.id("director"), row); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w kpiWorld) caller(name string) domain.Caller {
	roles := map[string]domain.Role{"manager": domain.RoleManager, "director": domain.RoleDirector}
	return domain.Caller{UserID: w.id(name), Role: roles[name]}
}

func f(v float64) *float64 { return &v }
func n(v int64) *int64     { return &v }

var (
	// T1 (a1, a2): counted o1 10000 + o2 5000 + o3 8000 = 23000, 3 orders;
	// submitted o1, o2, o3, o6 = 4, confirmed o1, o3 = 2 → 50%. Target 30000:
	// 23000/30000 = 76.7%. Forecast 23000 × 30/15 = 46000 → 153.3%. Oct 1–15:
	// p1 6000 → growth 17000/6000 = 283.3%. Nov 1–15 2025: y1 5000 → 360%.
	// AOV 23000/3 = 7666.7 → 7667; 2 ordering accounts → 11500. New: none
	// (a1 bought in Oct, a2 in 2025). Lost: Oct buyers {a1} all bought → 0.
	// Visits v1, v2, v3 = 3; reps {rep1} → 3/(1×10) = 0.3.
	wantKT1 = KPIMetrics{RevenueCents: 23000, TargetCents: n(30000), AttainmentPct: f(76.7), ForecastCents: 46000,
		ForecastAttainmentPct: f(153.3), PreviousRevenueCents: 6000, GrowthPct: f(283.3), YearAgoRevenueCents: 5000,
		YearOverYearPct: f(360), Orders: 3, AverageOrderCents: 7667, OrderingAccounts: 2, RevenuePerAccountCents: 11500,
		OrdersSubmitted: 4, OrdersConfirmed: 2, ConversionPct: 50, NewAccounts: 0, LostAccounts: 0,
		VisitsCompleted: 3, VisitsTarget: n(10), Reps: 1, VisitsPerRepPerWorkingDay: 0.3,
		PreviousOrders: 1, PreviousOrderingAccounts: 1, PreviousAverageOrderCents: 6000, PreviousRevenuePerAccCents: 6000}
	// T2 (b1, b2): o4 12000; submitted o4, o5 → 1/2 = 50%. 12000/20000 = 60%;
	// forecast 24000 → 120%. Nothing Oct 1–15 (p2 is the 20th) nor a year ago:
	// no growth figures. New: b1 (its only earlier order, y2, was cancelled).
	// Lost: b2 (bought in October, not since). Visits v4 → 1/10 = 0.1.
	wantKT2 = KPIMetrics{RevenueCents: 12000, TargetCents: n(20000), AttainmentPct: f(60), ForecastCents: 24000,
		ForecastAttainmentPct: f(120), Orders: 1, AverageOrderCents: 12000, OrderingAccounts: 1,
		RevenuePerAccountCents: 12000, OrdersSubmitted: 2, OrdersConfirmed: 1, ConversionPct: 50, NewAccounts: 1,
		LostAccounts: 1, VisitsCompleted: 1, Reps: 1, VisitsPerRepPerWorkingDay: 0.1}
	// R = T1 + T2; no target of its own: 30000 + 20000 = 50000. 35000 → 70%;
	// forecast 70000 → 140%; growth 29000/6000 = 483.3%; year 30000/5000 =
	// 600%. AOV 35000/4 = 8750; 35000/3 = 11666.7 → 11667. Submitted 6,
	// confirmed 3. Visits 4 by {rep1, rep2}: 4/(2×10) = 0.2.
	wantKR = KPIMetrics{RevenueCents: 35000, TargetCents: n(50000), AttainmentPct: f(70), ForecastCents: 70000,
		ForecastAttainmentPct: f(140), PreviousRevenueCents: 6000, GrowthPct: f(483.3), YearAgoRevenueCents: 5000,
		YearOverYearPct: f(600), Orders: 4, AverageOrderCents: 8750, OrderingAccounts: 3, RevenuePerAccountCents: 11667,
		OrdersSubmitted: 6, OrdersConfirmed: 3, ConversionPct: 50, NewAccounts: 1, LostAccounts: 1,
		VisitsCompleted: 4, Reps: 2, VisitsPerRepPerWorkingDay: 0.2,
		PreviousOrders: 1, PreviousOrderingAccounts: 1, PreviousAverageOrderCents: 6000, PreviousRevenuePerAccCents: 6000}
	// T3 (c1): o7 is after as_of, so nothing this period and no target. Oct
	// 1–15: p3 2000 → −100%. Lost: c1. Visits v5 (23:30 on the 15th) → 0.1.
	wantKT3 = KPIMetrics{PreviousRevenueCents: 2000, GrowthPct: f(-100), LostAccounts: 1, VisitsCompleted: 1,
		Reps: 1, VisitsPerRepPerWorkingDay: 0.1, PreviousOrders: 1, PreviousOrderingAccounts: 1,
		PreviousAverageOrderCents: 2000, PreviousRevenuePerAccCents: 2000}
	// Director: R + T3. Previous 8000 → 27000/8000 = 337.5%. Lost b2, c1.
	// Visits 5 by 3 reps: 5/30 = 0.1667 → 0.17.
	wantKDirector = KPIMetrics{RevenueCents: 35000, TargetCents: n(50000), AttainmentPct: f(70), ForecastCents: 70000,
		ForecastAttainmentPct: f(140), PreviousRevenueCents: 8000, GrowthPct: f(337.5), YearAgoRevenueCents: 5000,
		YearOverYearPct: f(600), Orders: 4, AverageOrderCents: 8750, OrderingAccounts: 3, RevenuePerAccountCents: 11667,
		OrdersSubmitted: 6, OrdersConfirmed: 3, ConversionPct: 50, NewAccounts: 1, LostAccounts: 2,
		VisitsCompleted: 5, Reps: 3, VisitsPerRepPerWorkingDay: 0.17,
		PreviousOrders: 2, PreviousOrderingAccounts: 2, PreviousAverageOrderCents: 4000, PreviousRevenuePerAccCents: 4000}
	// rep1: o1 + o2 = 15000 (o6 rejected); submitted 3, confirmed 1 → 33.3%.
	// Target 20000 → 75%; forecast 30000 → 150%. Oct 1–15 p1 6000 → 150%;
	// a year ago y1 5000 → 200%. New 0 of a target of 2. Visits v1, v2 → 0.2.
	wantKRep1 = KPIMetrics{RevenueCents: 15000, TargetCents: n(20000), AttainmentPct: f(75), ForecastCents: 30000,
		ForecastAttainmentPct: f(150), PreviousRevenueCents: 6000, GrowthPct: f(150), YearAgoRevenueCents: 5000,
		YearOverYearPct: f(200), Orders: 2, AverageOrderCents: 7500, OrderingAccounts: 1, RevenuePerAccountCents: 15000,
		OrdersSubmitted: 3, OrdersConfirmed: 1, ConversionPct: 33.3, NewAccountsTarget: n(2), VisitsCompleted: 2,
		VisitsPerRepPerWorkingDay: 0.2, PreviousOrders: 1, PreviousOrderingAccounts: 1,
		PreviousAverageOrderCents: 6000, PreviousRevenuePerAccCents: 6000}
	// rep2 changed territory mid-period: their row keeps both o3 (a2, T1,
	// 8000) and o4 (b1, T2, 12000) = 20000; submitted o3, o4, o5 → 2/3 =
	// 66.7%. No target: no attainment. Forecast 40000. New b1; lost b2.
	// Visits v3 (T1) and v4 (T2) → 0.2.
	wantKRep2 = KPIMetrics{RevenueCents: 20000, ForecastCents: 40000, Orders: 2, AverageOrderCents: 10000,
		OrderingAccounts: 2, RevenuePerAccountCents: 10000, OrdersSubmitted: 3, OrdersConfirmed: 2,
		ConversionPct: 66.7, NewAccounts: 1, LostAccounts: 1, VisitsCompleted: 2, VisitsPerRepPerWorkingDay: 0.2}
)

func kpiParams(t *testing.T, period, asOf, territory string) KPIParams {
	t.Helper()
	p, err := ParseKPIParams(at("2026-11-15 12:00"), period, asOf, territory)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func checkKPI(t *testing.T, what string, got, want KPIMetrics) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, show(got), show(want))
	}
}

func show(m KPIMetrics) string {
	b, _ := domain.AppendJSON(nil, m)
	return string(b)
}

func TestReports_KPIs(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildKPIWorld(t, db)
		s := newService(t, db)
		ctx := context.Background()

		t.Run("Manager", func(t *testing.T) {
			got, err := s.KPIs(ctx, w.caller("manager"), kpiParams(t, "", "", ""))
			if err != nil {
				t.Fatal(err)
			}
			if got.Period != "2026-11" || got.Days != 30 || got.DaysElapsed != 15 || got.WorkingDays != 21 ||
				got.WorkingDaysElapsed != 10 || got.Previous != "2026-10" || got.YearAgo != "2025-11" {
				t.Fatalf("calendar: %+v", got)
			}
			checkKPI(t, "totals", got.Totals, wantKR)
			terrs := map[string]KPIMetrics{}
			for _, r := range got.Territories {
				terrs[r.TerritoryID] = r.KPIMetrics
			}
			if len(terrs) != 3 {
				t.Fatalf("territories %+v", got.Territories)
			}
			checkKPI(t, "R", terrs[w.id("R")], wantKR)
			checkKPI(t, "T1", terrs[w.id("T1")], wantKT1)
			checkKPI(t, "T2", terrs[w.id("T2")], wantKT2)
			reps := map[string]RepKPIs{}
			for _, r := range got.Reps {
				reps[r.RepID] = r
			}
			if len(reps) != 2 {
				t.Fatalf("reps %+v", got.Reps)
			}
			checkKPI(t, "rep1", reps[w.id("rep1")].KPIMetrics, wantKRep1)
			checkKPI(t, "rep2", reps[w.id("rep2")].KPIMetrics, wantKRep2)
			if ts := reps[w.id("rep2")].TerritoryIDs; len(ts) != 1 || ts[0] != w.id("T2") {
				t.Errorf("rep2 territories %v", ts)
			}
		})
		t.Run("Director", func(t *testing.T) {
			got, err := s.KPIs(ctx, w.caller("director"), kpiParams(t, "2026-11", "2026-11-15", ""))
			if err != nil {
				t.Fatal(err)
			}
			checkKPI(t, "totals", got.Totals, wantKDirector)
			for _, r := range got.Territories {
				if r.TerritoryID == w.id("T3") {
					checkKPI(t, "T3", r.KPIMetrics, wantKT3)
				}
			}
			if len(got.Territories) != 4 || len(got.Reps) != 3 {
				t.Fatalf("%d territories, %d reps", len(got.Territories), len(got.Reps))
			}
		})
		t.Run("NarrowedToT2", func(t *testing.T) {
			got, err := s.KPIs(ctx, w.caller("manager"), kpiParams(t, "2026-11", "", w.id("T2")))
			if err != nil {
				t.Fatal(err)
			}
			checkKPI(t, "totals", got.Totals, wantKT2)
		})
		// October: complete (the forecast is the revenue) and without any
		// target: no target, no attainment. Buyers a1, b2, c1 had never bought
		// before: 3 new. Nothing in September: no growth, nothing lost.
		t.Run("PeriodWithoutTarget", func(t *testing.T) {
			got, err := s.KPIs(ctx, w.caller("director"), kpiParams(t, "2026-10", "2026-11-15", ""))
			if err != nil {
				t.Fatal(err)
			}
			if got.DaysElapsed != 31 || got.WorkingDays != 22 || got.WorkingDaysElapsed != 22 {
				t.Fatalf("calendar %+v", got)
			}
			want := KPIMetrics{RevenueCents: 12000, ForecastCents: 12000, Orders: 3, AverageOrderCents: 4000,
				OrderingAccounts: 3, RevenuePerAccountCents: 4000, OrdersSubmitted: 3, OrdersConfirmed: 3,
				ConversionPct: 100, NewAccounts: 3, Reps: 3}
			checkKPI(t, "totals", got.Totals, want)
		})
		t.Run("Refusals", func(t *testing.T) {
			if _, err := s.KPIs(ctx, domain.Caller{UserID: w.id("rep1"), Role: domain.RoleRep}, kpiParams(t, "", "", "")); domain.ErrorCode(err) != domain.CodeForbidden {
				t.Errorf("rep: %v", err)
			}
			if _, err := s.KPIs(ctx, w.caller("manager"), kpiParams(t, "", "", w.id("T3"))); domain.ErrorCode(err) != domain.CodeNotFound {
				t.Errorf("outside the scope: %v", err)
			}
			for _, c := range [][2]string{{"2026-13", ""}, {"2026-11", "2026-10-31"}, {"2026-11", "15.11.2026"}} {
				if _, err := ParseKPIParams(at("2026-11-15 12:00"), c[0], c[1], ""); domain.ErrorCode(err) != domain.CodeBadRequest {
					t.Errorf("%v: %v", c, err)
				}
			}
		})
	})
}
