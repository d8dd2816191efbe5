package store

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// The reads behind the KPI report (reports/kpis.go, docs/reports.md "KPIs").
// Territories, when not nil, restricts each read to accounts currently in
// those territories; nil reads the whole organisation. Times bound half-open
// windows [From, To).

// KPIOrderGroup is the orders of one account by one rep with one status whose
// submitted_at lies in a window; TerritoryID is the account's current one.
type KPIOrderGroup struct {
	TerritoryID string
	AccountID   string
	RepID       string
	Status      string
	Orders      int64
	Cents       int64
}

// KPIOrders groups the submitted orders of a window by account, rep and status.
func (db *DB) KPIOrders(ctx context.Context, territories []string, from, to time.Time) ([]KPIOrderGroup, error) {
	q := `SELECT a.territory_id, o.account_id, o.rep_id, o.status, COUNT(*) AS orders, SUM(o.total_cents) AS cents
		FROM orders o JOIN accounts a ON a.id = o.account_id
		WHERE o.submitted_at >= ? AND o.submitted_at < ?`
	args := []any{from.UTC(), to.UTC()}
	if territories != nil {
		if len(territories) == 0 {
			return nil, nil
		}
		q += " AND a.territory_id IN ?"
		args = append(args, territories)
	}
	q += " GROUP BY a.territory_id, o.account_id, o.rep_id, o.status"
	var out []KPIOrderGroup
	if err := db.Gorm.WithContext(ctx).Raw(q, args...).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("kpi orders: %w", err)
	}
	return out, nil
}

// KPIVisitGroup counts the completed visits of one rep on the accounts of one
// territory checked in during a window.
type KPIVisitGroup struct {
	TerritoryID string
	RepID       string
	Visits      int64
}

// KPIVisits groups the completed visits of a window by territory and rep.
func (db *DB) KPIVisits(ctx context.Context, territories []string, from, to time.Time) ([]KPIVisitGroup, error) {
	q := `SELECT a.territory_id, v.rep_id, COUNT(*) AS visits
		FROM visits v JOIN accounts a ON a.id = v.account_id
		WHERE v.status = 'completed' AND v.checked_in_at >= ? AND v.checked_in_at < ?`
	args := []any{from.UTC(), to.UTC()}
	if territories != nil {
		if len(territories) == 0 {
			return nil, nil
		}
		q += " AND a.territory_id IN ?"
		args = append(args, territories)
	}
	q += " GROUP BY a.territory_id, v.rep_id"
	var out []KPIVisitGroup
	if err := db.Gorm.WithContext(ctx).Raw(q, args...).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("kpi visits: %w", err)
	}
	return out, nil
}

// KPIPriorBuyers returns which of the accounts have an order submitted before
// `before` that was neither cancelled nor rejected.
func (db *DB) KPIPriorBuyers(ctx context.Context, accountIDs []string, before time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	const chunk = 5000
	for i := 0; i < len(accountIDs); i += chunk {
		ids := accountIDs[i:min(i+chunk, len(accountIDs))]
		q := `SELECT DISTINCT account_id FROM orders
			WHERE account_id IN ? AND submitted_at < ? AND status NOT IN ?`
		var arg any = ids
		if db.Dialect == Postgres {
			q = `SELECT DISTINCT account_id FROM orders
			WHERE account_id = ANY(?::uuid[]) AND submitted_at < ? AND status NOT IN ?`
			arg = pgTextArray(ids)
		}
		var found []string
		if err := db.Gorm.WithContext(ctx).Raw(q, arg, before.UTC(),
			[]string{domain.OrderCancelled, domain.OrderRejected}).Scan(&found).Error; err != nil {
			return nil, fmt.Errorf("kpi prior buyers: %w", err)
		}
		for _, id := range found {
			out[id] = true
		}
	}
	return out, nil
}

// KPIRep is a rep's assignment to one territory (TerritoryID empty for a rep
// with none in the territories asked for).
type KPIRep struct {
	UserID      string
	Name        string
	TerritoryID string
}

// KPIAssignedReps lists the assignments of users with role rep to the
// territories (nil: every territory).
func (db *DB) KPIAssignedReps(ctx context.Context, territories []string) ([]KPIRep, error) {
	q := `SELECT ut.user_id, u.name, ut.territory_id FROM user_territories ut JOIN users u ON u.id = ut.user_id
		WHERE u.role = ?`
	args := []any{string(domain.RoleRep)}
	if territories != nil {
		if len(territories) == 0 {
			return nil, nil
		}
		q += " AND ut.territory_id IN ?"
		args = append(args, territories)
	}
	var out []KPIRep
	if err := db.Gorm.WithContext(ctx).Raw(q, args...).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("kpi reps: %w", err)
	}
	return out, nil
}

// UserNames returns the names of the users with the given ids.
func (db *DB) UserNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []userRow
	if err := db.Gorm.WithContext(ctx).Select("id", "name").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("user names: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

// TargetsOfPeriod returns every target of a period (a month or quarter name).
func (db *DB) TargetsOfPeriod(ctx context.Context, period string) ([]domain.Target, error) {
	var rows []targetRow
	if err := db.Gorm.WithContext(ctx).Where("period = ?", period).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("targets of %s: %w", period, err)
	}
	out := make([]domain.Target, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
