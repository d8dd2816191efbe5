package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CurrentRow is a synced row as it is now: its wire JSON, its version and the
// scope keys it has now (for dependents, the keys of its account).
type CurrentRow struct {
	Version int64
	JSON    json.RawMessage
	Keys    []string
}

// FetchRows loads the current rows of table with the given ids, keyed by id. Ids
// of rows that no longer exist are absent from the result.
func FetchRows(tx *gorm.DB, table string, ids []string) (map[string]CurrentRow, error) {
	out := make(map[string]CurrentRow, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var err error
	switch table {
	case domain.TableTerritories:
		err = fetchInto(tx, ids, out, func(r territoryRow) (string, any, []string) {
			return r.ID, r.domain(), []string{domain.TerritoryRowKey(r.ID)}
		})
	case domain.TableProducts:
		err = fetchInto(tx, ids, out, func(r productRow) (string, any, []string) {
			return r.ID, r.domain(), domain.ProductKeys(r.Active)
		})
	case domain.TableAccounts:
		err = fetchInto(tx, ids, out, func(r accountRow) (string, any, []string) {
			return r.ID, r.domain(), domain.AccountKeys(r.TerritoryID, r.OwnerID)
		})
	case domain.TableUsers:
		err = fetchUsers(tx, ids, out)
	case domain.TableVisits:
		err = fetchDependents(tx, ids, out, func(r visitRow) (string, string, any) { return r.ID, r.AccountID, r.domain() })
	case domain.TableOrders:
		err = fetchDependents(tx, ids, out, func(r orderRow) (string, string, any) { return r.ID, r.AccountID, r.domain() })
	case domain.TableAccountNotes:
		err = fetchDependents(tx, ids, out, func(r noteRow) (string, string, any) { return r.ID, r.AccountID, r.domain() })
	default:
		return nil, fmt.Errorf("fetch rows: unknown table %q", table)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", table, err)
	}
	return out, nil
}

func versionOf(row any) int64 {
	switch r := row.(type) {
	case domain.Territory:
		return r.Version
	case domain.Product:
		return r.Version
	case domain.Account:
		return r.Version
	case domain.User:
		return r.Version
	case domain.Visit:
		return r.Version
	case domain.Order:
		return r.Version
	case domain.AccountNote:
		return r.Version
	}
	return 0
}

func fetchInto[R any](tx *gorm.DB, ids []string, out map[string]CurrentRow, conv func(R) (string, any, []string)) error {
	var rows []R
	if err := tx.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		id, row, keys := conv(r)
		b, err := json.Marshal(row)
		if err != nil {
			return err
		}
		out[id] = CurrentRow{Version: versionOf(row), JSON: b, Keys: keys}
	}
	return nil
}

func fetchUsers(tx *gorm.DB, ids []string, out map[string]CurrentRow) error {
	var rows []userRow
	if err := tx.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return err
	}
	var links []userTerritoryRow
	if err := tx.Where("user_id IN ?", ids).Order("territory_id").Find(&links).Error; err != nil {
		return err
	}
	terr := map[string][]string{}
	for _, l := range links {
		terr[l.UserID] = append(terr[l.UserID], l.TerritoryID)
	}
	for _, r := range rows {
		u := r.record(terr[r.ID]).User
		b, err := json.Marshal(u)
		if err != nil {
			return err
		}
		out[r.ID] = CurrentRow{Version: u.Version, JSON: b, Keys: domain.UserRowKeys(u.ID, u.TerritoryIDs)}
	}
	return nil
}

func fetchDependents[R any](tx *gorm.DB, ids []string, out map[string]CurrentRow, conv func(R) (string, string, any)) error {
	var rows []R
	if err := tx.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return err
	}
	accIDs := make([]string, 0, len(rows))
	seen := map[string]bool{}
	for _, r := range rows {
		_, acc, _ := conv(r)
		if !seen[acc] {
			seen[acc] = true
			accIDs = append(accIDs, acc)
		}
	}
	type accKeys struct {
		ID          string
		TerritoryID string
		OwnerID     *string
	}
	var accs []accKeys
	if len(accIDs) > 0 {
		if err := tx.Table("accounts").Select("id, territory_id, owner_id").Where("id IN ?", accIDs).Scan(&accs).Error; err != nil {
			return err
		}
	}
	keys := make(map[string][]string, len(accs))
	for _, a := range accs {
		keys[a.ID] = domain.AccountKeys(a.TerritoryID, a.OwnerID)
	}
	for _, r := range rows {
		id, acc, row := conv(r)
		b, err := json.Marshal(row)
		if err != nil {
			return err
		}
		out[id] = CurrentRow{Version: versionOf(row), JSON: b, Keys: keys[acc]}
	}
	return nil
}

// ---- push idempotency

type pushResultRow struct {
	UserID     string `gorm:"primaryKey"`
	DeviceID   string `gorm:"primaryKey"`
	MutationID string `gorm:"primaryKey"`
	Result     string
	CreatedAt  time.Time
}

func (pushResultRow) TableName() string { return "push_results" }

// PushResults returns the stored results of the given mutation ids of a device,
// keyed by mutation id.
func PushResults(tx *gorm.DB, userID, deviceID string, mutationIDs []string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if len(mutationIDs) == 0 {
		return out, nil
	}
	var rows []pushResultRow
	if err := tx.Where("user_id = ? AND device_id = ? AND mutation_id IN ?", userID, deviceID, mutationIDs).
		Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read push results: %w", err)
	}
	for _, r := range rows {
		out[r.MutationID] = json.RawMessage(r.Result)
	}
	return out, nil
}

// SavePushResult records the result of a mutation for replays.
func SavePushResult(tx *gorm.DB, now time.Time, userID, deviceID, mutationID string, result []byte) error {
	r := pushResultRow{UserID: userID, DeviceID: deviceID, MutationID: mutationID, Result: string(result), CreatedAt: now}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error; err != nil {
		return fmt.Errorf("save push result: %w", err)
	}
	return nil
}

// RecordSync stamps a device's last pull or push and, for a push, the outbox size
// it reported, for the sync-health report.
func RecordSync(tx *gorm.DB, userID, deviceID string, pulledAt, pushedAt *time.Time, pending *int64) error {
	set := map[string]any{}
	if pulledAt != nil {
		set["last_pull_at"] = *pulledAt
	}
	if pushedAt != nil {
		set["last_push_at"] = *pushedAt
	}
	if pending != nil {
		set["pending"] = *pending
	}
	if len(set) == 0 {
		return nil
	}
	if err := tx.Table("devices").Where("user_id = ? AND device_id = ?", userID, deviceID).Updates(set).Error; err != nil {
		return fmt.Errorf("record sync of device %s: %w", deviceID, err)
	}
	return nil
}
