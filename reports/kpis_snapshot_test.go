package reports

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// kpiLevels are the depths and pages the snapshot tests compare: the whole
// tree, the first page of one level (one territory, one rep) and a page
// after a cursor.
var kpiLevels = map[string]Level{"all": WholeTree, "level": {Limit: 1, TerritoryLimit: 1},
	"level-page2": {Limit: 1, Cursor: repCursor{Name: "User rep1", ID: "0"}.encode(), TerritoryLimit: 1,
		TerritoryCursor: repCursor{Name: "Territory T1", ID: "0"}.encode()}}

// TestKPISnapshots_SameFigures: the KPI report read from the organisation's
// snapshot, narrowed to the caller's scope, is the report read from the
// tables, for a director and a manager (a region of the organisation), every
// focus, depth and page, and months and quarters running or complete; so the
// hand-computed figures of kpis_test.go hold through snapshots too.
func TestKPISnapshots_SameFigures(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildKPIWorld(t, db)
		direct := newService(t, db)
		sn, _ := newTestSnapshots(time.Minute)
		snapped := direct.WithKPISnapshots(sn)
		ctx := context.Background()
		windows := map[string]bool{}
		for _, pa := range [][2]string{{"2026-11", "2026-11-15"}, {"2026-11", "2026-12-03"}, {"2026-Q4", "2026-11-15"},
			{"2026-10", "2026-11-15"}, {"", ""}} {
			for _, who := range []string{"director", "manager"} {
				for _, focus := range []string{"", "R", "T1", "T3"} {
					for name, lv := range kpiLevels {
						tid := ""
						if focus != "" {
							tid = w.id(focus)
						}
						p := kpiParams(t, pa[0], pa[1], tid)
						_, wins := kpiCalendar(p)
						windows[p.Period.Name+wins.cur.to.String()] = true
						want, werr := direct.KPIsLevel(ctx, w.caller(who), p, lv)
						got, gerr := snapped.KPIsLevel(ctx, w.caller(who), p, lv)
						if domain.ErrorCode(werr) != domain.ErrorCode(gerr) || asJSON(t, want) != asJSON(t, got) {
							t.Errorf("%v %s %s %s:\n got %v %s\nwant %v %s", pa, who, focus, name, gerr, asJSON(t, got), werr, asJSON(t, want))
						}
					}
				}
			}
		}
		// "" resolves to the 15th of November, which the first pair names.
		if len(sn.entries) != len(windows) || len(windows) != 4 {
			t.Errorf("%d snapshots for %d windows; want one per window (4), shared by every caller", len(sn.entries), len(windows))
		}
	})
}

// TestKPISnapshots_SameFiguresRandom compares the two on the random world of
// kpis_facts_test.go: reps ordering in several territories, accounts moved
// between territories, every status, random months and quarters.
func TestKPISnapshots_SameFiguresRandom(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		rnd := rand.New(rand.NewPCG(7, 15))
		w := buildRandomKPIWorld(t, db, rnd)
		direct := newService(t, db)
		sn, _ := newTestSnapshots(time.Minute)
		snapped := direct.WithKPISnapshots(sn)
		ctx := context.Background()
		for range 15 {
			p := randomKPIParams(t, rnd)
			for _, c := range []domain.Caller{w.director, w.manager} {
				for name, lv := range map[string]Level{"all": WholeTree, "level": {Limit: 3, TerritoryLimit: 2}} {
					want, werr := direct.KPIsLevel(ctx, c, p, lv)
					got, gerr := snapped.KPIsLevel(ctx, c, p, lv)
					if werr != nil || gerr != nil || asJSON(t, want) != asJSON(t, got) {
						t.Errorf("%s as of %s, %s, %s:\n got %v %s\nwant %v %s", p.Period.Name, Date(p.AsOf), c.Role, name,
							gerr, asJSON(t, got), werr, asJSON(t, want))
					}
				}
			}
		}
	})
}

