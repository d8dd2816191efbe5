package reports

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// MapPoint is an active account with coordinates and how long ago it was last
// visited, for the dashboard's plot.
type MapPoint struct {
	AccountID string
	// TerritoryID and TerritoryName label the territories on the map.
	TerritoryID   string
	TerritoryName string
	Name          string
	Class         string
	Lat, Lng      float64
	CadenceDays   int
	DaysSince     *int // null: never visited before `to`
}

// Overdueness is days since the last visit over the cadence: ≤ 1 on time, > 1
// overdue; never visited counts as infinitely overdue (-1 here).
func (m MapPoint) Overdueness() float64 {
	if m.DaysSince == nil {
		return -1
	}
	return float64(*m.DaysSince) / float64(m.CadenceDays)
}

type mapRow struct {
	ID          string
	TerritoryID string
	Name        string
	Class       string
	Lat         float64
	Lng         float64
	LastIn      nullTime
}

// AccountMap returns up to limit active accounts of the scope that have
// coordinates (the first by id: a stable sample when the scope is larger), and
// whether there were more. Readers of the overdue report may read it.
func (s *Service) AccountMap(ctx context.Context, c domain.Caller, p Params, limit int) ([]MapPoint, bool, error) {
	var out []MapPoint
	more := false
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		sc, err := s.resolveScope(tx, c, kindOverdue, p.TerritoryID)
		if err != nil || sc.empty() {
			return err
		}
		q := `SELECT a.id AS id, a.territory_id AS territory_id, a.name AS name, a.class AS class, a.lat AS lat, a.lng AS lng, ` + lastVisitBefore("a.id") + ` AS last_in
FROM accounts a WHERE a.status = 'active' AND a.lat IS NOT NULL AND a.lng IS NOT NULL` + sc.scopeIn("a.territory_id") + `
ORDER BY a.id LIMIT @limit`
		var rows []mapRow
		if err := tx.Query(&rows, q, append([]any{sql.Named("end", s.midnight(p.To.AddDate(0, 0, 1))), sql.Named("limit", limit+1)}, sc.scopeArgs()...)...); err != nil {
			return fmt.Errorf("account map: %w", err)
		}
		if len(rows) > limit {
			rows, more = rows[:limit], true
		}
		for _, r := range rows {
			pt := MapPoint{AccountID: r.ID, TerritoryID: r.TerritoryID, TerritoryName: sc.Tree.Name(r.TerritoryID), Name: r.Name, Class: r.Class, Lat: r.Lat, Lng: r.Lng,
				CadenceDays: s.cadence.Days(r.Class)}
			if r.LastIn.Valid {
				d := daysBetween(s.localDay(r.LastIn.Time), p.To)
				pt.DaysSince = &d
			}
			out = append(out, pt)
		}
		return nil
	})
	return out, more, err
}
