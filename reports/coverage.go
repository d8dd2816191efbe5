package reports

import (
	"context"
	"sort"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// Metrics are the coverage figures of one group of accounts (docs/protocol.md §6).
type Metrics struct {
	Accounts        int64   `json:"accounts"`
	AccountsVisited int64   `json:"accounts_visited"`
	CoveragePct     float64 `json:"coverage_pct"`
	VisitsPlanned   int64   `json:"visits_planned"`
	VisitsCompleted int64   `json:"visits_completed"`
	VisitsRequired  float64 `json:"visits_required"`
	AttainmentPct   float64 `json:"attainment_pct"`
	OverdueAccounts int64   `json:"overdue_accounts"`
	Orders          int64   `json:"orders"`
	RevenueCents    int64   `json:"revenue_cents"`
	OrdersPerVisit  float64 `json:"orders_per_visit"`
}

type TerritoryCoverage struct {
	TerritoryID string  `json:"territory_id"`
	Name        string  `json:"name"`
	ParentID    *string `json:"parent_id"`
	// SubTerritories is how many territories lie directly below this one in
	// the caller's scope: a row to drill into when above zero.
	SubTerritories int `json:"sub_territories"`
	Metrics
}

type RepCoverage struct {
	RepID        string   `json:"rep_id"`
	Name         string   `json:"name"`
	TerritoryIDs []string `json:"territory_ids"`
	Metrics
	// VisitsRequiredShare is the rep's share of their territories' required
	// visits (each territory's divided by the reps assigned to it), and
	// AttainmentSharePct their completed visits against it: reps sharing a
	// territory add up to it. Metrics keep the contract's definition (the
	// whole of the rep's territories), so both are there to read.
	VisitsRequiredShare float64 `json:"visits_required_share"`
	AttainmentSharePct  float64 `json:"attainment_share_pct"`
}

// Coverage is the coverage report.
type Coverage struct {
	From        Date                `json:"from"`
	To          Date                `json:"to"`
	Days        int                 `json:"days"`
	Cadence     map[string]int      `json:"cadence_days"`
	Currency    string              `json:"currency"`
	Totals      Metrics             `json:"totals"`
	Territories []TerritoryCoverage `json:"territories"`
	Reps        []RepCoverage       `json:"reps"`
	// Depth is "1" when Territories is one level of the tree (each row with
	// its subtree) and Reps one page, "all" for the whole tree.
	Depth          string  `json:"depth"`
	RepsTotal      int     `json:"reps_total"`
	RepsNextCursor *string `json:"reps_next_cursor"`
	// TerritoriesTotal counts the level's rows over every page;
	// TerritoriesNextCursor pages them as reps_next_cursor pages reps.
	TerritoriesTotal      int     `json:"territories_total"`
	TerritoriesNextCursor *string `json:"territories_next_cursor"`
}

// tally holds the unrounded inputs of Metrics; tallies add up, metrics do not.
type tally struct {
	active, visited, overdue int64
	byClass                  map[string]int64 // active accounts per class
	planned, completed       int64
	orders, revenue          int64
	// share, when set, replaces byClass for visits_required: a rep's share of
	// their territories' required visits, shareNum ÷ (lcm × shareDen)
	// (RepCoverage.VisitsRequiredShare).
	shareNum, shareDen int64
}

func (t *tally) add(o tally) {
	t.active += o.active
	t.visited += o.visited
	t.overdue += o.overdue
	for c, n := range o.byClass {
		if t.byClass == nil {
			t.byClass = map[string]int64{}
		}
		t.byClass[c] += n
	}
	t.planned += o.planned
	t.completed += o.completed
	t.orders += o.orders
	t.revenue += o.revenue
}

func (t tally) metrics(days int, cad Cadence) Metrics {
	// visits_required = Σ n·days/cadence, kept exact as a numerator over the
	// cadences' least common multiple.
	lcm := cad.lcm()
	var required int64
	for class, n := range t.byClass {
		required += n * int64(days) * (lcm / int64(cad.Days(class)))
	}
	if t.shareDen > 0 {
		required, lcm = t.shareNum, lcm*t.shareDen
	}
	return Metrics{
		Accounts:        t.active,
		AccountsVisited: t.visited,
		CoveragePct:     pctOf(t.visited, t.active, 1),
		VisitsPlanned:   t.planned,
		VisitsCompleted: t.completed,
		VisitsRequired:  ratio(required, lcm, 2),
		AttainmentPct:   pctOf(t.completed, required, lcm),
		OverdueAccounts: t.overdue,
		Orders:          t.orders,
		RevenueCents:    t.revenue,
		OrdersPerVisit:  ratio(t.orders, t.completed, 1),
	}
}

// Coverage computes the coverage report for the caller's scope, the whole
// tree and every rep.
func (s *Service) Coverage(ctx context.Context, c domain.Caller, p Params) (Coverage, error) {
	return s.CoverageLevel(ctx, c, p, WholeTree)
}

// CoverageLevel computes the coverage report for one level of the caller's
// scope (the children of p.TerritoryID, else the scope's top territories) and
// one page of its reps; lv.All gives the whole tree.
func (s *Service) CoverageLevel(ctx context.Context, c domain.Caller, p Params, lv Level) (Coverage, error) {
	out := Coverage{Depth: lv.depth(), From: Date(p.From), To: Date(p.To), Days: p.Days(), Currency: s.currency,
		Cadence:     map[string]int{"A": s.cadence.A, "B": s.cadence.B, "C": s.cadence.C},
		Territories: []TerritoryCoverage{}, Reps: []RepCoverage{}}
	var sc scope
	var g gathered
	snap := false
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		if err := s.reportMemory(tx); err != nil {
			return err
		}
		if err := s.checkZone(tx); err != nil {
			return err
		}
		var err error
		if sc, err = s.resolveScope(tx, c, kindCoverage, p.TerritoryID); err != nil || sc.empty() {
			return err
		}
		// A large scope reads the organisation's snapshot, outside this
		// transaction (it may have to load it in its own).
		if snap = s.snaps.covers(sc); snap {
			return nil
		}
		rows, err := s.queryCoverage(tx, sc, p)
		g = rows.gather(nil)
		return err
	})
	if err != nil || sc.empty() {
		return out, err
	}
	lv = lv.forScope(sc)
	out.Depth = lv.depth()
	if snap {
		rows, err := s.coverageSnapshot(ctx, p)
		if err != nil {
			return out, err
		}
		g = rows.scoped(sc)
	}
	s.fillCoverage(&out, g, sc, p, lv)
	return out, nil
}

