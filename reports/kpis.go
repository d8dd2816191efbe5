package reports

import (
	"context"
	"slices"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// KPIMetrics are the figures of one territory (with its subtree), one rep or
// the whole scope for a period (docs/reports.md "KPIs"). Pointers are null
// where a figure is undefined (no target, nothing to compare with).
type KPIMetrics struct {
	RevenueCents               int64    `json:"revenue_cents"`
	TargetCents                *int64   `json:"target_cents"`
	AttainmentPct              *float64 `json:"attainment_pct"`
	ForecastCents              int64    `json:"forecast_cents"`
	ForecastAttainmentPct      *float64 `json:"forecast_attainment_pct"`
	PreviousRevenueCents       int64    `json:"previous_revenue_cents"`
	GrowthPct                  *float64 `json:"growth_pct"`
	YearAgoRevenueCents        int64    `json:"year_ago_revenue_cents"`
	YearOverYearPct            *float64 `json:"year_over_year_pct"`
	Orders                     int64    `json:"orders"`
	AverageOrderCents          int64    `json:"average_order_cents"`
	OrderingAccounts           int64    `json:"ordering_accounts"`
	RevenuePerAccountCents     int64    `json:"revenue_per_account_cents"`
	OrdersSubmitted            int64    `json:"orders_submitted"`
	OrdersConfirmed            int64    `json:"orders_confirmed"`
	ConversionPct              float64  `json:"conversion_pct"`
	NewAccounts                int64    `json:"new_accounts"`
	NewAccountsTarget          *int64   `json:"new_accounts_target"`
	LostAccounts               int64    `json:"lost_accounts"`
	VisitsCompleted            int64    `json:"visits_completed"`
	VisitsTarget               *int64   `json:"visits_target"`
	Reps                       int64    `json:"reps"`
	VisitsPerRepPerWorkingDay  float64  `json:"visits_per_rep_per_working_day"`
	PreviousOrders             int64    `json:"previous_orders"`
	PreviousOrderingAccounts   int64    `json:"previous_ordering_accounts"`
	PreviousAverageOrderCents  int64    `json:"previous_average_order_cents"`
	PreviousRevenuePerAccCents int64    `json:"previous_revenue_per_account_cents"`
}

// TerritoryKPIs is one territory's row: its figures cover it and every
// territory below it.
type TerritoryKPIs struct {
	TerritoryID string  `json:"territory_id"`
	Name        string  `json:"name"`
	ParentID    *string `json:"parent_id"`
	// SubTerritories: as in the coverage report.
	SubTerritories int `json:"sub_territories"`
	KPIMetrics
}

// RepKPIs is one rep's row: their own orders and visits on the scope's accounts.
type RepKPIs struct {
	RepID        string   `json:"rep_id"`
	Name         string   `json:"name"`
	TerritoryIDs []string `json:"territory_ids"`
	KPIMetrics
}

// KPIs is the KPI report.
type KPIs struct {
	Period             string          `json:"period"`
	PeriodStart        Date            `json:"period_start"`
	PeriodEnd          Date            `json:"period_end"`
	AsOf               Date            `json:"as_of"`
	Days               int             `json:"days"`
	DaysElapsed        int             `json:"days_elapsed"`
	WorkingDays        int             `json:"working_days"`
	WorkingDaysElapsed int             `json:"working_days_elapsed"`
	Previous           string          `json:"previous_period"`
	YearAgo            string          `json:"year_ago_period"`
	Currency           string          `json:"currency"`
	Totals             KPIMetrics      `json:"totals"`
	Territories        []TerritoryKPIs `json:"territories"`
	Reps               []RepKPIs       `json:"reps"`
	// Depth, RepsTotal and RepsNextCursor: as in the coverage report.
	Depth                 string  `json:"depth"`
	RepsTotal             int     `json:"reps_total"`
	RepsNextCursor        *string `json:"reps_next_cursor"`
	TerritoriesTotal      int     `json:"territories_total"`
	TerritoriesNextCursor *string `json:"territories_next_cursor"`
}

// KPIParams are the parameters of the KPI report: the period, the day the
// report is read as of (figures count up to its end) and the territory.
type KPIParams struct {
	Period      domain.Period
	AsOf        time.Time
	TerritoryID string
}

// ParseKPIParams reads `period` (default: the month of as_of), `as_of`
// (default: today; a day inside or after the period) and `territory_id`.
//
// Dates are calendar dates (held as UTC midnights); now is read on the clock
// of its location, so "today" is the organisation's day when now is in the
// organisation's time zone.
func ParseKPIParams(now time.Time, period, asOf, territoryID string) (KPIParams, error) {
	var p KPIParams
	p.AsOf = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if asOf != "" {
		var err error
		if p.AsOf, err = parseDate("as_of", asOf); err != nil {
			return p, err
		}
	}
	if period == "" {
		period = p.AsOf.Format("2006-01")
	}
	var err error
	if p.Period, err = domain.ParsePeriod(period); err != nil {
		return p, badParam("period", err.Error())
	}
	if p.AsOf.Before(p.Period.Start) {
		return p, badParam("as_of", "must not be before the period's first day")
	}
	if territoryID != "" {
		if !domain.IsUUID(territoryID) {
			return p, badParam("territory_id", "must be a UUID")
		}
		p.TerritoryID = territoryID
	}
	return p, nil
}

// window is a half-open interval of instants.
type window struct{ from, to time.Time }

func (w window) eq(o window) bool { return w.from.Equal(o.from) && w.to.Equal(o.to) }

// kpiTally holds the unrounded inputs of KPIMetrics. The account figures are
// counts already (kpis_sql.go): an account belongs to one territory, so a
// territory's counts add up over its subtree, and a rep row is read whole.
type kpiTally struct {
	revenue, orders, submitted, confirmed int64
	buyers, newBuyers, lost               int64
	prevLikeRevenue, prevLikeOrders       int64
	prevLikeBuyers                        int64
	yearRevenue                           int64
	visits                                int64
	reps                                  map[string]bool
	// repsCounted, when above len(reps), is the number of reps counted
	// (the totals: every rep of the report, without building their set).
	repsCounted int
	target      *domain.Target
	targetSum   *int64 // territories: the targets of the highest targeted sub-territories
}

func newTally() *kpiTally { return &kpiTally{reps: map[string]bool{}} }

func (t *kpiTally) addFrom(o *kpiTally) {
	t.addFigures(o)
	for k := range o.reps {
		t.reps[k] = true
	}
}

// addFigures adds o's figures, not its reps.
func (t *kpiTally) addFigures(o *kpiTally) {
	t.revenue += o.revenue
	t.orders += o.orders
	t.submitted += o.submitted
	t.confirmed += o.confirmed
	t.buyers += o.buyers
	t.newBuyers += o.newBuyers
	t.lost += o.lost
	t.prevLikeRevenue += o.prevLikeRevenue
	t.prevLikeOrders += o.prevLikeOrders
	t.prevLikeBuyers += o.prevLikeBuyers
	t.yearRevenue += o.yearRevenue
	t.visits += o.visits
}

func (t *kpiTally) addFacts(r kpiFactRow) {
	t.revenue += r.Revenue
	t.orders += r.Orders
	t.submitted += r.Submitted
	t.confirmed += r.Confirmed
	t.buyers += r.Buyers
	t.newBuyers += r.NewBuyers
	t.lost += r.Lost
	t.prevLikeRevenue += r.PrevRevenue
	t.prevLikeOrders += r.PrevOrders
	t.prevLikeBuyers += r.PrevBuyers
	t.yearRevenue += r.YearRevenue
}

// counted: the orders coverage counts (submitted, neither cancelled nor rejected).
func counted(status string) bool {
	return status != domain.OrderCancelled && status != domain.OrderRejected && status != domain.OrderDraft
}

// confirmedStatus: orders that reached confirmed and stayed on the way to delivery.
func confirmedStatus(status string) bool {
	return status == domain.OrderConfirmed || status == domain.OrderShipped || status == domain.OrderDelivered
}

func pctPtr(num, den int64) *float64 {
	if den == 0 {
		return nil
	}
	v := ratio(100*num, den, 1)
	return &v
}

func cents(num, den int64) int64 { return int64(ratio(num, den, 0)) }

func growth(cur, prev int64) *float64 {
	if prev == 0 {
		return nil
	}
	return pctPtr(cur-prev, prev)
}

func (t *kpiTally) metrics(k *kpiFrame) KPIMetrics {
	m := KPIMetrics{RevenueCents: t.revenue, Orders: t.orders, OrdersSubmitted: t.submitted,
		OrdersConfirmed: t.confirmed, ConversionPct: ratio(100*t.confirmed, t.submitted, 1),
		OrderingAccounts: t.buyers, NewAccounts: t.newBuyers, LostAccounts: t.lost,
		VisitsCompleted: t.visits, Reps: int64(max(len(t.reps), t.repsCounted)),
		YearAgoRevenueCents: t.yearRevenue, PreviousRevenueCents: t.prevLikeRevenue,
		PreviousOrders: t.prevLikeOrders, PreviousOrderingAccounts: t.prevLikeBuyers}
	m.AverageOrderCents = cents(t.revenue, t.orders)
	m.RevenuePerAccountCents = cents(t.revenue, t.buyers)
	m.PreviousAverageOrderCents = cents(t.prevLikeRevenue, t.prevLikeOrders)
	m.PreviousRevenuePerAccCents = cents(t.prevLikeRevenue, t.prevLikeBuyers)
	m.GrowthPct = growth(t.revenue, t.prevLikeRevenue)
	m.YearOverYearPct = growth(t.revenue, t.yearRevenue)
	if k.elapsed >= k.days {
		m.ForecastCents = t.revenue
	} else {
		m.ForecastCents = cents(t.revenue*int64(k.days), int64(k.elapsed))
	}
	repDays := m.Reps * int64(k.workingElapsed)
	if t.reps == nil { // a rep row: one rep
		repDays = int64(k.workingElapsed)
	}
	m.VisitsPerRepPerWorkingDay = ratio(t.visits, repDays, 2)
	switch {
	case t.target != nil:
		m.TargetCents = &t.target.RevenueCents
		m.VisitsTarget, m.NewAccountsTarget = t.target.Visits, t.target.NewAccounts
	case t.targetSum != nil:
		m.TargetCents = t.targetSum
	}
	if m.TargetCents != nil {
		m.AttainmentPct = pctPtr(m.RevenueCents, *m.TargetCents)
		m.ForecastAttainmentPct = pctPtr(m.ForecastCents, *m.TargetCents)
	}
	return m
}

// kpiFrame is the calendar of one report.
type kpiFrame struct {
	days, elapsed, workingDays, workingElapsed int
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func workingDays(from, to time.Time) int { // [from, to)
	n := 0
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return n
}

// kpiCalendar returns the report's calendar and its windows: the period up
// to the end of as_of, the whole previous period, and the previous period and
// the year-ago period over the same days (whole once the period is complete).
// The windows are calendar dates of the organisation's zone, the days the
// facts are bucketed in (checkZone), so a day starts at local midnight, 23 or
// 25 hours after the previous one around a daylight-saving change.
func kpiCalendar(p KPIParams) (*kpiFrame, kpiWindows) {
	P := p.Period
	end := P.End.AddDate(0, 0, 1)
	cutoff := minTime(p.AsOf.AddDate(0, 0, 1), end) // figures count up to the end of as_of
	prev, year := P.Previous(), P.YearBefore()
	k := &kpiFrame{days: P.Days(), elapsed: int(cutoff.Sub(P.Start).Hours() / 24),
		workingDays: workingDays(P.Start, end), workingElapsed: workingDays(P.Start, cutoff)}
	complete := k.elapsed >= k.days
	like := func(q domain.Period) window {
		qEnd := q.End.AddDate(0, 0, 1)
		if complete {
			return window{q.Start, qEnd}
		}
		return window{q.Start, minTime(q.Start.AddDate(0, 0, k.elapsed), qEnd)}
	}
	return k, kpiWindows{cur: window{P.Start, cutoff}, prevFull: window{prev.Start, prev.End.AddDate(0, 0, 1)},
		prevLike: like(prev), year: like(year)}
}

// KPIs answers the KPI report for the whole tree and every rep.
func (s *Service) KPIs(ctx context.Context, c domain.Caller, p KPIParams) (KPIs, error) {
	return s.KPIsLevel(ctx, c, p, WholeTree)
}

// KPIsLevel answers GET /v1/reports/kpis: one level of the tree and one page
// of reps (Level), or everything when lv.All.
func (s *Service) KPIsLevel(ctx context.Context, c domain.Caller, p KPIParams, lv Level) (KPIs, error) {
	sc, err := s.scopeOf(ctx, c, kindKPIs, p.TerritoryID)
	if err != nil {
		return KPIs{}, err
	}
	lv = lv.forScope(sc)
	P := p.Period
	k, wins := kpiCalendar(p)
	prev, year := P.Previous(), P.YearBefore()

	out := KPIs{Period: P.Name, PeriodStart: Date(P.Start), PeriodEnd: Date(P.End), AsOf: Date(p.AsOf),
		Days: k.days, DaysElapsed: k.elapsed, WorkingDays: k.workingDays, WorkingDaysElapsed: k.workingElapsed,
		Previous: prev.Name, YearAgo: year.Name, Currency: s.currency,
		Territories: []TerritoryKPIs{}, Reps: []RepKPIs{}, Depth: lv.depth()}
	if sc.empty() {
		out.Totals = newTally().metrics(k)
		return out, nil
	}

	in, err := s.kpiInputs(ctx, sc, p, wins)
	if err != nil {
		return KPIs{}, err
	}
	b := in.built // a snapshot's, computed once for every director
	if b == nil {
		b = buildKPI(in)
	}
	targets, err := s.db.TargetsOfPeriod(ctx, P.Name)
	if err != nil {
		return KPIs{}, err
	}
	// Targets are read per request and never written into b's tallies,
	// which a snapshot shares between requests.
	terrTarget := map[string]*domain.Target{}
	repTarget := map[string]*domain.Target{}
	for i := range targets {
		t := &targets[i]
		switch {
		case t.RepID != nil:
			if b.rep[*t.RepID] != nil {
				repTarget[*t.RepID] = t
			}
		case t.TerritoryID != nil && sc.has(*t.TerritoryID):
			terrTarget[*t.TerritoryID] = t
		}
	}
	inScope := func(id string) bool { return sc.has(id) }

	// Totals: the sum of the scope's top rows, that is of every territory
	// of the scope; their reps are every rep of the reps list; their target
	// the targets of the highest targeted territories.
	total := newTally()
	for id, t := range b.leaf {
		if inScope(id) {
			total.addFigures(t)
		}
	}
	total.repsCounted = len(b.rep)
	for id, t := range terrTarget {
		top := true
		for a := sc.Tree.Parent(id); a != nil && inScope(*a); a = sc.Tree.Parent(*a) {
			if terrTarget[*a] != nil {
				top = false
				break
			}
		}
		if top {
			if total.targetSum == nil {
				total.targetSum = new(int64)
			}
			*total.targetSum += t.RevenueCents
		}
	}
	out.Totals = total.metrics(k)

	if lv.All {
		out.Territories = kpiWholeTree(sc, b, terrTarget, k)
		out.TerritoriesTotal = len(out.Territories)
	} else {
		out.Territories, out.TerritoriesTotal, out.TerritoriesNextCursor = kpiLevel(sc, p.TerritoryID, b, terrTarget, k, lv)
	}

	names := in.names
	repIDs := in.byName // a snapshot's reps, sorted once
	if len(repIDs) != len(b.rep) {
		repIDs = make([]string, 0, len(b.rep))
		for _, id := range in.byName {
			if b.rep[id] != nil {
				repIDs = append(repIDs, id)
			}
		}
	}
	if len(repIDs) != len(b.rep) {
		repIDs = make([]string, 0, len(b.rep))
		for id := range b.rep {
			repIDs = append(repIDs, id)
		}
		sortRepIDs(repIDs, names)
	}
	out.RepsTotal = len(repIDs)
	lo, hi, next := lv.pageRows(len(repIDs), func(i int) (string, string) { return names[repIDs[i]], repIDs[i] })
	out.RepsNextCursor = next
	for _, id := range repIDs[lo:hi] {
		ts := b.repTerrs[id]
		if ts == nil {
			ts = []string{}
		}
		t := *b.rep[id]
		t.target = repTarget[id]
		out.Reps = append(out.Reps, RepKPIs{RepID: id, Name: names[id], TerritoryIDs: ts, KPIMetrics: t.metrics(k)})
	}
	return out, nil
}

// kpiBuilt is the report's rows added up per territory (its own accounts'
// figures and the reps assigned to it) and per rep (their own figures), before
// the tree and the targets: what a snapshot computes once (kpiSnapshot).
// Read-only once built.
type kpiBuilt struct {
	leaf     map[string]*kpiTally
	rep      map[string]*kpiTally // reps nil: a rep row
	repTerrs map[string][]string  // a rep's assigned territories, sorted
}

func buildKPI(in kpiInputs) *kpiBuilt {
	b := &kpiBuilt{leaf: map[string]*kpiTally{}, rep: map[string]*kpiTally{}, repTerrs: map[string][]string{}}
	get := func(m map[string]*kpiTally, id string) *kpiTally {
		t := m[id]
		if t == nil {
			t = newTally()
			m[id] = t
		}
		return t
	}
	repOnly := func(id string) *kpiTally { t := get(b.rep, id); t.reps = nil; return t }
	for _, f := range in.facts {
		if f.Kind == "t" {
			get(b.leaf, f.ID).addFacts(f)
		} else {
			repOnly(f.ID).addFacts(f)
		}
	}
	for _, v := range in.visits {
		get(b.leaf, v.TerritoryID).visits += v.B
		repOnly(v.RepID).visits += v.B
	}
	for _, a := range in.assigned {
		get(b.leaf, a.TerritoryID).reps[a.UserID] = true
		b.repTerrs[a.UserID] = append(b.repTerrs[a.UserID], a.TerritoryID)
		repOnly(a.UserID)
	}
	for _, ts := range b.repTerrs {
		slices.Sort(ts)
	}
	return b
}

// kpiWholeTree is every territory row of the scope holding figures, an
// assigned rep or a target in itself or below it, each adding up its
// subtree, by name (depth=all).
func kpiWholeTree(sc scope, b *kpiBuilt, terrTarget map[string]*domain.Target, k *kpiFrame) []TerritoryKPIs {
	inScope := func(id string) bool { return sc.has(id) }
	roll := map[string]*kpiTally{}
	get := func(id string) *kpiTally {
		t := roll[id]
		if t == nil {
			t = newTally()
			roll[id] = t
		}
		return t
	}
	// Roll each territory's own figures up into its ancestors inside the scope.
	for id, t := range b.leaf {
		if !inScope(id) {
			continue
		}
		for a := &id; a != nil && inScope(*a); a = sc.Tree.Parent(*a) {
			get(*a).addFrom(t)
		}
	}
	for id := range terrTarget {
		for a := &id; a != nil && inScope(*a); a = sc.Tree.Parent(*a) {
			get(*a)
		}
	}
	// A territory's target is its own, else the sum of the targets of the
	// highest targeted territories below it.
	var targetOf func(id string) *int64
	targetOf = func(id string) *int64 {
		if t := terrTarget[id]; t != nil {
			return &t.RevenueCents
		}
		var sum *int64
		for _, kid := range sc.Tree.Children(id) {
			if !inScope(kid) {
				continue
			}
			if v := targetOf(kid); v != nil {
				if sum == nil {
					sum = new(int64)
				}
				*sum += *v
			}
		}
		return sum
	}
	ids := make([]string, 0, len(roll))
	for id, t := range roll {
		if t.target = terrTarget[id]; t.target == nil {
			t.targetSum = targetOf(id)
		}
		ids = append(ids, id)
	}
	sc.sortByName(ids)
	out := make([]TerritoryKPIs, 0, len(ids))
	for _, id := range ids {
		out = append(out, TerritoryKPIs{TerritoryID: id, Name: sc.Tree.Name(id), ParentID: sc.Tree.Parent(id),
			SubTerritories: sc.subCount(id), KPIMetrics: roll[id].metrics(k)})
	}
	return out
}

// kpiLevel is one page of one level's rows (sc.levelRows), with figures or
// not, each adding up its subtree: only the page's rows are added up, so a
// director's top level costs one pass over the territories, not a sum per
// ancestor of each.
func kpiLevel(sc scope, focus string, b *kpiBuilt, terrTarget map[string]*domain.Target, k *kpiFrame, lv Level) ([]TerritoryKPIs, int, *string) {
	inScope := func(id string) bool { return sc.has(id) }
	all := sc.levelRows(focus)
	lo, hi, next := lv.territories().pageRows(len(all), func(i int) (string, string) { return sc.name(all[i]), all[i] })
	ids := all[lo:hi]
	rowOf := sc.rowOf(ids)
	sums := make(map[string]*kpiTally, len(ids))
	for _, id := range ids {
		sums[id] = newTally()
	}
	for id, t := range b.leaf {
		if !inScope(id) {
			continue
		}
		if r := rowOf(id); r != "" {
			sums[r].addFrom(t)
		}
	}
	// A row's target is its own, else the sum of the targets of the highest
	// targeted territories below it: those with no targeted territory
	// between them and the row.
	for id, t := range terrTarget {
		for a := sc.Tree.Parent(id); a != nil && inScope(*a); a = sc.Tree.Parent(*a) {
			if r := sums[*a]; r != nil {
				if r.targetSum == nil {
					r.targetSum = new(int64)
				}
				*r.targetSum += t.RevenueCents
				break
			}
			if terrTarget[*a] != nil {
				break
			}
		}
	}
	out := make([]TerritoryKPIs, 0, len(ids))
	for _, id := range ids {
		t := sums[id]
		if t.target = terrTarget[id]; t.target != nil {
			t.targetSum = nil
		}
		out = append(out, TerritoryKPIs{TerritoryID: id, Name: sc.Tree.Name(id), ParentID: sc.Tree.Parent(id),
			SubTerritories: sc.subCount(id), KPIMetrics: t.metrics(k)})
	}
	return out, len(all), next
}
