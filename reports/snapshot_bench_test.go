package reports

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// BenchmarkSnapshot_HeadOfSales times what a director's coverage and orders
// requests compute once the organisation's snapshot is loaded (narrowing,
// one level, one page of reps), on rows shaped like the 1M fixture's: 6,600
// regions at the top with 3 territories each (26,400), 3 classes per
// territory, 50,000 reps of 2 territories each with visits and orders in
// each, 7 order statuses per territory. It needs no database: the requests'
// remaining costs are their few statements (the caller, the tree's version).
//
//	go test ./reports -run '^$' -bench Snapshot_HeadOfSales
func BenchmarkSnapshot_HeadOfSales(b *testing.B) {
	var nodes []domain.TerritoryNode
	var terrs []string
	for r := range 6600 {
		id := fmt.Sprintf("r%05d", r)
		nodes = append(nodes, domain.TerritoryNode{ID: id, Name: "Region " + id})
		terrs = append(terrs, id)
		for k := range 3 {
			kid := fmt.Sprintf("%s-%d", id, k)
			nodes = append(nodes, domain.TerritoryNode{ID: kid, Name: "Territory " + kid, ParentID: &id})
			terrs = append(terrs, kid)
		}
	}
	var rows coverageRows
	var orders []orderAgg
	for i, t := range terrs {
		for _, c := range []string{"A", "B", "C"} {
			rows.accounts = append(rows.accounts, accountAgg{TerritoryID: t, Class: c, Accounts: 13, Active: 11, Visited: 7, Overdue: 2})
		}
		for _, st := range orderStatuses {
			orders = append(orders, orderAgg{TerritoryID: t, Status: st, Count: int64(i % 9), ValueCents: 1000})
		}
	}
	for r := range 50000 {
		rep := fmt.Sprintf("u%05d", r)
		for k := range 2 {
			t := terrs[(r*2+k)%len(terrs)]
			rows.reps = append(rows.reps, repRow{ID: rep, Name: "Rep " + rep, TerritoryID: t})
			rows.visits = append(rows.visits, activityAgg{TerritoryID: t, RepID: rep, A: 20, B: 15})
			rows.orders = append(rows.orders, activityAgg{TerritoryID: t, RepID: rep, A: 3, B: 45000})
		}
	}
	sort.Slice(orders, func(i, j int) bool { return orders[i].TerritoryID < orders[j].TerritoryID })
	g := rows.gather(nil)
	g.prepare()
	rows.whole = &g
	sc := scope{domain.Visible(domain.Viewer{UserID: "d", Role: domain.RoleDirector, Found: true}, domain.NewTerritoryTree(nodes))}
	s := New(nil, DefaultCadence, "EUR")
	p := Params{From: time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}
	lv := Level{Limit: DefaultRepLimit, TerritoryLimit: DefaultRepLimit}
	b.Run("Coverage", func(b *testing.B) {
		for b.Loop() {
			var out Coverage
			s.fillCoverage(&out, rows.scoped(sc), sc, p, lv)
		}
	})
	b.Run("Orders", func(b *testing.B) {
		for b.Loop() {
			var out OrdersReport
			out.ByStatus = emptyStatuses()
			fillOrders(&out, orders, sc, p, lv)
		}
	})
}
