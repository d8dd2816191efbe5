package store

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// UserRecord is a user with the fields that never sync: email and password hash.
type UserRecord struct {
	domain.User
	Email        string
	PasswordHash string
	CreatedAt    time.Time
	// DeactivatedAt is when ops deactivated the user; nil while active. Not a
	// synced field: devices see no change, the user's tokens simply stop working.
	DeactivatedAt *time.Time
}

func (r userRow) record(territories []string) UserRecord {
	if territories == nil {
		territories = []string{}
	}
	return UserRecord{
		User: domain.User{ID: r.ID, Name: r.Name, Role: domain.Role(r.Role), TerritoryIDs: territories,
			Meta: meta(r.Version, r.UpdatedAt)},
		Email: r.Email, PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt.UTC(),
		DeactivatedAt: utcPtr(r.DeactivatedAt),
	}
}

// NormalizeEmail is the one form of an email address the store keeps and looks up.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func GetUser(tx *Tx, id string, forUpdate bool) (UserRecord, error) {
	var r userRow
	if err := lock(tx, forUpdate).Where("id = ?", id).Take(&r).Error; err != nil {
		return UserRecord{}, Translate(err, "user")
	}
	ts, err := UserTerritories(tx, id)
	if err != nil {
		return UserRecord{}, err
	}
	return r.record(ts), nil
}

func GetUserByEmail(tx *Tx, email string) (UserRecord, error) {
	var r userRow
	if err := tx.g.Where("email = ?", NormalizeEmail(email)).Take(&r).Error; err != nil {
		return UserRecord{}, Translate(err, "user")
	}
	ts, err := UserTerritories(tx, r.ID)
	if err != nil {
		return UserRecord{}, err
	}
	return r.record(ts), nil
}

// UserTerritories lists the territories assigned to a user, sorted.
func UserTerritories(tx *Tx, userID string) ([]string, error) {
	var ids []string
	if err := tx.g.Model(&userTerritoryRow{}).Where("user_id = ?", userID).Order("territory_id").
		Pluck("territory_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("territories of user %s: %w", userID, err)
	}
	return ids, nil
}

// CreateUser inserts a user with its territories; u.TerritoryIDs must exist.
func CreateUser(tx *Tx, u UserRecord) (UserRecord, error) {
	u.Version, u.UpdatedAt, u.CreatedAt = 1, tx.now, tx.now
	u.Email = NormalizeEmail(u.Email)
	u.TerritoryIDs = sortedUnique(u.TerritoryIDs)
	NoteKeys(tx, ScopeNoteKey)
	r := userRow{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), PasswordHash: u.PasswordHash,
		Version: 1, CreatedAt: tx.now, UpdatedAt: tx.now}
	if err := tx.g.Create(&r).Error; err != nil {
		return u, fmt.Errorf("create user: %w", Translate(err, "user"))
	}
	if err := addUserTerritories(tx, u.ID, u.TerritoryIDs); err != nil {
		return u, err
	}
	return u, LogChange(tx, Change{Table: domain.TableUsers, RowID: u.ID, Version: 1,
		Keys: domain.UserRowKeys(u.ID, u.TerritoryIDs), Created: true})
}

// UpdateUser writes u over old. Replacing the territories closes and opens
// assignment history; the user's own scope change is noticed by their next pull
// (the cursor names the scope it was issued for).
func UpdateUser(tx *Tx, old, u UserRecord) (UserRecord, error) {
	u.TerritoryIDs = sortedUnique(u.TerritoryIDs)
	syncedChanged := len(domain.ChangedFields(old.User, u.User)) > 0
	sameActive := (old.DeactivatedAt == nil) == (u.DeactivatedAt == nil)
	if !syncedChanged && old.PasswordHash == u.PasswordHash && sameActive {
		return old, nil
	}
	// Role, territories or activity: the user's scope may have changed.
	NoteKeys(tx, ScopeNoteKey)
	u.Version, u.UpdatedAt = old.Version, old.UpdatedAt
	if syncedChanged {
		u.Version, u.UpdatedAt = old.Version+1, tx.now
	}
	r := userRow{ID: u.ID, Email: old.Email, Name: u.Name, Role: string(u.Role), PasswordHash: u.PasswordHash,
		Version: u.Version, CreatedAt: old.CreatedAt, UpdatedAt: u.UpdatedAt, DeactivatedAt: u.DeactivatedAt}
	if err := updateAll(tx, &r, u.ID, "user"); err != nil {
		return u, err
	}
	if !syncedChanged {
		return u, nil
	}
	removed := domain.KeyDiff(old.TerritoryIDs, u.TerritoryIDs)
	added := domain.KeyDiff(u.TerritoryIDs, old.TerritoryIDs)
	if len(removed) > 0 {
		if err := tx.g.Where("user_id = ? AND territory_id IN ?", u.ID, removed).Delete(&userTerritoryRow{}).Error; err != nil {
			return u, fmt.Errorf("remove territories of user %s: %w", u.ID, err)
		}
		if err := tx.g.Table("user_territory_history").Where("user_id = ? AND territory_id IN ? AND valid_to IS NULL", u.ID, removed).
			Update("valid_to", tx.now).Error; err != nil {
			return u, fmt.Errorf("close territory history of user %s: %w", u.ID, err)
		}
	}
	if err := addUserTerritories(tx, u.ID, added); err != nil {
		return u, err
	}
	return u, LogChange(tx, Change{Table: domain.TableUsers, RowID: u.ID, Version: u.Version,
		Keys: domain.UserRowKeys(u.ID, u.TerritoryIDs)})
}

func addUserTerritories(tx *Tx, userID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	rows := make([]userTerritoryRow, len(ids))
	hist := make([]map[string]any, len(ids))
	for i, t := range ids {
		rows[i] = userTerritoryRow{UserID: userID, TerritoryID: t}
		hist[i] = map[string]any{"user_id": userID, "territory_id": t, "valid_from": tx.now}
	}
	if err := tx.g.Create(&rows).Error; err != nil {
		return fmt.Errorf("assign territories to user %s: %w", userID, Translate(err, "territory"))
	}
	if err := tx.g.Table("user_territory_history").Create(hist).Error; err != nil {
		return fmt.Errorf("record territory history of user %s: %w", userID, err)
	}
	return nil
}

func sortedUnique(ids []string) []string {
	out := append([]string{}, ids...)
	sort.Strings(out)
	j := 0
	for i, id := range out {
		if i == 0 || id != out[i-1] {
			out[j] = id
			j++
		}
	}
	return out[:j]
}
