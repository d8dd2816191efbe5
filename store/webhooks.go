package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The webhook outbox: an event is written in the transaction of the change it
// reports, with one delivery per subscribed endpoint, so a committed change
// always has its deliveries and a rolled-back one never does. Deliverers
// claim due deliveries with a lease (FOR UPDATE SKIP LOCKED on Postgres), so
// several instances never send the same delivery at once; a deliverer that
// dies mid-delivery leaves a lease that expires, and the delivery is sent
// again with the same webhook-id (at least once). Deliveries of one subject
// (an order, a conflict) to one endpoint go in event order: a delivery waits
// while an earlier one of its subject is pending.

type webhookEndpointRow struct {
	ID          string `gorm:"primaryKey"`
	URL         string `gorm:"column:url"`
	Secret      string
	EventTypes  string
	Description string
	Active      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (webhookEndpointRow) TableName() string { return "webhook_endpoints" }

func (r webhookEndpointRow) domain() domain.WebhookEndpoint {
	e := domain.WebhookEndpoint{ID: r.ID, URL: r.URL, Description: r.Description, Active: r.Active,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	_ = json.Unmarshal([]byte(r.EventTypes), &e.EventTypes) // written from a []string
	if e.EventTypes == nil {
		e.EventTypes = []string{}
	}
	return e
}

type webhookEventRow struct {
	Seq       int64 `gorm:"primaryKey;autoIncrement"`
	ID        string
	Type      string
	Subject   string
	Payload   string
	CreatedAt time.Time
}

func (webhookEventRow) TableName() string { return "webhook_events" }

type webhookDeliveryRow struct {
	ID            int64 `gorm:"primaryKey;autoIncrement"`
	EventSeq      int64
	EndpointID    string
	Subject       string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LeaseUntil    *time.Time
	LastError     *string
	LastStatus    *int
	DeliveredAt   *time.Time
	CreatedAt     time.Time
}

func (webhookDeliveryRow) TableName() string { return "webhook_deliveries" }

// createWebhookEndpoint registers an endpoint; e.Secret is the signing secret.
func createWebhookEndpoint(tx *Tx, e domain.WebhookEndpoint) (domain.WebhookEndpoint, error) {
	b, _ := json.Marshal(e.EventTypes) // a []string always marshals
	r := webhookEndpointRow{ID: e.ID, URL: e.URL, Secret: e.Secret, EventTypes: string(b), Description: e.Description,
		Active: true, CreatedAt: tx.now.UTC(), UpdatedAt: tx.now.UTC()}
	if err := tx.g.Create(&r).Error; err != nil {
		return e, fmt.Errorf("create webhook endpoint: %w", err)
	}
	out := r.domain()
	out.Secret = e.Secret
	return out, nil
}

// listWebhookEndpoints returns every endpoint, oldest first, without secrets.
func listWebhookEndpoints(tx *Tx) ([]domain.WebhookEndpoint, error) {
	var rows []webhookEndpointRow
	if err := tx.g.Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	out := make([]domain.WebhookEndpoint, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// setWebhookEndpointActive pauses or resumes an endpoint: a paused endpoint
// gets no new deliveries.
func setWebhookEndpointActive(tx *Tx, id string, active bool) (domain.WebhookEndpoint, error) {
	res := tx.g.Model(&webhookEndpointRow{}).Where("id = ?", id).Updates(map[string]any{"active": active, "updated_at": tx.now.UTC()})
	if res.Error != nil {
		return domain.WebhookEndpoint{}, fmt.Errorf("update webhook endpoint: %w", res.Error)
	}
	var r webhookEndpointRow
	if err := tx.g.Where("id = ?", id).Take(&r).Error; err != nil {
		return domain.WebhookEndpoint{}, Translate(err, "webhook endpoint")
	}
	return r.domain(), nil
}

// QueueWebhookEvent writes an event and its deliveries to every active
// endpoint subscribed to its type, in tx. id is the event's idempotency id
// (the webhook-id header); subject orders the events of one order or conflict.
func QueueWebhookEvent(tx *Tx, id, typ, subject string, data any) error {
	var eps []webhookEndpointRow
	if err := tx.g.Where("active = ?", true).Find(&eps).Error; err != nil {
		return fmt.Errorf("webhook endpoints: %w", err)
	}
	var to []string
	for _, ep := range eps {
		if slices.Contains(ep.domain().EventTypes, typ) {
			to = append(to, ep.ID)
		}
	}
	if len(to) == 0 {
		return nil // nobody listens: nothing to keep
	}
	// The payload as Standard Webhooks suggests: type, timestamp, data.
	payload, err := json.Marshal(map[string]any{"type": typ, "timestamp": tx.now.UTC(), "data": data})
	if err != nil {
		return fmt.Errorf("webhook payload: %w", err)
	}
	ev := webhookEventRow{ID: id, Type: typ, Subject: subject, Payload: string(payload), CreatedAt: tx.now.UTC()}
	if err := tx.g.Create(&ev).Error; err != nil {
		return fmt.Errorf("queue webhook event: %w", err)
	}
	ds := make([]webhookDeliveryRow, len(to))
	for i, ep := range to {
		ds[i] = webhookDeliveryRow{EventSeq: ev.Seq, EndpointID: ep, Subject: subject, Status: domain.DeliveryPending,
			NextAttemptAt: tx.now.UTC(), CreatedAt: tx.now.UTC()}
	}
	if err := tx.g.Create(&ds).Error; err != nil {
		return fmt.Errorf("queue webhook deliveries: %w", err)
	}
	return nil
}

// queueOrderWebhook queues the event of an order reaching a status that
// reports one. The event id is the history entry's: one change, one id.
func queueOrderWebhook(tx *Tx, ev domain.OrderEvent, before *domain.Order, after domain.Order) error {
	if before != nil && before.Status == after.Status {
		return nil
	}
	typ := domain.OrderEventType(after.Status)
	if typ == "" {
		return nil
	}
	return QueueWebhookEvent(tx, "msg_"+ev.ID, typ, "order:"+after.ID, map[string]any{"order": after, "change": ev})
}

// queueConflictWebhook queues conflict.opened or conflict.resolved for a
// conflict on an order.
func queueConflictWebhook(tx *Tx, typ string, c ConflictRecord) error {
	if c.Tbl != domain.TableOrders {
		return nil
	}
	data := map[string]any{"conflict_id": c.ID, "table": c.Tbl, "order_id": c.RowID, "status": c.Status,
		"reason": c.Reason, "user_id": c.UserID, "device_id": c.DeviceID, "resolution": c.Resolution,
		"resolved_by": c.ResolvedBy, "created_at": c.CreatedAt.UTC()}
	return QueueWebhookEvent(tx, "msg_"+typ+"_"+c.ID, typ, "order:"+c.RowID, data)
}

// Claim is a delivery claimed for sending, with what the request needs.
type Claim struct {
	domain.WebhookDelivery
	URL     string
	Secret  string
	Payload []byte
}

// claimDeliveries takes up to limit due deliveries for this deliverer until
// now+lease: pending, due, not leased to another deliverer, and first of
// their subject for their endpoint. Each claim counts an attempt.
func claimDeliveries(tx *Tx, lease time.Duration, limit int) ([]Claim, error) {
	q := tx.g.Model(&webhookDeliveryRow{}).
		Where("status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)", domain.DeliveryPending, tx.now, tx.now).
		Where(`NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.endpoint_id = webhook_deliveries.endpoint_id
			AND e.subject = webhook_deliveries.subject AND e.event_seq < webhook_deliveries.event_seq AND e.status = ?)`, domain.DeliveryPending).
		Order("event_seq, id").Limit(limit)
	if tx.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	var rows []webhookDeliveryRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	until := tx.now.Add(lease).UTC()
	if err := tx.g.Model(&webhookDeliveryRow{}).Where("id IN ?", ids).
		Updates(map[string]any{"lease_until": until, "attempts": gorm.Expr("attempts + 1")}).Error; err != nil {
		return nil, fmt.Errorf("lease webhook deliveries: %w", err)
	}
	return loadClaims(tx, ids)
}

func loadClaims(tx *Tx, ids []int64) ([]Claim, error) {
	var rows []deliveryView
	err := tx.g.Table("webhook_deliveries d").
		Select("d.*, ev.id AS event_id, ev.type AS type, ev.payload AS payload, ep.url AS url, ep.secret AS secret").
		Joins("JOIN webhook_events ev ON ev.seq = d.event_seq").
		Joins("JOIN webhook_endpoints ep ON ep.id = d.endpoint_id").
		Where("d.id IN ?", ids).Order("d.event_seq, d.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load webhook deliveries: %w", err)
	}
	out := make([]Claim, len(rows))
	for i, r := range rows {
		d := r.domain()
		out[i] = Claim{WebhookDelivery: d, URL: r.URL, Secret: r.Secret, Payload: []byte(r.Payload)}
	}
	return out, nil
}

// deliveryView is a delivery with its event and endpoint, as the joins read it.
type deliveryView struct {
	ID            int64
	EventSeq      int64
	EndpointID    string
	Subject       string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LeaseUntil    *time.Time
	LastError     *string
	LastStatus    *int
	DeliveredAt   *time.Time
	CreatedAt     time.Time
	EventID       string
	Type          string
	Payload       string
	URL           string `gorm:"column:url"`
	Secret        string
}

func (r deliveryView) domain() domain.WebhookDelivery {
	return domain.WebhookDelivery{ID: r.ID, EventID: r.EventID, EventType: r.Type, Subject: r.Subject, EndpointID: r.EndpointID,
		Status: r.Status, Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt.UTC(), LastError: r.LastError,
		LastStatus: r.LastStatus, DeliveredAt: utcPtr(r.DeliveredAt), CreatedAt: r.CreatedAt.UTC()}
}

// finishDelivery records an attempt's outcome: delivered, or failed with
// errText and the HTTP status (0 without an answer), to be retried at next
// or, when next is nil, given up.
func finishDelivery(tx *Tx, id int64, ok bool, status int, errText string, next *time.Time) error {
	set := map[string]any{"lease_until": nil}
	if status > 0 {
		set["last_status"] = status
	}
	switch {
	case ok:
		set["status"], set["delivered_at"], set["last_error"] = domain.DeliveryDelivered, tx.now.UTC(), nil
	case next != nil:
		set["next_attempt_at"], set["last_error"] = next.UTC(), errText
	default:
		set["status"], set["last_error"] = domain.DeliveryFailed, errText
	}
	if err := tx.g.Model(&webhookDeliveryRow{}).Where("id = ? AND status = ?", id, domain.DeliveryPending).Updates(set).Error; err != nil {
		return fmt.Errorf("finish webhook delivery %d: %w", id, err)
	}
	return nil
}

// DeliveryFilter selects deliveries for ops.
type DeliveryFilter struct {
	Status     string
	EndpointID string
	AfterID    int64
	Limit      int
}

// listDeliveries returns deliveries, newest first (by id below AfterID when set).
func listDeliveries(tx *Tx, f DeliveryFilter) ([]domain.WebhookDelivery, error) {
	var rows []deliveryView
	q := tx.g.Table("webhook_deliveries d").Select("d.*, ev.id AS event_id, ev.type AS type").
		Joins("JOIN webhook_events ev ON ev.seq = d.event_seq")
	if f.Status != "" {
		q = q.Where("d.status = ?", f.Status)
	}
	if f.EndpointID != "" {
		q = q.Where("d.endpoint_id = ?", f.EndpointID)
	}
	if f.AfterID > 0 {
		q = q.Where("d.id < ?", f.AfterID)
	}
	if err := q.Order("d.id DESC").Limit(f.Limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	out := make([]domain.WebhookDelivery, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// replayDelivery sends a delivery again, whatever its status: pending, due
// now, with the same event (and so the same webhook-id).
func replayDelivery(tx *Tx, id int64) (domain.WebhookDelivery, error) {
	res := tx.g.Model(&webhookDeliveryRow{}).Where("id = ?", id).
		Updates(map[string]any{"status": domain.DeliveryPending, "next_attempt_at": tx.now.UTC(), "lease_until": nil})
	if res.Error != nil {
		return domain.WebhookDelivery{}, fmt.Errorf("replay webhook delivery: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.WebhookDelivery{}, domain.Errorf(domain.CodeNotFound, "delivery not found")
	}
	var r deliveryView
	if err := tx.g.Table("webhook_deliveries d").Select("d.*, ev.id AS event_id, ev.type AS type").
		Joins("JOIN webhook_events ev ON ev.seq = d.event_seq").Where("d.id = ?", id).Scan(&r).Error; err != nil {
		return domain.WebhookDelivery{}, fmt.Errorf("replay webhook delivery: %w", err)
	}
	return r.domain(), nil
}

// The outbox as the rest of the server uses it: one transaction per call.

// CreateWebhookEndpoint registers an endpoint; e.Secret is its signing secret.
func (db *DB) CreateWebhookEndpoint(ctx context.Context, e domain.WebhookEndpoint) (out domain.WebhookEndpoint, err error) {
	err = db.InTx(ctx, func(tx *Tx) error { out, err = createWebhookEndpoint(tx, e); return err })
	return out, err
}

// ListWebhookEndpoints returns every endpoint, without secrets.
func (db *DB) ListWebhookEndpoints(ctx context.Context) ([]domain.WebhookEndpoint, error) {
	return listWebhookEndpoints(db.Autocommit(ctx))
}

// SetWebhookEndpointActive pauses or resumes an endpoint.
func (db *DB) SetWebhookEndpointActive(ctx context.Context, id string, active bool) (out domain.WebhookEndpoint, err error) {
	err = db.InTx(ctx, func(tx *Tx) error { out, err = setWebhookEndpointActive(tx, id, active); return err })
	return out, err
}

// ClaimWebhookDeliveries claims up to limit due deliveries for lease.
func (db *DB) ClaimWebhookDeliveries(ctx context.Context, lease time.Duration, limit int) (out []Claim, err error) {
	err = db.InTx(ctx, func(tx *Tx) error { out, err = claimDeliveries(tx, lease, limit); return err })
	return out, err
}

// FinishWebhookDelivery records the outcome of an attempt (finishDelivery).
func (db *DB) FinishWebhookDelivery(ctx context.Context, id int64, ok bool, status int, errText string, next *time.Time) error {
	return finishDelivery(db.Autocommit(ctx), id, ok, status, errText, next)
}

// ListWebhookDeliveries returns deliveries, newest first.
func (db *DB) ListWebhookDeliveries(ctx context.Context, f DeliveryFilter) ([]domain.WebhookDelivery, error) {
	return listDeliveries(db.Autocommit(ctx), f)
}

// ReplayWebhookDelivery makes a delivery pending and due now.
func (db *DB) ReplayWebhookDelivery(ctx context.Context, id int64) (out domain.WebhookDelivery, err error) {
	err = db.InTx(ctx, func(tx *Tx) error { out, err = replayDelivery(tx, id); return err })
	return out, err
}