// fillCoverage computes out's totals, territory rows and reps from g.
func (s *Service) fillCoverage(out *Coverage, g gathered, sc scope, p Params, lv Level) {
	days := p.Days()
	if lv.All {
		out.Totals, out.Territories = g.territoryRows(sc, days, s.cadence)
		out.Reps = g.repRows(groupReps(g.reps), days, s.cadence)
		out.RepsTotal, out.TerritoriesTotal = len(out.Reps), len(out.Territories)
	} else {
		// One level and one page of reps: only those rows' figures are
		// computed (a director's scope holds 26,400 territories and 50,000
		// reps).
		out.Totals = g.totals(days, s.cadence)
		out.Territories, out.TerritoriesTotal, out.TerritoriesNextCursor = g.level(sc, p, days, s.cadence, lv.territories())
		reps := g.sorted
		if reps == nil {
			reps = groupReps(g.reps)
			sortReps(reps)
		}
		lo, hi, next := lv.pageRows(len(reps), func(i int) (string, string) { return reps[i].Name, reps[i].RepID })
		out.Reps, out.RepsTotal, out.RepsNextCursor = g.repRows(reps[lo:hi], days, s.cadence), len(reps), next
	}
	for i := range out.Territories {
		out.Territories[i].SubTerritories = sc.subCount(out.Territories[i].TerritoryID)
	}
}

// gathered is what the coverage queries return: tallies per territory, and per
// rep for visits and orders, and the reps with their territories in scope.
type gathered struct {
	byTerritory map[string]*tally
	byRep       map[string]*tally // visits and orders by rep_id, accounts in scope
	reps        []repRow
	// Set once for an organisation's snapshot (prepare), which every
	// director's request reads: the totals, the reps grouped and sorted by
	// name, and how many reps each territory has.
	total   *tally
	sorted  []RepCoverage
	sharing map[string]int64
}

// prepare computes g's totals and rep list ahead of the requests that share
// it.
func (g *gathered) prepare() {
	var total tally
	for _, t := range g.byTerritory {
		total.add(*t)
	}
	g.total = &total
	g.sorted = groupReps(g.reps)
	sortReps(g.sorted)
	g.sharing = g.repsPerTerritory()
}

// repsPerTerritory counts the reps assigned to each territory.
func (g gathered) repsPerTerritory() map[string]int64 {
	if g.sharing != nil {
		return g.sharing
	}
	sharing := map[string]int64{}
	for _, r := range g.reps {
		sharing[r.TerritoryID]++
	}
	return sharing
}

func (g gathered) terr(id string) *tally {
	t := g.byTerritory[id]
	if t == nil {
		t = &tally{}
		g.byTerritory[id] = t
	}
	return t
}

func (g gathered) rep(id string) *tally {
	t := g.byRep[id]
	if t == nil {
		t = &tally{}
		g.byRep[id] = t
	}
	return t
}