// TestKPISnapshots_Staleness: an order written after a snapshot shows once
// the snapshot is reloaded (in the background from half its maximum age, at
// once past it), but a target set shows at once, the next day reads a
// snapshot of its own, and a service of another zone never reads this one's
// (docs/reports.md "Large scopes: snapshots").
func TestKPISnapshots_Staleness(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildKPIWorld(t, db)
		sn, clk := newTestSnapshots(2 * time.Minute)
		direct := newService(t, db)
		s := direct.WithKPISnapshots(sn)
		ctx := context.Background()
		read := func(s *Service, now string) KPIs {
			t.Helper()
			p, err := ParseKPIParams(at(now), "", "", "") // as_of: today
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.KPIsLevel(ctx, w.caller("director"), p, Level{Limit: 10, TerritoryLimit: 10})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		revenue := func(now string) int64 { t.Helper(); return read(s, now).Totals.RevenueCents }
		order := func(cents int64) {
			t.Helper()
			err := db.InTx(ctx, func(tx *store.Tx) error {
				acc, _, err := store.GetAccount(tx, w.id("a1"), false)
				if err != nil {
					return err
				}
				id := uuid.NewString()
				_, err = store.CreateOrder(tx, acc, domain.Order{ID: id, AccountID: acc.ID, RepID: w.id("rep1"),
					Status: "confirmed", TotalCents: cents, Currency: "EUR", SubmittedAt: ptr(at("2026-11-14 10:00")),
					Number: ptr("SO-" + id[:8])})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		const today = "2026-11-15 12:00"
		base := wantKDirector.RevenueCents
		if got := revenue(today); got != base {
			t.Fatalf("first read: revenue %d, want %d", got, base)
		}
		order(100)
		clk.t = clk.t.Add(50 * time.Second)
		if got := revenue(today); got != base {
			t.Errorf("50 s later: revenue %d; want the snapshot's %d", got, base)
		}
		if len(clk.pending) != 0 {
			t.Errorf("a reload started before half the maximum age")
		}

		// A target set now shows at once: targets are read per request.
		tp, _ := domain.ParsePeriod("2026-11")
		if _, _, err := db.SetTarget(ctx, w.id("director"), domain.Target{ID: uuid.NewString(), Period: tp.Name,
			PeriodStart: tp.Start.Format(DateLayout), PeriodEnd: tp.End.Format(DateLayout), RevenueCents: 5000,
			TerritoryID: ptr(w.id("T3"))}); err != nil {
			t.Fatal(err)
		}
		got := read(s, today)
		want := read(direct, today)
		var gotT3, wantT3 *int64
		for _, r := range got.Territories {
			if r.TerritoryID == w.id("T3") {
				gotT3 = r.TargetCents
			}
		}
		for _, r := range want.Territories {
			if r.TerritoryID == w.id("T3") {
				wantT3 = r.TargetCents
			}
		}
		if gotT3 == nil || wantT3 == nil || *gotT3 != 5000 || *wantT3 != 5000 || *got.Totals.TargetCents != *want.Totals.TargetCents {
			t.Errorf("a target set after the snapshot: T3 %v totals %v; want 5000 and %v", gotT3, got.Totals.TargetCents, want.Totals.TargetCents)
		}
		if got.Totals.RevenueCents != base {
			t.Errorf("revenue %d beside the new target; want the snapshot's %d", got.Totals.RevenueCents, base)
		}

		// The next day (as_of defaults to today) names another window: it
		// is read afresh, never answered from the day before's snapshot.
		if got := revenue("2026-11-16 00:10"); got != base+100 {
			t.Errorf("the next day: revenue %d, want %d", got, base+100)
		}
		if len(sn.entries) != 2 {
			t.Errorf("%d snapshots after a day change; want 2", len(sn.entries))
		}

		// Past half the maximum age: the old figures while it reloads, then
		// the new ones.
		clk.t = clk.t.Add(15 * time.Second) // 65 s
		if got := revenue(today); got != base {
			t.Errorf("65 s: revenue %d; want the snapshot's %d while it reloads", got, base)
		}
		if len(clk.pending) != 1 {
			t.Fatalf("%d reloads started at 65 s; want 1", len(clk.pending))
		}
		clk.runPending()
		if got := revenue(today); got != base+100 {
			t.Errorf("after the reload: revenue %d, want %d", got, base+100)
		}

		// Past the maximum age: read afresh at once.
		order(10)
		clk.t = clk.t.Add(2*time.Minute + time.Second)
		if got := revenue(today); got != base+110 {
			t.Errorf("past the maximum age: revenue %d, want %d", got, base+110)
		}

		// Refresh reloads what was read lately, and only that.
		order(1)
		clk.t = clk.t.Add(time.Minute)
		sn.Refresh(time.Second) // today's was read a minute ago, the 16th's longer
		if len(clk.pending) != 0 {
			t.Errorf("Refresh reloaded a snapshot nobody read lately")
		}
		sn.Refresh(2 * time.Minute)
		if len(clk.pending) != 1 { // today's only: nobody read the 16th's for over 3 minutes
			t.Errorf("Refresh started %d reloads; want 1", len(clk.pending))
		}
		clk.runPending()
		if got := revenue(today); got != base+111 {
			t.Errorf("after Refresh: revenue %d, want %d", got, base+111)
		}

		// Another zone: a service reading Los Angeles days never reads the
		// UTC snapshot. While the tables hold UTC days it reads the orders
		// (kpiDirect), as without snapshots; once they hold its days, a
		// snapshot of its own.
		la := zone(t, "America/Los_Angeles")
		laDirect, laSnapped := direct.WithLocation(la), s.WithLocation(la)
		n := len(sn.entries)
		if got, want := read(laSnapped, today), read(laDirect, today); asJSON(t, got) != asJSON(t, want) {
			t.Errorf("Los Angeles over UTC tables:\n got %s\nwant %s", asJSON(t, got), asJSON(t, want))
		}
		if len(sn.entries) != n {
			t.Errorf("a snapshot kept for a zone the tables do not hold")
		}
		setZone(t, db, la)
		if got, want := read(laSnapped, today), read(laDirect, today); asJSON(t, got) != asJSON(t, want) {
			t.Errorf("Los Angeles:\n got %s\nwant %s", asJSON(t, got), asJSON(t, want))
		}
		if len(sn.entries) != n+1 {
			t.Errorf("%d snapshots after a Los Angeles read; want %d", len(sn.entries), n+1)
		}
	})
}

// TestKPILevels_AddUpLikeTheWholeTree: every page of every level (kpiLevel
// adds up only its page's rows) shows the rows of the whole tree's answer
// (kpiWholeTree adds up every ancestor), rows without anything below them
// empty, the same totals and, page after page, the same reps; read from the
// tables and from a snapshot, on the random world.
func TestKPILevels_AddUpLikeTheWholeTree(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		rnd := rand.New(rand.NewPCG(3, 4))
		w := buildRandomKPIWorld(t, db, rnd)
		setRandomTargets(t, db, rnd, w.director.UserID)
		direct := newService(t, db)
		sn, _ := newTestSnapshots(time.Minute)
		ctx := context.Background()
		empty := asJSON(t, KPIMetrics{})
		for _, p := range everyPeriodOf2026(t, rnd) {
			for _, s := range []*Service{direct, direct.WithKPISnapshots(sn)} {
				for _, c := range []domain.Caller{w.director, w.manager} {
					whole, err := s.KPIsLevel(ctx, c, p, WholeTree)
					if err != nil {
						t.Fatal(err)
					}
					rows := map[string]string{}
					for _, r := range whole.Territories {
						rows[r.TerritoryID] = asJSON(t, r)
					}
					var reps []RepKPIs
					focus := []string{""}
					for len(focus) > 0 {
						f := focus[0]
						focus = focus[1:]
						q := p
						q.TerritoryID = f
						lv := Level{Limit: 2, TerritoryLimit: 2}
						for page := 0; ; page++ {
							got, err := s.KPIsLevel(ctx, c, q, lv)
							if err != nil {
								t.Fatal(err)
							}
							if f == "" {
								reps = append(reps, got.Reps...)
								if page == 0 && asJSON(t, got.Totals) != asJSON(t, whole.Totals) {
									t.Errorf("%s %s totals:\n got %s\nwant %s", p.Period.Name, c.Role, asJSON(t, got.Totals), asJSON(t, whole.Totals))
								}
							}
							for _, r := range got.Territories {
								want, ok := rows[r.TerritoryID]
								if !ok && asJSON(t, r.KPIMetrics) != empty || ok && asJSON(t, r) != want {
									t.Errorf("%s %s row %s:\n got %s\nwant %s", p.Period.Name, c.Role, r.Name, asJSON(t, r), want)
								}
								if r.SubTerritories > 0 {
									focus = append(focus, r.TerritoryID)
								}
							}
							if got.TerritoriesNextCursor == nil && (f != "" || got.RepsNextCursor == nil) {
								break
							}
							if got.TerritoriesNextCursor != nil {
								lv.TerritoryCursor = *got.TerritoriesNextCursor
							}
							if got.RepsNextCursor != nil {
								lv.Cursor = *got.RepsNextCursor
							} else {
								lv.Cursor = repCursor{Name: "\U0010FFFF", ID: "~"}.encode() // past the last rep
							}
						}
					}
					if asJSON(t, reps) != asJSON(t, whole.Reps) {
						t.Errorf("%s %s reps page by page:\n got %s\nwant %s", p.Period.Name, c.Role, asJSON(t, reps), asJSON(t, whole.Reps))
					}
				}
			}
		}
	})
}

