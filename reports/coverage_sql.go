package reports

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/store"
)

// The coverage report reads the report tables of migration 00004, which
// triggers keep as accounts, visits and orders change, never the visits
// themselves except for the few accounts described below:
//
//  1. report_accounts, one row per account, grouped by (territory, class): how
//     many are active, how many were visited in the period and how many are
//     overdue as of `to`. Both follow from the check-in of each account's latest
//     completed visit up to the end of `to`: visited when it falls on or after
//     `from`; overdue when it is older than (to - cadence) 00:00, all in the
//     organisation's zone (docs/reports.md "Days and the time zone"), i.e.
//     (to - date) > cadence, or missing. The table holds each account's latest
//     completed check-in overall, which is that value unless the account was
//     visited after `to`; for those accounts alone (none when `to` is today) the
//     query looks the value up in visits_completed. A report on a past period
//     costs in proportion to the visits since its end.
//  2. report_visit_days (and its deltas): visits planned / completed per
//     (territory, rep) summed over the period's days.
//  3. report_order_days (and its deltas): orders and revenue per (territory,
//     rep), likewise.

type accountAgg struct {
	TerritoryID string
	Class       string
	Accounts    int64 // any status: a territory "holds accounts" even if none is active
	Active      int64
	Visited     int64
	Overdue     int64
}

type activityAgg struct {
	TerritoryID string
	RepID       string
	A           int64
	B           int64
}

type repRow struct {
	ID          string
	Name        string
	TerritoryID string
}

var accountsSQL = `
SELECT territory_id, class, COUNT(*) AS accounts,
  SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS active,
  SUM(CASE WHEN status = 'active' AND last_in >= @start THEN 1 ELSE 0 END) AS visited,
  SUM(CASE WHEN status = 'active' AND (last_in IS NULL
      OR (class = 'A' AND last_in < @due_a) OR (class = 'B' AND last_in < @due_b)
      OR (class NOT IN ('A', 'B') AND last_in < @due_c)) THEN 1 ELSE 0 END) AS overdue
FROM (
  SELECT s.territory_id, s.class, s.status, s.last_completed_at AS last_in
  FROM report_accounts s
  WHERE (s.last_completed_at IS NULL OR s.last_completed_at < @end)%[1]s
  UNION ALL
  SELECT s.territory_id, s.class, s.status,
    CASE WHEN s.status = 'active' THEN ` + lastVisitBefore("s.account_id") + ` END
  FROM report_accounts s
  WHERE s.last_completed_at >= @end%[1]s
) x
GROUP BY territory_id, class`

// The day tables plus the deltas not folded into them yet (Postgres; see
// store.FoldReportDeltas). Rows whose counts went back to zero stay in the day
// tables; HAVING keeps them from naming a territory that no longer holds the
// account they counted.
const visitsSQL = `
SELECT territory_id, rep_id, SUM(planned) AS a, SUM(completed) AS b FROM (
  SELECT territory_id, rep_id, planned, completed FROM report_visit_days
  WHERE day >= @from AND day <= @to%[1]s
  UNION ALL
  SELECT territory_id, rep_id, planned, completed FROM report_visit_deltas
  WHERE day >= @from AND day <= @to%[1]s
) x
GROUP BY territory_id, rep_id
HAVING SUM(planned) <> 0 OR SUM(completed) <> 0`

const ordersSQL = `
SELECT territory_id, rep_id, SUM(orders) AS a, CAST(SUM(revenue_cents) AS bigint) AS b FROM (
  SELECT territory_id, rep_id, orders, revenue_cents FROM report_order_days
  WHERE day >= @from AND day <= @to%[1]s
  UNION ALL
  SELECT territory_id, rep_id, orders, revenue_cents FROM report_order_deltas
  WHERE day >= @from AND day <= @to%[1]s
) x
GROUP BY territory_id, rep_id
HAVING SUM(orders) <> 0 OR SUM(revenue_cents) <> 0`

// overdueBefore returns, per class, the instant a last visit must not be older
// than: (to - cadence) 00:00 in the organisation's zone.
func (s *Service) overdueBefore(to time.Time) (a, b, c time.Time) {
	return s.midnight(to.AddDate(0, 0, -s.cadence.A)), s.midnight(to.AddDate(0, 0, -s.cadence.B)),
		s.midnight(to.AddDate(0, 0, -s.cadence.C))
}

// sqlQuery is one of the report's statements with its arguments.
type sqlQuery struct {
	name string
	sql  string
	args []any
}

// coverageQueries returns the accounts, visits and orders statements for a
// scope and period, in that order.
func (s *Service) coverageQueries(sc scope, p Params) [3]sqlQuery {
	oa, ob, oc := s.overdueBefore(p.To)
	// Instants where the organisation's days start; the day tables hold its
	// days (checkZone), as p does.
	args := []any{sql.Named("start", s.midnight(p.From)), sql.Named("end", s.midnight(p.To.AddDate(0, 0, 1))),
		sql.Named("due_a", oa), sql.Named("due_b", ob), sql.Named("due_c", oc)}
	args = append(args, sc.scopeArgs()...)
	days := dayArgs(sc, p)
	return [3]sqlQuery{
		{"accounts", fmt.Sprintf(accountsSQL, sc.scopeIn("s.territory_id")), args},
		{"visits", fmt.Sprintf(visitsSQL, sc.scopeIn("territory_id")), days},
		{"orders", fmt.Sprintf(ordersSQL, sc.scopeIn("territory_id")), days},
	}
}

