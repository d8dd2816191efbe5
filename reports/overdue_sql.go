package reports

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/store"
)

// lastVisitBefore is the latest completed visit of the account whose id is in
// column col, checked in before the instant @end: one backward probe of
// visits_completed (account_id, checked_in_at).
func lastVisitBefore(col string) string {
	return `(SELECT MAX(v.checked_in_at) FROM visits v
  WHERE v.account_id = ` + col + ` AND v.status = 'completed' AND v.checked_in_at < @end)`
}

type overdueRow struct {
	ID          string
	Name        string
	TerritoryID string
	OwnerID     *string
	Class       string
	Lat         *float64
	Lng         *float64
	LastIn      nullTime
}

// overdueOfClass returns up to limit overdue accounts of one class after cur,
// in the report's order. Within one class "more days overdue" is "earlier last
// visit", so the order is plain SQL; the classes are merged in Go. The cursor's
// days-overdue translates for this class into a range of last-visit instants:
// overdue by exactly D days means checked in on the day to − cadence − D.
//
// The candidates come from report_accounts (migration 00004), whose latest
// completed check-in is the one as of `to` unless the account was visited
// after `to`; those few (none when `to` is today) are looked up in visits. The
// branches are ordered by last visit, so a page of the whole organisation reads
// index ranges (report_accounts_overdue) of the overdue accounts only.
func (s *Service) overdueOfClass(tx *store.Tx, sc scope, to time.Time, class string, cur *overdueCursor, limit int) ([]OverdueAccount, error) {
	cadence := s.cadence.Days(class)
	// Instants where the organisation's days start (23 or 25 hours apart
	// around a daylight-saving change).
	end, due := s.midnight(to.AddDate(0, 0, 1)), s.midnight(to.AddDate(0, 0, -cadence))
	cond := sc.scopeIn("s.territory_id")
	args := []any{sql.Named("class", class), sql.Named("end", end), sql.Named("due", due),
		sql.Named("limit", limit)}
	args = append(args, sc.scopeArgs()...)
	where := []string{"(x.last_in IS NULL OR x.last_in < @due)"}
	switch {
	case cur == nil:
	case cur.Never:
		where = append(where, "((x.last_in IS NULL AND x.id > @after_id) OR x.last_in IS NOT NULL)")
		args = append(args, sql.Named("after_id", cur.ID))
	default:
		// Checked in on day0 (overdue by exactly cur.Days) after the cursor's
		// visit, or on a later day (fewer days overdue).
		day0 := to.AddDate(0, 0, -cadence-cur.Days)
		where = append(where, `x.last_in IS NOT NULL AND (x.last_in >= @day_after
			OR (x.last_in >= @day0 AND x.last_in < @day_after AND (x.last_in > @after_last OR (x.last_in = @after_last AND x.id > @after_id))))`)
		args = append(args, sql.Named("day0", s.midnight(day0)), sql.Named("day_after", s.midnight(day0.AddDate(0, 0, 1))),
			sql.Named("after_last", cur.Last), sql.Named("after_id", cur.ID))
	}
	filter := strings.Join(where, " AND ")
	// The filter applies inside each branch, where it can bound the index scan.
	branch := func(lastIn, own string) string {
		return `SELECT * FROM (SELECT s.account_id AS id, ` + lastIn + ` AS last_in FROM report_accounts s
    WHERE s.status = 'active' AND s.class = @class AND ` + own + cond + `) x WHERE ` + filter
	}
	// Accounts never visited and accounts last visited before @due (which is
	// before @end) are two ranges of report_accounts_overdue: as one branch
	// with an OR, the index was read for the whole class (800k accounts at
	// the head of sales' scale) and filtered. After a day cursor no account
	// never visited is left, and none visited before the cursor's day.
	var branches []string
	if cur == nil || cur.Never {
		branches = append(branches, branch("s.last_completed_at", "s.last_completed_at IS NULL"))
	}
	visited := "s.last_completed_at < @due"
	if cur != nil && !cur.Never {
		visited += " AND s.last_completed_at >= @day0"
	}
	branches = append(branches, branch("s.last_completed_at", visited),
		branch(lastVisitBefore("s.account_id"), "s.last_completed_at >= @end"))
	q := `SELECT a.id AS id, a.name AS name, a.territory_id AS territory_id, a.owner_id AS owner_id,
  a.class AS class, a.lat AS lat, a.lng AS lng, p.last_in AS last_in
FROM (
  SELECT id, last_in FROM (
    ` + strings.Join(branches, "\n    UNION ALL\n    ") + `
  ) u ORDER BY last_in NULLS FIRST, id LIMIT @limit
) p JOIN accounts a ON a.id = p.id
ORDER BY p.last_in NULLS FIRST, p.id`
	var rows []overdueRow
	if err := tx.Query(&rows, q, args...); err != nil {
		return nil, fmt.Errorf("overdue accounts: %w", err)
	}
	out := make([]OverdueAccount, len(rows))
	for i, r := range rows {
		out[i] = OverdueAccount{AccountID: r.ID, Name: r.Name, TerritoryID: r.TerritoryID, OwnerID: r.OwnerID,
			Class: r.Class, CadenceDays: cadence, Lat: r.Lat, Lng: r.Lng, LastVisitAt: r.LastIn.ptr(), Reps: []Person{}}
		if r.LastIn.Valid {
			last := s.localDay(r.LastIn.Time)
			d := Date(last)
			since := daysBetween(last, to)
			over := since - cadence
			out[i].LastVisitDate, out[i].DaysSince, out[i].DaysOverdue = &d, &since, &over
		}
	}
	return out, nil
}

// daysBetween counts the days from date a to date b (both UTC midnights, so
// every day is 24 hours long here whatever the zone).
func daysBetween(a, b time.Time) int { return int(b.Sub(a).Hours() / 24) }

// attachReps names who is responsible for each account: its owner when it is a
// key account, else the reps assigned to its territory.
func (s *Service) attachReps(tx *store.Tx, rows []OverdueAccount) error {
	if len(rows) == 0 {
		return nil
	}
	var owners, terrs []string
	for _, r := range rows {
		if r.OwnerID != nil {
			owners = append(owners, *r.OwnerID)
		} else {
			terrs = append(terrs, r.TerritoryID)
		}
	}
	byOwner, byTerr := map[string]Person{}, map[string][]Person{}
	if len(owners) > 0 {
		var ps []Person
		if err := tx.Query(&ps, "SELECT id, name FROM users WHERE id IN ?", owners); err != nil {
			return fmt.Errorf("overdue owners: %w", err)
		}
		for _, p := range ps {
			byOwner[p.ID] = p
		}
	}
	if len(terrs) > 0 {
		var rs []repRow
		if err := tx.Query(&rs, `SELECT u.id AS id, u.name AS name, ut.territory_id AS territory_id
			FROM users u JOIN user_territories ut ON ut.user_id = u.id
			WHERE u.role = 'rep' AND ut.territory_id IN ? ORDER BY u.name, u.id`, terrs); err != nil {
			return fmt.Errorf("overdue reps: %w", err)
		}
		for _, r := range rs {
			byTerr[r.TerritoryID] = append(byTerr[r.TerritoryID], Person{ID: r.ID, Name: r.Name})
		}
	}
	for i, r := range rows {
		if r.OwnerID != nil {
			if p, ok := byOwner[*r.OwnerID]; ok {
				rows[i].Reps = []Person{p}
			}
		} else if ps := byTerr[r.TerritoryID]; ps != nil {
			rows[i].Reps = ps
		}
	}
	return nil
}
