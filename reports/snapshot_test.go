package reports

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// snapClock is a hand-moved clock and a queue of background reloads, so that
// the snapshot tests decide every age and interleaving without timing.
type snapClock struct {
	t       time.Time
	pending []func()
}

func newTestSnapshots(maxAge time.Duration) (*Snapshots, *snapClock) {
	clk := &snapClock{t: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	sn := NewSnapshots(maxAge, 1) // the test world's scopes are small: every one reads snapshots
	sn.now = func() time.Time { return clk.t }
	sn.spawn = func(fn func()) { clk.pending = append(clk.pending, fn) }
	return sn, clk
}

func (c *snapClock) runPending() {
	fns := c.pending
	c.pending = nil
	for _, fn := range fns {
		fn()
	}
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSnapshots_SameFigures: a report read from the organisation's snapshot,
// narrowed to the caller's scope, is the report read from the tables, for
// every caller, focus, depth and page (the hand-computed figures of
// coverage_test.go and orders_test.go therefore hold through snapshots too).
func TestSnapshots_SameFigures(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildWorld(t, db)
		direct := newService(t, db)
		sn, _ := newTestSnapshots(time.Minute)
		snapped := direct.WithSnapshots(sn)
		ctx := context.Background()
		levels := map[string]Level{"all": WholeTree, "level": {Limit: 1, TerritoryLimit: 1},
			"level-page2": {Limit: 1, Cursor: repCursor{Name: "~", ID: "0"}.encode(), TerritoryLimit: 100}}
		for _, who := range []string{"director", "manager", "coordinator"} {
			for _, focus := range []string{"", "R", "T1"} {
				for name, lv := range levels {
					tid := ""
					if focus != "" {
						tid = w.id(focus)
					}
					p := params(t, "2026-03-01", "2026-03-10", tid)
					if who != "coordinator" {
						want, werr := direct.CoverageLevel(ctx, w.caller(who), p, lv)
						got, gerr := snapped.CoverageLevel(ctx, w.caller(who), p, lv)
						if domain.ErrorCode(werr) != domain.ErrorCode(gerr) || asJSON(t, want) != asJSON(t, got) {
							t.Errorf("coverage %s %s %s:\n got %v %s\nwant %v %s", who, focus, name, gerr, asJSON(t, got), werr, asJSON(t, want))
						}
					}
					want, werr := direct.OrdersLevel(ctx, w.caller(who), p, lv)
					got, gerr := snapped.OrdersLevel(ctx, w.caller(who), p, lv)
					if domain.ErrorCode(werr) != domain.ErrorCode(gerr) || asJSON(t, want) != asJSON(t, got) {
						t.Errorf("orders %s %s %s:\n got %v %s\nwant %v %s", who, focus, name, gerr, asJSON(t, got), werr, asJSON(t, want))
					}
				}
			}
		}
		if len(sn.entries) != 2 {
			t.Errorf("%d snapshots for one period; want 2 (coverage, orders), shared by every caller", len(sn.entries))
		}
	})
}

// TestSnapshots_Staleness: a visit written after a snapshot shows once the
// snapshot is reloaded: in the background once it is half its maximum age
// old (the request that notices still reads the old one), at once when it
// is older than the maximum (docs/reports.md "Large scopes: snapshots").
func TestSnapshots_Staleness(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildWorld(t, db)
		sn, clk := newTestSnapshots(30 * time.Second)
		s := newService(t, db).WithSnapshots(sn)
		ctx := context.Background()
		p := params(t, "2026-03-01", "2026-03-10", "")
		completed := func() int64 {
			t.Helper()
			got, err := s.CoverageLevel(ctx, w.caller("director"), p, Level{Limit: 10, TerritoryLimit: 10})
			if err != nil {
				t.Fatal(err)
			}
			return got.Totals.VisitsCompleted
		}
		visit := func() {
			t.Helper()
			err := db.InTx(ctx, func(tx *store.Tx) error {
				acc, _, err := store.GetAccount(tx, w.id("c1"), false)
				if err != nil {
					return err
				}
				in := at("2026-03-09 10:00")
				_, err = store.CreateVisit(tx, acc, domain.Visit{ID: uuid.NewString(), AccountID: acc.ID, RepID: w.id("rep3"),
					Status: "completed", PlannedAt: in, CheckedInAt: &in, CheckedOutAt: ptr(in.Add(time.Minute))})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}

		if got := completed(); got != wantDirector.VisitsCompleted {
			t.Fatalf("first read: %d completed, want %d", got, wantDirector.VisitsCompleted)
		}
		visit()
		clk.t = clk.t.Add(10 * time.Second)
		if got := completed(); got != wantDirector.VisitsCompleted {
			t.Errorf("10 s later: %d completed; want the snapshot's %d", got, wantDirector.VisitsCompleted)
		}
		if len(clk.pending) != 0 {
			t.Errorf("a reload started at a third of the maximum age")
		}
		clk.t = clk.t.Add(10 * time.Second) // 20 s: past half the maximum age
		if got := completed(); got != wantDirector.VisitsCompleted {
			t.Errorf("20 s: %d completed; want the snapshot's %d while it reloads", got, wantDirector.VisitsCompleted)
		}
		if len(clk.pending) != 1 {
			t.Fatalf("%d reloads started at 20 s; want 1", len(clk.pending))
		}
		completed() // a second request does not start a second reload
		if len(clk.pending) != 1 {
			t.Fatalf("%d reloads after two requests; want 1", len(clk.pending))
		}
		clk.runPending()
		if got := completed(); got != wantDirector.VisitsCompleted+1 {
			t.Errorf("after the reload: %d completed, want %d", got, wantDirector.VisitsCompleted+1)
		}

		// Older than the maximum age: the request reads afresh.
		visit()
		clk.t = clk.t.Add(31 * time.Second)
		if got := completed(); got != wantDirector.VisitsCompleted+2 {
			t.Errorf("past the maximum age: %d completed, want %d", got, wantDirector.VisitsCompleted+2)
		}

		// Refresh reloads what was read lately, and only that.
		visit()
		clk.t = clk.t.Add(16 * time.Second)
		sn.Refresh(time.Minute)
		if len(clk.pending) != 1 { // coverage's: orders were never read
			t.Errorf("Refresh started %d reloads; want 1", len(clk.pending))
		}
		clk.runPending()
		clk.t = clk.t.Add(time.Second)
		if got := completed(); got != wantDirector.VisitsCompleted+3 {
			t.Errorf("after Refresh: %d completed, want %d", got, wantDirector.VisitsCompleted+3)
		}
		clk.t = clk.t.Add(16 * time.Second)
		sn.Refresh(time.Second) // read 16 s ago: not kept warm
		if len(clk.pending) != 0 {
			t.Errorf("Refresh reloaded a snapshot nobody read for 16 s")
		}
	})
}
