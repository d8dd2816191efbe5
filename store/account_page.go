package store

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// The dashboard's drill-down ends at a territory's or a rep's accounts
// (docs/reports.md "Levels and pages"): a page at a time, in name order, so a
// list never holds more than a page whatever the territory's size.

// AccountListRow is one account of a page.
type AccountListRow struct {
	ID          string
	Name        string
	TerritoryID string
	Class       string
	Status      string
	LastVisitAt *time.Time // the latest completed visit's check-in (report_accounts)
}

// AccountPage returns up to limit accounts of the territories after the key
// (afterName, afterID), ordered by name then id; afterID "" starts at the first.
func (db *DB) AccountPage(ctx context.Context, territories []string, afterName, afterID string, limit int) ([]AccountListRow, error) {
	if len(territories) == 0 {
		return nil, nil
	}
	q := `SELECT a.id, a.name, a.territory_id, a.class, a.status, r.last_completed_at AS last_visit_at
		FROM accounts a LEFT JOIN report_accounts r ON r.account_id = a.id
		WHERE a.territory_id IN ?`
	args := []any{territories}
	if afterID != "" {
		q += ` AND (a.name > ? OR (a.name = ? AND a.id > ?))`
		args = append(args, afterName, afterName, afterID)
	}
	q += ` ORDER BY a.name, a.id LIMIT ?`
	args = append(args, limit)
	var out []AccountListRow
	if err := db.Gorm.WithContext(ctx).Raw(q, args...).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("account page: %w", err)
	}
	return out, nil
}

// RepTerritories lists the territories a user with role rep is assigned to;
// none for anyone else or an unknown id.
func (db *DB) RepTerritories(ctx context.Context, repID string) ([]string, error) {
	if !domain.IsUUID(repID) {
		return nil, nil
	}
	var out []string
	if err := db.Gorm.WithContext(ctx).Raw(`SELECT ut.territory_id FROM user_territories ut JOIN users u ON u.id = ut.user_id
		WHERE ut.user_id = ? AND u.role = ? ORDER BY ut.territory_id`, repID, string(domain.RoleRep)).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("rep territories: %w", err)
	}
	return out, nil
}
