package store

import (
	"fmt"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Every function here takes the caller's transaction: a synced row and its
// change-log entries are written together or not at all. Create* assign version 1
// and updated_at; Update* take the row as it was (locked by the caller with the
// Get* forUpdate variant) and the row as it should be, bump the version, record
// which fields changed and log the change.

func lock(tx *Tx, forUpdate bool) *gorm.DB {
	if forUpdate {
		return tx.g.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx.g
}

func updateAll(tx *Tx, row any, id string, what string) error {
	// UpdateColumns, not Updates: GORM's Updates sets a field named UpdatedAt
	// to its own clock, so the row stored differed from the row the caller
	// returned (push results, logged changes) by a few milliseconds.
	if err := tx.g.Select("*").Where("id = ?", id).UpdateColumns(row).Error; err != nil {
		return fmt.Errorf("update %s %s: %w", what, id, Translate(err, what))
	}
	return nil
}

// ---- territories

func GetTerritory(tx *Tx, id string, forUpdate bool) (domain.Territory, error) {
	var r territoryRow
	if err := lock(tx, forUpdate).Where("id = ?", id).Take(&r).Error; err != nil {
		return domain.Territory{}, Translate(err, "territory")
	}
	return r.domain(), nil
}

func CreateTerritory(tx *Tx, t domain.Territory) (domain.Territory, error) {
	t.Version, t.UpdatedAt = 1, tx.now
	// A new territory under one of a manager's is in the manager's scope.
	NoteKeys(tx, ScopeNoteKey)
	r := toTerritoryRow(t)
	if err := tx.g.Create(&r).Error; err != nil {
		return t, fmt.Errorf("create territory: %w", Translate(err, "territory"))
	}
	return t, LogChange(tx, Change{Table: domain.TableTerritories, RowID: t.ID, Version: 1,
		Keys: []string{domain.TerritoryRowKey(t.ID)}, Created: true})
}

func UpdateTerritory(tx *Tx, old, t domain.Territory) (domain.Territory, error) {
	if len(domain.ChangedFields(old, t)) == 0 {
		return old, nil
	}
	t.Version, t.UpdatedAt = old.Version+1, tx.now
	// A move in the tree changes the scope of everyone above it.
	NoteKeys(tx, ScopeNoteKey)
	r := toTerritoryRow(t)
	if err := updateAll(tx, &r, t.ID, "territory"); err != nil {
		return t, err
	}
	return t, LogChange(tx, Change{Table: domain.TableTerritories, RowID: t.ID, Version: t.Version,
		Keys: []string{domain.TerritoryRowKey(t.ID)}})
}

// ---- products

func GetProduct(tx *Tx, id string, forUpdate bool) (domain.Product, error) {
	var r productRow
	if err := lock(tx, forUpdate).Where("id = ?", id).Take(&r).Error; err != nil {
		return domain.Product{}, Translate(err, "product")
	}
	return r.domain(), nil
}

// GetProducts returns the products with the given ids, keyed by id.
func GetProducts(tx *Tx, ids []string) (map[string]domain.Product, error) {
	var rows []productRow
	if err := tx.g.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("get products: %w", err)
	}
	out := make(map[string]domain.Product, len(rows))
	for _, r := range rows {
		out[r.ID] = r.domain()
	}
	return out, nil
}

func CreateProduct(tx *Tx, p domain.Product) (domain.Product, error) {
	p.Version, p.UpdatedAt = 1, tx.now
	r := toProductRow(p)
	if err := tx.g.Create(&r).Error; err != nil {
		return p, fmt.Errorf("create product: %w", Translate(err, "product"))
	}
	return p, LogChange(tx, Change{Table: domain.TableProducts, RowID: p.ID, Version: 1,
		Keys: domain.ProductKeys(p.Active), Created: true})
}

func UpdateProduct(tx *Tx, old, p domain.Product) (domain.Product, error) {
	if len(domain.ChangedFields(old, p)) == 0 {
		return old, nil
	}
	p.Version, p.UpdatedAt = old.Version+1, tx.now
	r := toProductRow(p)
	if err := updateAll(tx, &r, p.ID, "product"); err != nil {
		return p, err
	}
	return p, LogChange(tx, Change{Table: domain.TableProducts, RowID: p.ID, Version: p.Version,
		Keys: domain.ProductKeys(p.Active)})
}

// ---- accounts

// Reading an account always locks it. Callers that do not change it write rows
// that depend on it (visits, orders, notes) under scope keys taken from it, so
// they take a share lock: an account move waits for them to commit, then relogs
// their rows under the new keys, or they wait for the move and read the new
// territory. Without it a move racing a push left the push's rows logged under
// the territory the account had left. A writer of the account itself takes NO
// KEY UPDATE (an account's id never changes), which conflicts with SHARE but not
// with the key-share locks of foreign key checks. See locks.go for the order in
// which accounts and rows are locked.
func accountLock(tx *Tx, forUpdate bool) *gorm.DB {
	if forUpdate {
		return tx.g.Clauses(noKeyUpdate)
	}
	return tx.g.Clauses(clause.Locking{Strength: "SHARE"})
}

func GetAccount(tx *Tx, id string, forUpdate bool) (domain.Account, domain.FieldVersions, error) {
	var r accountRow
	if err := accountLock(tx, forUpdate).Where("id = ?", id).Take(&r).Error; err != nil {
		return domain.Account{}, nil, Translate(err, "account")
	}
	return r.domain(), domain.DecodeFieldVersions(r.FieldVersions), nil
}

// GetAccounts returns the accounts with the given ids, keyed by id, share-locked
// in id order (see accountLock).
func GetAccounts(tx *Tx, ids []string) (map[string]domain.Account, error) {
	var rows []accountRow
	if err := accountLock(tx, false).Where("id IN ?", ids).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("get accounts: %w", err)
	}
	out := make(map[string]domain.Account, len(rows))
	for _, r := range rows {
		out[r.ID] = r.domain()
	}
	return out, nil
}

