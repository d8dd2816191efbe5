package reports

import (
	"context"
	"time"

	"github.com/fieldsync/fieldsync/store"
)

// kpiDirect computes the rows kpiFacts reads (one per territory holding
// orders, one per rep) from the orders and visits themselves, in the
// service's zone: every order of the windows grouped by account, the account
// sets built in Go. It costs in proportion to the orders of the windows
// (minutes at 1M accounts), so the report uses it only when the facts hold
// days of another zone (a server not restarted after another re-bucketed the
// tables, see checkZone): the KPIs then stay right, only slower. Tests compare
// the two on random data.
func (s *Service) kpiDirect(ctx context.Context, sc scope, w kpiWindows) ([]kpiFactRow, []activityAgg, error) {
	var terrs []string // nil: everything
	if !sc.All {
		terrs = sc.Territories
	}
	loc := s.Location()
	at := func(d time.Time) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc) }
	type sets struct {
		row                         kpiFactRow
		buyers, prevBuyers, prevAll map[string]bool
	}
	terr, rep := map[string]*sets{}, map[string]*sets{}
	get := func(m map[string]*sets, kind, id string) *sets {
		t := m[id]
		if t == nil {
			t = &sets{row: kpiFactRow{Kind: kind, ID: id}, buyers: map[string]bool{}, prevBuyers: map[string]bool{},
				prevAll: map[string]bool{}}
			m[id] = t
		}
		return t
	}
	each := func(win window, add func(t *sets, g store.KPIOrderGroup)) error {
		gs, err := s.db.KPIOrders(ctx, terrs, at(win.from), at(win.to))
		if err != nil {
			return err
		}
		for _, g := range gs {
			add(get(terr, "t", g.TerritoryID), g)
			add(get(rep, "r", g.RepID), g)
		}
		return nil
	}
	var buyers []string
	seen := map[string]bool{}
	err := each(w.cur, func(t *sets, g store.KPIOrderGroup) {
		t.row.Submitted += g.Orders
		if confirmedStatus(g.Status) {
			t.row.Confirmed += g.Orders
		}
		if counted(g.Status) {
			t.row.Orders += g.Orders
			t.row.Revenue += g.Cents
			t.buyers[g.AccountID] = true
			if !seen[g.AccountID] {
				seen[g.AccountID] = true
				buyers = append(buyers, g.AccountID)
			}
		}
	})
	if err != nil {
		return nil, nil, err
	}
	prevLike := func(t *sets, g store.KPIOrderGroup) {
		t.row.PrevRevenue += g.Cents
		t.row.PrevOrders += g.Orders
		t.prevBuyers[g.AccountID] = true
	}
	type pass struct {
		w   window
		add func(t *sets, g store.KPIOrderGroup)
	}
	passes := []pass{
		{w.prevFull, func(t *sets, g store.KPIOrderGroup) {
			t.prevAll[g.AccountID] = true
			if w.prevLike.eq(w.prevFull) { // a complete period: one read for both
				prevLike(t, g)
			}
		}},
		{w.year, func(t *sets, g store.KPIOrderGroup) { t.row.YearRevenue += g.Cents }},
	}
	if !w.prevLike.eq(w.prevFull) {
		passes = append(passes, pass{w.prevLike, prevLike})
	}
	for _, ps := range passes {
		err := each(ps.w, func(t *sets, g store.KPIOrderGroup) {
			if counted(g.Status) {
				ps.add(t, g)
			}
		})
		if err != nil {
			return nil, nil, err
		}
	}
	prior, err := s.db.KPIPriorBuyers(ctx, buyers, at(w.cur.from))
	if err != nil {
		return nil, nil, err
	}
	var rows []kpiFactRow
	for _, m := range []map[string]*sets{terr, rep} {
		for _, t := range m {
			t.row.Buyers, t.row.PrevBuyers = int64(len(t.buyers)), int64(len(t.prevBuyers))
			for a := range t.buyers {
				if !prior[a] {
					t.row.NewBuyers++
				}
			}
			for a := range t.prevAll {
				if !t.buyers[a] {
					t.row.Lost++
				}
			}
			rows = append(rows, t.row)
		}
	}
	vs, err := s.db.KPIVisits(ctx, terrs, at(w.cur.from), at(w.cur.to))
	if err != nil {
		return nil, nil, err
	}
	visits := make([]activityAgg, len(vs))
	for i, v := range vs {
		visits[i] = activityAgg{TerritoryID: v.TerritoryID, RepID: v.RepID, B: v.Visits}
	}
	return rows, visits, nil
}
