package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// Conflict statuses and resolutions.
const (
	ConflictOpen     = "open"
	ConflictResolved = "resolved"

	ResolutionAuto = "auto"
)

// ConflictRecord is a device write that was not applied as sent: kept for a
// person to resolve (open), or kept as the record of what an automatic merge
// replaced (resolved, resolution "auto").
type ConflictRecord struct {
	ID          string `gorm:"primaryKey"`
	Tbl         string
	RowID       string
	AccountID   *string
	TerritoryID *string
	Status      string
	Reason      string
	UserID      string
	DeviceID    string
	DeviceRow   string
	ServerRow   *string
	Resolution  *string
	ResolvedBy  *string
	ResolvedAt  *time.Time
	CreatedAt   time.Time
}

func (ConflictRecord) TableName() string { return "conflicts" }

// JSONText marshals v for a conflict's row columns; nil stays nil.
func JSONText(v any) *string {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	s := string(b)
	return &s
}

// CreateConflict stores a conflict record.
func CreateConflict(tx *Tx, c ConflictRecord) error {
	if err := tx.g.Create(&c).Error; err != nil {
		return fmt.Errorf("create conflict: %w", err)
	}
	if c.Status == ConflictOpen {
		return queueConflictWebhook(tx, domain.EventConflictOpened, c)
	}
	return nil
}

// HadAccountAccess reports whether userID could see the account through a
// territory assignment or ownership at any time since since: both assignment
// histories must overlap within the window.
func HadAccountAccess(tx *Tx, userID, accountID string, since time.Time) (bool, error) {
	var n int64
	err := tx.g.Raw(`SELECT COUNT(*) FROM account_history ah
		WHERE ah.account_id = ? AND (ah.valid_to IS NULL OR ah.valid_to >= ?)
		  AND (ah.owner_id = ? OR EXISTS (
		    SELECT 1 FROM user_territory_history uh
		    WHERE uh.user_id = ? AND uh.territory_id = ah.territory_id
		      AND (uh.valid_to IS NULL OR uh.valid_to >= ?)
		      AND (ah.valid_to IS NULL OR uh.valid_from <= ah.valid_to)
		      AND (uh.valid_to IS NULL OR ah.valid_from <= uh.valid_to)))`,
		accountID, since, userID, userID, since).Scan(&n).Error
	if err != nil {
		return false, fmt.Errorf("account access history: %w", err)
	}
	return n > 0, nil
}
