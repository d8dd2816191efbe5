package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/google/uuid"
)

type orderEventRow struct {
	ID         string `gorm:"primaryKey"`
	OrderID    string
	Version    int64
	Kind       string
	FromStatus *string
	ToStatus   string
	Fields     string
	Reason     *string
	ActorID    *string
	ActorRole  *string
	DeviceID   *string
	Via        string
	ConflictID *string
	At         time.Time
}

func (orderEventRow) TableName() string { return "order_events" }

func (r orderEventRow) domain() domain.OrderEvent {
	e := domain.OrderEvent{ID: r.ID, OrderID: r.OrderID, Version: r.Version, Kind: r.Kind,
		FromStatus: r.FromStatus, Status: r.ToStatus, Reason: r.Reason, ActorID: r.ActorID,
		ActorRole: r.ActorRole, DeviceID: r.DeviceID, Via: r.Via, ConflictID: r.ConflictID, At: r.At.UTC()}
	_ = json.Unmarshal([]byte(r.Fields), &e.Fields) // written by RecordOrderChange from a []string
	if e.Fields == nil {
		e.Fields = []string{}
	}
	return e
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// RecordOrderChange writes the history entry of one write to an order, from
// before (nil for a create) to after as saved, in the writer's transaction:
// the history holds exactly the changes that were committed. A write that
// changed nothing (after is still at before's version) is not recorded. A
// status change also queues its webhook event (the outbox, webhooks.go).
func RecordOrderChange(tx *Tx, by domain.OrderChangeBy, before *domain.Order, after domain.Order) error {
	if before != nil && before.Version == after.Version {
		return nil
	}
	kind, fields := domain.DescribeOrderChange(before, after)
	b, _ := json.Marshal(fields) // a []string always marshals
	r := orderEventRow{ID: uuid.NewString(), OrderID: after.ID, Version: after.Version, Kind: kind,
		ToStatus: after.Status, Fields: string(b), ActorID: nonEmpty(by.UserID), ActorRole: nonEmpty(string(by.Role)),
		DeviceID: nonEmpty(by.DeviceID), Via: by.Via, ConflictID: nonEmpty(by.ConflictID), At: tx.now.UTC()}
	if before != nil {
		r.FromStatus = &before.Status
	}
	if kind == domain.OrderStatusChanged || (before == nil && after.Status != domain.OrderDraft) {
		r.Reason = after.Reason
	}
	if err := tx.g.Create(&r).Error; err != nil {
		return fmt.Errorf("record order change: %w", err)
	}
	return queueOrderWebhook(tx, r.domain(), before, after)
}

// OrderEvents returns the history of an order, oldest first, with the name
// of each change's author.
func OrderEvents(tx *Tx, orderID string) ([]domain.OrderEvent, error) {
	var rows []orderEventRow
	if err := tx.g.Where("order_id = ?", orderID).Order("at, version, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("order events: %w", err)
	}
	var actors []string
	for _, r := range rows {
		if r.ActorID != nil {
			actors = append(actors, *r.ActorID)
		}
	}
	var users []userRow
	if len(actors) > 0 {
		if err := tx.g.Select("id, name").Where("id IN ?", actors).Find(&users).Error; err != nil {
			return nil, fmt.Errorf("order event actors: %w", err)
		}
	}
	names := make(map[string]string, len(users))
	for _, u := range users {
		names[u.ID] = u.Name
	}
	out := make([]domain.OrderEvent, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
		if r.ActorID != nil {
			if n, ok := names[*r.ActorID]; ok {
				out[i].ActorName = &n
			}
		}
	}
	return out, nil
}

// RowConflicts returns every conflict recorded on one row, oldest first.
func RowConflicts(tx *Tx, table, rowID string) ([]ConflictRecord, error) {
	var out []ConflictRecord
	if err := tx.g.Where("tbl = ? AND row_id = ?", table, rowID).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("row conflicts: %w", err)
	}
	for i := range out {
		out[i].normalize()
	}
	return out, nil
}

// ReadAccount reads an account without the share lock of GetAccount, for
// read-only transactions (a read-only Postgres transaction refuses locks).
func ReadAccount(tx *Tx, id string) (domain.Account, error) {
	var r accountRow
	if err := tx.g.Where("id = ?", id).Take(&r).Error; err != nil {
		return domain.Account{}, Translate(err, "account")
	}
	return r.domain(), nil
}

// Names returns the name of each row of table ("accounts" or "users") among ids.
func Names(tx *Tx, table string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	if table != "accounts" && table != "users" {
		return nil, fmt.Errorf("names: no names in %s", table)
	}
	var rows []struct{ ID, Name string }
	if err := tx.g.Table(table).Select("id, name").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("names of %s: %w", table, err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}
