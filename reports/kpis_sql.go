package reports

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/store"
)

// The KPI report reads the facts of migration 00023, which triggers keep as
// orders are written and accounts move, never the orders themselves:
//
//  1. report_kpi_facts, one row per account, rep and organisation's day with
//     a submitted order (its current territory, counted orders and revenue,
//     submitted and confirmed orders), over the days of the window, the whole
//     previous period and the year-ago window (the previous period's compared
//     days lie inside the whole of it). The statement sums them per
//     territory, account and rep (ark), then per territory and rep and, per
//     account, per territory, so what reaches Go is one row per territory
//     holding orders and one per territory and rep: the account sets
//     (ordering, new, lost accounts) are counted in SQL. An account belongs
//     to one territory, so a territory's counts add up over its subtree, and
//     a rep's over the territories of the accounts they ordered for: every
//     figure of a rep row is a sum over ark's rows, so the sum of a rep's
//     (territory, rep) rows is the row the rep would have grouped alone.
//     That is what lets an organisation's rows be narrowed to any scope
//     (Snapshots) by keeping the rows of its territories.
//  2. report_kpi_accounts: the day of each account's first counted order;
//     an ordering account is new when that day is on or after period_start.
//  3. report_visit_days (and its deltas): completed visits per (territory,
//     rep) over the window's days, as in the coverage report.
//
// Days are YYYY-MM-DD text parameters (see dayArgs); windows are half-open
// [from, to) days.

// kpiFactRow is one territory's (Kind "t") or one rep's (Kind "r") figures.
// TerritoryID, on a rep row read per territory (kpiFactsByTerritory), is the
// territory of the row's accounts; empty on a rep row summed over every
// territory (kpiFacts, kpiDirect) and on territory rows (ID is theirs).
type kpiFactRow struct {
	Kind                    string
	ID                      string
	TerritoryID             string
	Revenue, Orders         int64
	Submitted, Confirmed    int64
	Buyers, NewBuyers, Lost int64
	PrevRevenue, PrevOrders int64
	PrevBuyers              int64
	YearRevenue             int64
}

// kpiFactsSQL: %[1]s is the scope filter. In ar, pbuy says the account had a
// counted order with the rep in the whole previous period (lost accounts);
// fresh, that its first counted order ever is on or after the period's start
// (probed for the window's buyers only: early in a period they are few, where
// a join would hash every account that ever ordered).
//
// The sums of ar and acc are cast back to bigint: Postgres sums bigints into
// numeric, and the later sums of numerics cost more than those of bigints
// (with JIT off, kpiSession, the statement took about 40 % less at scale 330;
// docs/benchmarks.md, "The KPI report from snapshots"). A row's cents are
// far from 2^63.
const kpiFactsSQL = `
WITH ar AS (
  SELECT f.territory_id, f.account_id, f.rep_id,
    CAST(SUM(CASE WHEN f.day >= @c0 AND f.day < @c1 THEN f.revenue_cents ELSE 0 END) AS bigint) AS rev,
    CAST(SUM(CASE WHEN f.day >= @c0 AND f.day < @c1 THEN f.orders ELSE 0 END) AS bigint) AS n,
    CAST(SUM(CASE WHEN f.day >= @c0 AND f.day < @c1 THEN f.submitted ELSE 0 END) AS bigint) AS sub,
    CAST(SUM(CASE WHEN f.day >= @c0 AND f.day < @c1 THEN f.confirmed ELSE 0 END) AS bigint) AS conf,
    CAST(SUM(CASE WHEN f.day >= @p0 AND f.day < @pl1 THEN f.revenue_cents ELSE 0 END) AS bigint) AS prev_rev,
    CAST(SUM(CASE WHEN f.day >= @p0 AND f.day < @pl1 THEN f.orders ELSE 0 END) AS bigint) AS prev_n,
    CAST(SUM(CASE WHEN f.day >= @y0 AND f.day < @y1 THEN f.revenue_cents ELSE 0 END) AS bigint) AS year_rev,
    MAX(CASE WHEN f.day >= @p0 AND f.day < @p1 AND f.orders > 0 THEN 1 ELSE 0 END) AS pbuy
  FROM report_kpi_facts f
  WHERE ((f.day >= @c0 AND f.day < @c1) OR (f.day >= @p0 AND f.day < @p1) OR (f.day >= @y0 AND f.day < @y1))%[1]s
  GROUP BY f.territory_id, f.account_id, f.rep_id
), ark AS (
  SELECT ar.*, CASE WHEN ar.n > 0 AND EXISTS (SELECT 1 FROM report_kpi_accounts k
    WHERE k.account_id = ar.account_id AND k.first_day >= @c0) THEN 1 ELSE 0 END AS fresh
  FROM ar
), acc AS (
  SELECT territory_id, account_id, CAST(SUM(rev) AS bigint) AS rev, CAST(SUM(n) AS bigint) AS n,
    CAST(SUM(sub) AS bigint) AS sub, CAST(SUM(conf) AS bigint) AS conf, CAST(SUM(prev_rev) AS bigint) AS prev_rev,
    CAST(SUM(prev_n) AS bigint) AS prev_n, CAST(SUM(year_rev) AS bigint) AS year_rev, MAX(pbuy) AS pbuy,
    MAX(fresh) AS fresh
  FROM ark GROUP BY territory_id, account_id
)
SELECT 'r' AS kind, rep_id AS id, CAST(territory_id AS text) AS territory_id,` + kpiSums + `
FROM ark GROUP BY territory_id, rep_id
UNION ALL
SELECT 't' AS kind, territory_id AS id, '' AS territory_id,` + kpiSums + `
FROM acc GROUP BY territory_id`

