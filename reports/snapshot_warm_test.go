package reports

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// TestSnapshots_WarmLoadsTheDefaults: after WarmSnapshots a director's first
// coverage, orders and KPI reports with the default parameters (the
// dashboard's) find their snapshots loaded, under the keys those requests
// use; an organisation smaller than the snapshots' threshold loads none.
func TestSnapshots_WarmLoadsTheDefaults(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildWorld(t, db)
		ctx := context.Background()
		sn, clk := newTestSnapshots(30 * time.Second)
		kn, _ := newTestSnapshots(2 * time.Minute)
		kn.now = sn.now
		s := newService(t, db).WithSnapshots(sn).WithKPISnapshots(kn)
		if err := s.WarmSnapshots(ctx, clk.t); err != nil {
			t.Fatal(err)
		}
		if len(sn.entries) != 2 || len(kn.entries) != 1 {
			t.Fatalf("warmed %d report and %d KPI snapshots, want 2 and 1", len(sn.entries), len(kn.entries))
		}
		p, err := ParseParams(clk.t, "", "", "")
		if err != nil {
			t.Fatal(err)
		}
		kp, err := ParseKPIParams(clk.t, "", "", "")
		if err != nil {
			t.Fatal(err)
		}
		director := w.caller("director")
		if _, err := s.CoverageLevel(ctx, director, p, Level{Limit: 10, TerritoryLimit: 10}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.OrdersLevel(ctx, director, p, Level{Limit: 10, TerritoryLimit: 10}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.KPIsLevel(ctx, director, kp, Level{Limit: 10, TerritoryLimit: 10}); err != nil {
			t.Fatal(err)
		}
		if len(sn.entries) != 2 || len(kn.entries) != 1 {
			t.Errorf("the default requests loaded snapshots of their own: %d and %d, want the 2 and 1 warmed", len(sn.entries), len(kn.entries))
		}

		small := NewSnapshots(30*time.Second, 1<<20)
		smallKPI := NewSnapshots(2*time.Minute, 1<<20)
		if err := newService(t, db).WithSnapshots(small).WithKPISnapshots(smallKPI).WarmSnapshots(ctx, clk.t); err != nil {
			t.Fatal(err)
		}
		if len(small.entries) != 0 || len(smallKPI.entries) != 0 {
			t.Errorf("an organisation below the threshold warmed %d and %d snapshots", len(small.entries), len(smallKPI.entries))
		}
	})
}