// everyPeriodOf2026 is the parameters of each month and quarter of 2026
// (those setRandomTargets sets targets for), each as of a random day.
func everyPeriodOf2026(t *testing.T, rnd *rand.Rand) []KPIParams {
	t.Helper()
	var out []KPIParams
	for _, name := range periodsOf2026() {
		P, err := domain.ParsePeriod(name)
		if err != nil {
			t.Fatal(err)
		}
		asOf := P.Start.AddDate(0, 0, rnd.IntN(P.Days()+5))
		p, err := ParseKPIParams(at("2027-01-15 12:00"), name, asOf.Format(time.DateOnly), "")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func periodsOf2026() []string {
	var periods []string
	for m := 1; m <= 12; m++ {
		periods = append(periods, fmt.Sprintf("2026-%02d", m))
	}
	for q := 1; q <= 4; q++ {
		periods = append(periods, fmt.Sprintf("2026-Q%d", q))
	}
	return periods
}

// setRandomTargets gives about half the territories and reps a target for
// each month and quarter of 2026, so that rows take their own, the sum of
// those below them, or none.
func setRandomTargets(t *testing.T, db *store.DB, rnd *rand.Rand, director string) {
	t.Helper()
	ctx := context.Background()
	var terrs, reps []string
	if err := db.Gorm.Raw("SELECT id FROM territories ORDER BY id").Scan(&terrs).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Raw("SELECT id FROM users WHERE role = ? ORDER BY id", domain.RoleRep).Scan(&reps).Error; err != nil {
		t.Fatal(err)
	}
	for _, name := range periodsOf2026() {
		p, err := domain.ParsePeriod(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range append(append([]string{}, terrs...), reps...) {
			if rnd.IntN(2) == 0 {
				continue
			}
			row := domain.Target{ID: uuid.NewString(), Period: p.Name, PeriodStart: p.Start.Format(DateLayout),
				PeriodEnd: p.End.Format(DateLayout), RevenueCents: 1000 + rnd.Int64N(100000)}
			if i < len(terrs) {
				row.TerritoryID = ptr(id)
			} else {
				row.RepID = ptr(id)
			}
			if _, _, err := db.SetTarget(ctx, director, row); err != nil {
				t.Fatal(err)
			}
		}
	}
}