const kpiSums = `
  CAST(SUM(rev) AS bigint) AS revenue, CAST(SUM(n) AS bigint) AS orders,
  CAST(SUM(sub) AS bigint) AS submitted, CAST(SUM(conf) AS bigint) AS confirmed,
  CAST(SUM(CASE WHEN n > 0 THEN 1 ELSE 0 END) AS bigint) AS buyers,
  CAST(SUM(fresh) AS bigint) AS new_buyers,
  CAST(SUM(CASE WHEN pbuy = 1 AND n = 0 THEN 1 ELSE 0 END) AS bigint) AS lost,
  CAST(SUM(prev_rev) AS bigint) AS prev_revenue, CAST(SUM(prev_n) AS bigint) AS prev_orders,
  CAST(SUM(CASE WHEN prev_n > 0 THEN 1 ELSE 0 END) AS bigint) AS prev_buyers,
  CAST(SUM(year_rev) AS bigint) AS year_revenue`

// kpiVisitsSQL: completed visits of the window's days; rows whose counts went
// back to zero name no territory (see visitsSQL).
const kpiVisitsSQL = `
SELECT territory_id, rep_id, 0 AS a, SUM(completed) AS b FROM (
  SELECT territory_id, rep_id, completed FROM report_visit_days
  WHERE day >= @c0 AND day < @c1 AND completed <> 0%[1]s
  UNION ALL
  SELECT territory_id, rep_id, completed FROM report_visit_deltas
  WHERE day >= @c0 AND day < @c1 AND completed <> 0%[1]s
) x
GROUP BY territory_id, rep_id
HAVING SUM(completed) <> 0`

// kpiWindows are the report's windows as calendar dates, [from, to).
type kpiWindows struct {
	cur, prevFull, prevLike, year window
}

func (w kpiWindows) args(sc scope) []any {
	d := func(t time.Time) string { return t.Format(time.DateOnly) }
	return append([]any{sql.Named("c0", d(w.cur.from)), sql.Named("c1", d(w.cur.to)),
		sql.Named("p0", d(w.prevFull.from)), sql.Named("p1", d(w.prevFull.to)), sql.Named("pl1", d(w.prevLike.to)),
		sql.Named("y0", d(w.year.from)), sql.Named("y1", d(w.year.to))}, sc.scopeArgs()...)
}

// kpiFacts reads the figures of every territory holding orders in the scope
// and of every rep with orders on its accounts (one row each), and the
// completed visits.
func (s *Service) kpiFacts(tx *store.Tx, sc scope, w kpiWindows) ([]kpiFactRow, []activityAgg, error) {
	rows, visits, err := s.kpiFactsByTerritory(tx, sc, w)
	return mergeRepRows(rows), visits, err
}

// kpiFactsByTerritory is kpiFacts with a rep's figures per territory of their
// accounts: rows a scope narrows by territory (kpiFactsSQL).
func (s *Service) kpiFactsByTerritory(tx *store.Tx, sc scope, w kpiWindows) ([]kpiFactRow, []activityAgg, error) {
	args := w.args(sc)
	var rows []kpiFactRow
	if err := tx.Query(&rows, fmt.Sprintf(kpiFactsSQL, sc.scopeIn("f.territory_id")), args...); err != nil {
		return nil, nil, fmt.Errorf("kpi facts: %w", err)
	}
	var visits []activityAgg
	if err := tx.Query(&visits, fmt.Sprintf(kpiVisitsSQL, sc.scopeIn("territory_id")), args...); err != nil {
		return nil, nil, fmt.Errorf("kpi visits: %w", err)
	}
	return rows, visits, nil
}

// mergeRepRows sums each rep's rows into one (every figure of a rep row is a
// sum), keeping territory rows and the order of first appearance.
func mergeRepRows(rows []kpiFactRow) []kpiFactRow {
	out := make([]kpiFactRow, 0, len(rows))
	at := map[string]int{}
	for _, r := range rows {
		if r.Kind != "r" {
			out = append(out, r)
			continue
		}
		r.TerritoryID = ""
		i, ok := at[r.ID]
		if !ok {
			at[r.ID] = len(out)
			out = append(out, r)
			continue
		}
		m := &out[i]
		m.Revenue += r.Revenue
		m.Orders += r.Orders
		m.Submitted += r.Submitted
		m.Confirmed += r.Confirmed
		m.Buyers += r.Buyers
		m.NewBuyers += r.NewBuyers
		m.Lost += r.Lost
		m.PrevRevenue += r.PrevRevenue
		m.PrevOrders += r.PrevOrders
		m.PrevBuyers += r.PrevBuyers
		m.YearRevenue += r.YearRevenue
	}
	return out
}
