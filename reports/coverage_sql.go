package reports

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// The coverage report is three grouped queries, each one pass over an index
// range, never a query per account or per rep:
//
//  1. active accounts per (territory, class), with how many were visited in the
//     period and how many are overdue. The visits side reads completed visits
//     checked in between min(from, to - longest cadence) and the end of `to` once
//     (visits_completed_time), takes each account's latest, and joins it to the
//     accounts; an account is overdue when that latest is older than
//     (to - its cadence) 00:00, i.e. (to - date) > cadence, or missing.
//  2. visits planned / completed in the period per (territory, rep).
//  3. orders submitted in the period per (territory, rep).

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

const accountsSQL = `
SELECT a.territory_id AS territory_id, a.class AS class, COUNT(*) AS accounts,
  SUM(CASE WHEN a.status = 'active' THEN 1 ELSE 0 END) AS active,
  SUM(CASE WHEN a.status = 'active' AND v.in_period > 0 THEN 1 ELSE 0 END) AS visited,
  SUM(CASE WHEN a.status = 'active' AND (v.last_in IS NULL
      OR (a.class = 'A' AND v.last_in < ?) OR (a.class = 'B' AND v.last_in < ?)
      OR (a.class NOT IN ('A', 'B') AND v.last_in < ?)) THEN 1 ELSE 0 END) AS overdue
FROM accounts a LEFT JOIN (
  SELECT v.account_id AS account_id, MAX(v.checked_in_at) AS last_in,
    SUM(CASE WHEN v.checked_in_at >= ? THEN 1 ELSE 0 END) AS in_period
  FROM visits v JOIN accounts a2 ON a2.id = v.account_id
  WHERE v.status = 'completed' AND v.checked_in_at >= ? AND v.checked_in_at < ?
    AND a2.status = 'active'%s
  GROUP BY v.account_id
) v ON v.account_id = a.id
WHERE 1 = 1%s
GROUP BY a.territory_id, a.class`

const visitsSQL = `
SELECT a.territory_id AS territory_id, v.rep_id AS rep_id,
  SUM(CASE WHEN v.planned_at >= ? AND v.planned_at < ? THEN 1 ELSE 0 END) AS a,
  SUM(CASE WHEN v.status = 'completed' AND v.checked_in_at >= ? AND v.checked_in_at < ? THEN 1 ELSE 0 END) AS b
FROM visits v JOIN accounts a ON a.id = v.account_id
WHERE ((v.planned_at >= ? AND v.planned_at < ?)
   OR (v.status = 'completed' AND v.checked_in_at >= ? AND v.checked_in_at < ?))%s
GROUP BY a.territory_id, v.rep_id`

const ordersSQL = `
SELECT a.territory_id AS territory_id, o.rep_id AS rep_id, COUNT(*) AS a,
  CAST(COALESCE(SUM(o.total_cents), 0) AS bigint) AS b
FROM orders o JOIN accounts a ON a.id = o.account_id
WHERE o.submitted_at >= ? AND o.submitted_at < ? AND o.status NOT IN ('cancelled', 'rejected')%s
GROUP BY a.territory_id, o.rep_id`

// overdueBefore returns, per class, the instant a last visit must not be older
// than: (to - cadence) 00:00 UTC.
func (s *Service) overdueBefore(to time.Time) (a, b, c time.Time) {
	return to.AddDate(0, 0, -s.cadence.A), to.AddDate(0, 0, -s.cadence.B), to.AddDate(0, 0, -s.cadence.C)
}

func (s *Service) gather(tx *gorm.DB, sc scope, p Params) (gathered, error) {
	g := gathered{byTerritory: map[string]*tally{}, byRep: map[string]*tally{}}
	if err := s.gatherAccounts(tx, sc, p, g); err != nil {
		return g, err
	}
	start, end := p.start(), p.end()
	cond, args := sc.filter("a.territory_id")
	var visits []activityAgg
	vargs := append([]any{start, end, start, end, start, end, start, end}, args...)
	if err := tx.Raw(fmt.Sprintf(visitsSQL, cond), vargs...).Scan(&visits).Error; err != nil {
		return g, fmt.Errorf("coverage visits: %w", err)
	}
	for _, v := range visits {
		t, r := g.terr(v.TerritoryID), g.rep(v.RepID)
		t.planned, t.completed = t.planned+v.A, t.completed+v.B
		r.planned, r.completed = r.planned+v.A, r.completed+v.B
	}
	var orders []activityAgg
	if err := tx.Raw(fmt.Sprintf(ordersSQL, cond), append([]any{start, end}, args...)...).Scan(&orders).Error; err != nil {
		return g, fmt.Errorf("coverage orders: %w", err)
	}
	for _, o := range orders {
		t, r := g.terr(o.TerritoryID), g.rep(o.RepID)
		t.orders, t.revenue = t.orders+o.A, t.revenue+o.B
		r.orders, r.revenue = r.orders+o.A, r.revenue+o.B
	}
	ucond, uargs := sc.filter("ut.territory_id")
	if err := tx.Raw(`SELECT u.id AS id, u.name AS name, ut.territory_id AS territory_id
		FROM users u JOIN user_territories ut ON ut.user_id = u.id
		WHERE u.role = 'rep'`+ucond+` ORDER BY u.name, u.id, ut.territory_id`, uargs...).Scan(&g.reps).Error; err != nil {
		return g, fmt.Errorf("coverage reps: %w", err)
	}
	return g, nil
}

func (s *Service) gatherAccounts(tx *gorm.DB, sc scope, p Params, g gathered) error {
	oa, ob, oc := s.overdueBefore(p.To)
	lo := p.start()
	if w := p.To.AddDate(0, 0, -s.cadence.max()); w.Before(lo) {
		lo = w
	}
	innerCond, innerArgs := sc.filter("a2.territory_id")
	outerCond, outerArgs := sc.filter("a.territory_id")
	args := []any{oa, ob, oc, p.start(), lo, p.end()}
	args = append(append(args, innerArgs...), outerArgs...)
	var rows []accountAgg
	if err := tx.Raw(fmt.Sprintf(accountsSQL, innerCond, outerCond), args...).Scan(&rows).Error; err != nil {
		return fmt.Errorf("coverage accounts: %w", err)
	}
	for _, r := range rows {
		t := g.terr(r.TerritoryID)
		t.active, t.visited, t.overdue = t.active+r.Active, t.visited+r.Visited, t.overdue+r.Overdue
		if r.Active > 0 {
			t.add(tally{byClass: map[string]int64{r.Class: r.Active}})
		}
	}
	return nil
}