func CreateAccount(tx *Tx, a domain.Account) (domain.Account, error) {
	a.Version, a.UpdatedAt = 1, tx.now
	r := toAccountRow(a, domain.FieldVersions{})
	if err := tx.g.Create(&r).Error; err != nil {
		return a, fmt.Errorf("create account: %w", Translate(err, "account"))
	}
	if err := openAccountHistory(tx, a); err != nil {
		return a, err
	}
	return a, LogChange(tx, Change{Table: domain.TableAccounts, RowID: a.ID, Version: 1,
		Keys: domain.AccountKeys(a.TerritoryID, a.OwnerID), Created: true})
}

// UpdateAccount writes a and, when its territory or owner changed, closes the
// assignment history and relogs the account's visits, orders and notes under the
// new scope keys.
func UpdateAccount(tx *Tx, old domain.Account, fv domain.FieldVersions, a domain.Account) (domain.Account, error) {
	changed := domain.ChangedFields(old, a)
	if len(changed) == 0 {
		return old, nil
	}
	a.Version, a.UpdatedAt = old.Version+1, tx.now
	fv.Touch(a.Version, changed...)
	r := toAccountRow(a, fv)
	if err := updateAll(tx, &r, a.ID, "account"); err != nil {
		return a, err
	}
	keys := domain.AccountKeys(a.TerritoryID, a.OwnerID)
	if err := LogChange(tx, Change{Table: domain.TableAccounts, RowID: a.ID, Version: a.Version, Keys: keys}); err != nil {
		return a, err
	}
	if old.TerritoryID == a.TerritoryID && ptrEq(old.OwnerID, a.OwnerID) {
		return a, nil
	}
	if err := tx.g.Table("account_history").Where("account_id = ? AND valid_to IS NULL", a.ID).
		Update("valid_to", tx.now).Error; err != nil {
		return a, fmt.Errorf("close account history: %w", err)
	}
	if err := openAccountHistory(tx, a); err != nil {
		return a, err
	}
	return a, relogDependents(tx, a.ID, keys)
}

func openAccountHistory(tx *Tx, a domain.Account) error {
	h := map[string]any{"account_id": a.ID, "territory_id": a.TerritoryID, "owner_id": a.OwnerID, "valid_from": tx.now}
	if err := tx.g.Table("account_history").Create(h).Error; err != nil {
		return fmt.Errorf("record account history: %w", err)
	}
	return nil
}

