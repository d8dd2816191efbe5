package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// Bulk inserts are the fixtures' path into the synced tables: many new rows per
// statement instead of one store.Create* call per row. They keep the same
// invariants as Create*: version 1 (but for orders loaded with their history),
// updated_at = now, assignment history opened,
// and one change-log entry per scope key, all in the caller's transaction.

// bulkBatch is the number of rows per INSERT: large enough to amortise the round
// trip, small enough to stay under SQLite's and Postgres' bind-parameter limits
// for the widest table (order_events, 17 columns).
const bulkBatch = 1000

type accountHistoryRow struct {
	AccountID   string
	TerritoryID string
	OwnerID     *string
	ValidFrom   time.Time
	ValidTo     *time.Time
}

func (accountHistoryRow) TableName() string { return "account_history" }

type userTerritoryHistoryRow struct {
	UserID      string
	TerritoryID string
	ValidFrom   time.Time
	ValidTo     *time.Time
}

func (userTerritoryHistoryRow) TableName() string { return "user_territory_history" }

func insertBatches[T any](tx *Tx, what string, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	if err := tx.g.CreateInBatches(&rows, bulkBatch).Error; err != nil {
		return fmt.Errorf("bulk insert %s: %w", what, Translate(err, what))
	}
	return nil
}

// logCreated appends the change-log entries of new rows and returns how many it
// wrote.
func logCreated(tx *Tx, cs []Change) (int, error) {
	n := 0
	for _, c := range cs {
		n += len(c.Keys)
	}
	return n, LogChanges(tx, cs)
}

func created(table, id string, keys []string) Change {
	return Change{Table: table, RowID: id, Version: 1, Keys: keys, Created: true}
}

// BulkInsertTerritories inserts new territories, parents before children, and
// returns the number of change-log entries written.
func BulkInsertTerritories(tx *Tx, ts []domain.Territory) (int, error) {
	rows := make([]territoryRow, len(ts))
	cs := make([]Change, len(ts))
	for i, t := range ts {
		t.Version, t.UpdatedAt = 1, tx.now
		rows[i] = toTerritoryRow(t)
		cs[i] = created(domain.TableTerritories, t.ID, []string{domain.TerritoryRowKey(t.ID)})
	}
	if err := insertBatches(tx, "territory", rows); err != nil {
		return 0, err
	}
	NoteKeys(tx, ScopeNoteKey)
	return logCreated(tx, cs)
}

// BulkInsertUsers inserts new users with their territory assignments, opening
// the assignment history at since (so the users count as assigned for the whole
// generated history), and returns the number of change-log entries written.
func BulkInsertUsers(tx *Tx, since time.Time, us []UserRecord) (int, error) {
	rows := make([]userRow, len(us))
	var (
		assigned []userTerritoryRow
		history  []userTerritoryHistoryRow
	)
	cs := make([]Change, len(us))
	for i, u := range us {
		ts := sortedUnique(u.TerritoryIDs)
		rows[i] = userRow{ID: u.ID, Email: NormalizeEmail(u.Email), Name: u.Name, Role: string(u.Role),
			PasswordHash: u.PasswordHash, Version: 1, CreatedAt: tx.now, UpdatedAt: tx.now}
		for _, t := range ts {
			assigned = append(assigned, userTerritoryRow{UserID: u.ID, TerritoryID: t})
			history = append(history, userTerritoryHistoryRow{UserID: u.ID, TerritoryID: t, ValidFrom: since})
		}
		cs[i] = created(domain.TableUsers, u.ID, domain.UserRowKeys(u.ID, ts))
	}
	if err := insertBatches(tx, "user", rows); err != nil {
		return 0, err
	}
	if err := insertBatches(tx, "user territory", assigned); err != nil {
		return 0, err
	}
	if err := insertBatches(tx, "user territory history", history); err != nil {
		return 0, err
	}
	NoteKeys(tx, ScopeNoteKey)
	return logCreated(tx, cs)
}

// BulkInsertProducts inserts new products and returns the number of change-log
// entries written.
func BulkInsertProducts(tx *Tx, ps []domain.Product) (int, error) {
	rows := make([]productRow, len(ps))
	cs := make([]Change, len(ps))
	for i, p := range ps {
		p.Version, p.UpdatedAt = 1, tx.now
		rows[i] = toProductRow(p)
		cs[i] = created(domain.TableProducts, p.ID, domain.ProductKeys(p.Active))
	}
	if err := insertBatches(tx, "product", rows); err != nil {
		return 0, err
	}
	return logCreated(tx, cs)
}

// BulkInsertAccounts inserts new accounts, opening their assignment history at
// since, and returns the number of change-log entries written.
func BulkInsertAccounts(tx *Tx, since time.Time, as []domain.Account) (int, error) {
	rows := make([]accountRow, len(as))
	history := make([]accountHistoryRow, len(as))
	cs := make([]Change, len(as))
	for i, a := range as {
		a.Version, a.UpdatedAt = 1, tx.now
		rows[i] = toAccountRow(a, domain.FieldVersions{})
		history[i] = accountHistoryRow{AccountID: a.ID, TerritoryID: a.TerritoryID, OwnerID: a.OwnerID, ValidFrom: since}
		cs[i] = created(domain.TableAccounts, a.ID, domain.AccountKeys(a.TerritoryID, a.OwnerID))
	}
	if err := insertBatches(tx, "account", rows); err != nil {
		return 0, err
	}
	if err := insertBatches(tx, "account history", history); err != nil {
		return 0, err
	}
	return logCreated(tx, cs)
}

// AccountKeyer returns the scope keys of the account with the given id; visits,
// orders and notes are logged under their account's keys.
type AccountKeyer func(accountID string) ([]string, error)