// dayArgs are the parameters of a statement over the day tables: @from and
// @to, the period's days as YYYY-MM-DD text (a date on Postgres, and on SQLite
// the form the day columns are stored in, so they compare as text), and
// @scope.
func dayArgs(sc scope, p Params) []any {
	return append([]any{sql.Named("from", p.From.Format(time.DateOnly)), sql.Named("to", p.To.Format(time.DateOnly))}, sc.scopeArgs()...)
}

// coverageRows are the rows of the coverage queries over a scope, or over
// the whole organisation for a snapshot (Snapshots).
type coverageRows struct {
	accounts       []accountAgg
	visits, orders []activityAgg
	reps           []repRow // sorted by name, id, territory
	// whole is the organisation's rows gathered, when they are the
	// organisation's: shared read-only by its organisation-wide reports.
	whole *gathered
}

func (s *Service) queryCoverage(tx *store.Tx, sc scope, p Params) (coverageRows, error) {
	var r coverageRows
	q := s.coverageQueries(sc, p)
	if err := tx.Query(&r.accounts, q[0].sql, q[0].args...); err != nil {
		return r, fmt.Errorf("coverage accounts: %w", err)
	}
	if err := tx.Query(&r.visits, q[1].sql, q[1].args...); err != nil {
		return r, fmt.Errorf("coverage visits: %w", err)
	}
	if err := tx.Query(&r.orders, q[2].sql, q[2].args...); err != nil {
		return r, fmt.Errorf("coverage orders: %w", err)
	}
	if err := tx.Query(&r.reps, `SELECT u.id AS id, u.name AS name, ut.territory_id AS territory_id
		FROM users u JOIN user_territories ut ON ut.user_id = u.id
		WHERE u.role = 'rep'`+sc.scopeIn("ut.territory_id")+` ORDER BY u.name, u.id, ut.territory_id`, sc.scopeArgs()...); err != nil {
		return r, fmt.Errorf("coverage reps: %w", err)
	}
	return r, nil
}

// gather adds the rows up per territory and rep, keeping the rows of the
// territories keep accepts (nil: every row).
func (r coverageRows) gather(keep func(territoryID string) bool) gathered {
	g := gathered{byTerritory: map[string]*tally{}, byRep: map[string]*tally{}}
	for _, a := range r.accounts {
		if keep != nil && !keep(a.TerritoryID) {
			continue
		}
		t := g.terr(a.TerritoryID)
		t.active, t.visited, t.overdue = t.active+a.Active, t.visited+a.Visited, t.overdue+a.Overdue
		if a.Active > 0 {
			t.add(tally{byClass: map[string]int64{a.Class: a.Active}})
		}
	}
	for _, v := range r.visits {
		if keep != nil && !keep(v.TerritoryID) {
			continue
		}
		t, rp := g.terr(v.TerritoryID), g.rep(v.RepID)
		t.planned, t.completed = t.planned+v.A, t.completed+v.B
		rp.planned, rp.completed = rp.planned+v.A, rp.completed+v.B
	}
	for _, o := range r.orders {
		if keep != nil && !keep(o.TerritoryID) {
			continue
		}
		t, rp := g.terr(o.TerritoryID), g.rep(o.RepID)
		t.orders, t.revenue = t.orders+o.A, t.revenue+o.B
		rp.orders, rp.revenue = rp.orders+o.A, rp.revenue+o.B
	}
	g.reps = r.reps
	if keep != nil {
		g.reps = nil
		for _, rp := range r.reps {
			if keep(rp.TerritoryID) {
				g.reps = append(g.reps, rp)
			}
		}
	}
	return g
}

// scoped is the organisation's rows r narrowed to sc.
func (r *coverageRows) scoped(sc scope) gathered {
	if sc.All && r.whole != nil {
		return *r.whole
	}
	return r.gather(sc.keep())
}

// coverageSnapshot returns the organisation's coverage rows for p's period
// from s.snaps, reading them when there is no snapshot young enough.
func (s *Service) coverageSnapshot(ctx context.Context, p Params) (*coverageRows, error) {
	v, err := s.snaps.get(ctx, s.snapKey("coverage", p), func(ctx context.Context) (any, error) {
		var rows coverageRows
		err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
			if err := s.reportMemory(tx); err != nil {
				return err
			}
			if err := s.checkZone(tx); err != nil {
				return err
			}
			var err error
			rows, err = s.queryCoverage(tx, wholeOrganisation, p)
			return err
		})
		if err != nil {
			return nil, err
		}
		g := rows.gather(nil)
		g.prepare()
		rows.whole = &g
		return &rows, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*coverageRows), nil
}