func ptrEq[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// ---- visits

func GetVisit(tx *Tx, id string, forUpdate bool) (domain.Visit, domain.FieldVersions, error) {
	return visits.get(tx, id, forUpdate)
}

// CreateVisit inserts v; acc is its account, whose keys scope the visit. An id
// of a deleted visit continues from its last version (recreate.go), so a
// conflict resolution may re-create a deleted visit with it.
func CreateVisit(tx *Tx, acc domain.Account, v domain.Visit) (domain.Visit, error) {
	return visits.create(tx, acc, v)
}

func UpdateVisit(tx *Tx, acc domain.Account, old domain.Visit, fv domain.FieldVersions, v domain.Visit) (domain.Visit, error) {
	return visits.update(tx, acc, old, fv, v)
}

// DeleteVisit deletes v and clears the link of the orders taken at it
// (visitlinks.go), on every path that deletes a visit.
func DeleteVisit(tx *Tx, acc domain.Account, v domain.Visit) error {
	if err := unlinkOrders(tx, v.ID); err != nil {
		return err
	}
	return visits.delete(tx, acc, v)
}

// ---- orders

func GetOrder(tx *Tx, id string, forUpdate bool) (domain.Order, domain.FieldVersions, error) {
	return orders.get(tx, id, forUpdate)
}

// CreateOrder inserts o. An id of a deleted order continues from its last
// version (recreate.go).
func CreateOrder(tx *Tx, acc domain.Account, o domain.Order) (domain.Order, error) {
	if o.Lines == nil {
		o.Lines = []domain.OrderLine{}
	}
	return orders.create(tx, acc, o)
}

func UpdateOrder(tx *Tx, acc domain.Account, old domain.Order, fv domain.FieldVersions, o domain.Order) (domain.Order, error) {
	return orders.update(tx, acc, old, fv, o)
}

func DeleteOrder(tx *Tx, acc domain.Account, o domain.Order) error {
	return orders.delete(tx, acc, o)
}

// NextOrderNumber takes the next organisation-wide order number (OrderNumbers).
func NextOrderNumber(tx *Tx) (string, error) {
	ns, err := OrderNumbers(tx, 1)
	if err != nil {
		return "", err
	}
	return ns[0], nil
}

// ---- account notes

func GetNote(tx *Tx, id string, forUpdate bool) (domain.AccountNote, domain.FieldVersions, error) {
	return notes.get(tx, id, forUpdate)
}

// CreateNote inserts n. An id of a deleted note continues from its last
// version (recreate.go).
func CreateNote(tx *Tx, acc domain.Account, n domain.AccountNote) (domain.AccountNote, error) {
	return notes.create(tx, acc, n)
}

func UpdateNote(tx *Tx, acc domain.Account, old domain.AccountNote, fv domain.FieldVersions, n domain.AccountNote) (domain.AccountNote, error) {
	return notes.update(tx, acc, old, fv, n)
}

func DeleteNote(tx *Tx, acc domain.Account, n domain.AccountNote) error {
	return notes.delete(tx, acc, n)
}

// InsertVisits inserts new visits (version 1, as prepared by NewVisit) in one
// statement, without logging them: the caller must pass their changes to
// LogChanges in the same transaction. Push batches a request's creates this way.
func InsertVisits(tx *Tx, vs []domain.Visit) error {
	const cols = 15
	for start := 0; start < len(vs); start += 500 {
		batch := vs[start:min(start+500, len(vs))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO visits (id, account_id, rep_id, status, planned_at, checked_in_at, checked_out_at,
			check_in_lat, check_in_lng, check_in_distance_m, outcome, report, field_versions, version, updated_at) VALUES `)
		args := make([]any, 0, len(batch)*cols)
		for i, v := range batch {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			r := toVisitRow(v, nil) // the same mapping (and UTC times) as every other write
			args = append(args, r.ID, r.AccountID, r.RepID, r.Status, r.PlannedAt, r.CheckedInAt, r.CheckedOutAt,
				r.CheckInLat, r.CheckInLng, r.CheckInDistanceM, r.Outcome, r.Report, r.FieldVersions, r.Version, r.UpdatedAt)
		}
		if err := tx.g.Exec(sb.String(), args...).Error; err != nil {
			return fmt.Errorf("create visits: %w", Translate(err, "visit"))
		}
	}
	return nil
}

// NewVisit prepares v as a new row (version 1) and the change-log entry that
// must be written with it, for InsertVisits.
func NewVisit(now time.Time, acc domain.Account, v domain.Visit) (domain.Visit, Change) {
	v.Version, v.UpdatedAt = 1, now
	return v, Change{Table: domain.TableVisits, RowID: v.ID, Version: 1,
		Keys: domain.AccountKeys(acc.TerritoryID, acc.OwnerID), Created: true}
}