// KeysOf is an AccountKeyer over accounts the caller already holds.
func KeysOf(accounts map[string]domain.Account) AccountKeyer {
	return func(id string) ([]string, error) {
		a, ok := accounts[id]
		if !ok {
			return nil, fmt.Errorf("account %s is not among the bulk-loaded accounts", id)
		}
		return domain.AccountKeys(a.TerritoryID, a.OwnerID), nil
	}
}

func dependentChanges(table string, n int, row func(i int) (id, accountID string), keys AccountKeyer) ([]Change, error) {
	cs := make([]Change, n)
	for i := range n {
		id, acc := row(i)
		k, err := keys(acc)
		if err != nil {
			return nil, err
		}
		cs[i] = created(table, id, k)
	}
	return cs, nil
}

// BulkInsertVisits inserts new visits and returns the number of change-log
// entries written.
func BulkInsertVisits(tx *Tx, keys AccountKeyer, vs []domain.Visit) (int, error) {
	cs, err := dependentChanges(domain.TableVisits, len(vs), func(i int) (string, string) { return vs[i].ID, vs[i].AccountID }, keys)
	if err != nil {
		return 0, err
	}
	rows := make([]visitRow, len(vs))
	for i, v := range vs {
		v.Version, v.UpdatedAt = 1, tx.now
		rows[i] = toVisitRow(v, domain.FieldVersions{})
	}
	if err := insertBatches(tx, "visit", rows); err != nil {
		return 0, err
	}
	return logCreated(tx, cs)
}

// BulkInsertOrders inserts new orders as given (number and total included: the
// caller prices them) and returns the number of change-log entries written.
// An order keeps a version the caller set (the number of writes of the
// history it inserts with BulkInsertOrderEvents); one without is at 1.
func BulkInsertOrders(tx *Tx, keys AccountKeyer, orders []domain.Order) (int, error) {
	cs, err := dependentChanges(domain.TableOrders, len(orders), func(i int) (string, string) { return orders[i].ID, orders[i].AccountID }, keys)
	if err != nil {
		return 0, err
	}
	rows := make([]orderRow, len(orders))
	for i, o := range orders {
		if o.Version < 1 {
			o.Version = 1
		}
		o.UpdatedAt = tx.now
		rows[i] = toOrderRow(o, domain.FieldVersions{})
		cs[i].Version = o.Version
	}
	if err := insertBatches(tx, "order", rows); err != nil {
		return 0, err
	}
	return logCreated(tx, cs)
}

// BulkInsertOrderEvents inserts order history entries as given: the
// fixtures' orders' past, written with the orders. Unlike RecordOrderChange
// it queues no webhook events: a past that is loaded did not just happen.
func BulkInsertOrderEvents(tx *Tx, es []domain.OrderEvent) error {
	rows := make([]orderEventRow, len(es))
	for i, e := range es {
		fields := e.Fields
		if fields == nil {
			fields = []string{}
		}
		b, err := json.Marshal(fields)
		if err != nil {
			return fmt.Errorf("bulk insert order events: fields of %s: %w", e.ID, err)
		}
		rows[i] = orderEventRow{ID: e.ID, OrderID: e.OrderID, Version: e.Version, Kind: e.Kind,
			FromStatus: e.FromStatus, ToStatus: e.Status, Fields: string(b), Reason: e.Reason, ActorID: e.ActorID,
			ActorRole: e.ActorRole, DeviceID: e.DeviceID, Via: e.Via, ConflictID: e.ConflictID, At: e.At.UTC(),
			ActorName: e.ActorName, ERPRef: e.ERPRef, ReportedAt: utcPtr(e.ReportedAt)}
	}
	return insertBatches(tx, "order event", rows)
}

// BulkInsertNotes inserts new account notes and returns the number of
// change-log entries written.
func BulkInsertNotes(tx *Tx, keys AccountKeyer, ns []domain.AccountNote) (int, error) {
	cs, err := dependentChanges(domain.TableAccountNotes, len(ns), func(i int) (string, string) { return ns[i].ID, ns[i].AccountID }, keys)
	if err != nil {
		return 0, err
	}
	rows := make([]noteRow, len(ns))
	for i, n := range ns {
		n.Version, n.UpdatedAt = 1, tx.now
		rows[i] = toNoteRow(n, domain.FieldVersions{})
	}
	if err := insertBatches(tx, "account note", rows); err != nil {
		return 0, err
	}
	return logCreated(tx, cs)
}

// OrderNumbers takes n order numbers, unique across the organisation and
// increasing. On Postgres they come from a sequence: nextval holds no lock, so
// concurrent submits do not queue on (or deadlock over) one counter row; a
// transaction that rolls back leaves a gap. On SQLite, whose single writer
// serialises submits anyway, the counter row advances once for the block, so
// its numbers are consecutive.
func OrderNumbers(tx *Tx, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	values := make([]int64, 0, n)
	if tx.dialect == Postgres {
		if err := tx.g.Raw("SELECT nextval('order_number_seq') AS n FROM generate_series(1, ?) ORDER BY n", n).
			Scan(&values).Error; err != nil {
			return nil, fmt.Errorf("take %d order numbers: %w", n, err)
		}
		if len(values) != n {
			return nil, fmt.Errorf("take %d order numbers: got %d", n, len(values))
		}
	} else {
		var last int64
		if err := tx.g.Raw("UPDATE counters SET value = value + ? WHERE name = 'order_number' RETURNING value", n).
			Scan(&last).Error; err != nil {
			return nil, fmt.Errorf("take %d order numbers: %w", n, err)
		}
		for i := range n {
			values = append(values, last-int64(n)+1+int64(i))
		}
	}
	out := make([]string, n)
	for i, v := range values {
		out[i] = fmt.Sprintf("SO-%07d", v)
	}
	return out, nil
}