// totals are the metrics of every territory gathered.
func (g gathered) totals(days int, cad Cadence) Metrics {
	if g.total != nil {
		return g.total.metrics(days, cad)
	}
	var total tally
	for _, t := range g.byTerritory {
		total.add(*t)
	}
	return total.metrics(days, cad)
}

// territoryRows are the totals and a row per territory gathered, by name.
func (g gathered) territoryRows(sc scope, days int, cad Cadence) (Metrics, []TerritoryCoverage) {
	terrs := make([]TerritoryCoverage, 0, len(g.byTerritory))
	for id, t := range g.byTerritory {
		terrs = append(terrs, TerritoryCoverage{TerritoryID: id, Name: sc.name(id), ParentID: sc.Tree.Parent(id),
			Metrics: t.metrics(days, cad)})
	}
	sort.Slice(terrs, func(i, j int) bool {
		if terrs[i].Name != terrs[j].Name {
			return terrs[i].Name < terrs[j].Name
		}
		return terrs[i].TerritoryID < terrs[j].TerritoryID
	})
	return g.totals(days, cad), terrs
}

// repRows computes the figures of reps (grouped rows of g.reps).
func (g gathered) repRows(reps []RepCoverage, days int, cad Cadence) []RepCoverage {
	out := make([]RepCoverage, 0, len(reps))
	sharing := g.repsPerTerritory()
	lcm := cad.lcm()
	for _, r := range reps {
		var t tally
		// A rep's share of each territory's required visits: the territory's
		// divided by the reps assigned to it, so reps sharing a territory add
		// up to it (docs/reports.md "Coverage").
		den := int64(1)
		for _, tid := range r.TerritoryIDs {
			den = lcmOf(den, sharing[tid])
		}
		t.shareDen = den
		for _, tid := range r.TerritoryIDs {
			if a := g.byTerritory[tid]; a != nil {
				t.active, t.visited, t.overdue = t.active+a.active, t.visited+a.visited, t.overdue+a.overdue
				t.add(tally{byClass: a.byClass})
				var req int64
				for class, n := range a.byClass {
					req += n * int64(days) * (lcm / int64(cad.Days(class)))
				}
				t.shareNum += req * (den / sharing[tid])
			}
		}
		if v := g.byRep[r.RepID]; v != nil {
			t.planned, t.completed, t.orders, t.revenue = v.planned, v.completed, v.orders, v.revenue
		}
		share := t.metrics(days, cad)
		t.shareNum, t.shareDen = 0, 0
		r.Metrics = t.metrics(days, cad)
		r.VisitsRequiredShare, r.AttainmentSharePct = share.VisitsRequired, share.AttainmentPct
		out = append(out, r)
	}
	return out
}

// level adds each territory's tally into its level row (sc.levelRows): the
// rows of one level of the tree, each with its whole subtree, in name order.
func (g gathered) level(sc scope, p Params, days int, cad Cadence, page Level) ([]TerritoryCoverage, int, *string) {
	all := sc.levelRows(p.TerritoryID)
	lo, hi, next := page.pageRows(len(all), func(i int) (string, string) { return sc.name(all[i]), all[i] })
	rows := all[lo:hi]
	rowOf := sc.rowOf(rows)
	sums := make(map[string]*tally, len(rows))
	for _, r := range rows {
		sums[r] = &tally{}
	}
	for id, t := range g.byTerritory {
		if r := rowOf(id); r != "" {
			sums[r].add(*t)
		}
	}
	out := make([]TerritoryCoverage, 0, len(rows))
	for _, r := range rows {
		out = append(out, TerritoryCoverage{TerritoryID: r, Name: sc.name(r), ParentID: sc.Tree.Parent(r),
			Metrics: sums[r].metrics(days, cad)})
	}
	return out, len(all), next
}

// sortReps orders reps by name, then id, as Go compares strings: the order
// the rep cursor relies on (the database's collation may differ).
func sortReps(reps []RepCoverage) {
	sort.SliceStable(reps, func(i, j int) bool {
		if reps[i].Name != reps[j].Name {
			return reps[i].Name < reps[j].Name
		}
		return reps[i].RepID < reps[j].RepID
	})
}

func lcmOf(a, b int64) int64 {
	if b <= 0 {
		return a
	}
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

func groupReps(rows []repRow) []RepCoverage {
	var out []RepCoverage
	for _, r := range rows {
		if n := len(out); n > 0 && out[n-1].RepID == r.ID {
			out[n-1].TerritoryIDs = append(out[n-1].TerritoryIDs, r.TerritoryID)
			continue
		}
		out = append(out, RepCoverage{RepID: r.ID, Name: r.Name, TerritoryIDs: []string{r.TerritoryID}})
	}
	return out
}
