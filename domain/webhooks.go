package domain

import (
	"slices"
	"time"
)

// Webhook event types (docs/api.md, "ERP webhooks").
const (
	EventOrderSubmitted   = "order.submitted"
	EventOrderConfirmed   = "order.confirmed"
	EventOrderRejected    = "order.rejected"
	EventOrderCancelled   = "order.cancelled"
	EventOrderShipped     = "order.shipped"
	EventOrderDelivered   = "order.delivered"
	EventConflictOpened   = "conflict.opened"
	EventConflictResolved = "conflict.resolved"
)

// WebhookEventTypes lists every event an endpoint may subscribe to.
func WebhookEventTypes() []string {
	return []string{EventOrderSubmitted, EventOrderConfirmed, EventOrderRejected, EventOrderCancelled,
		EventOrderShipped, EventOrderDelivered, EventConflictOpened, EventConflictResolved}
}

// OrderEventType is the webhook event of an order reaching status, or "" for
// a status no event reports (draft).
func OrderEventType(status string) string {
	t := "order." + status
	if slices.Contains(WebhookEventTypes(), t) {
		return t
	}
	return ""
}

// WebhookEndpoint is where ops send events. The secret is shown once, when
// the endpoint is registered.
type WebhookEndpoint struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	EventTypes  []string  `json:"event_types"`
	Description string    `json:"description"`
	Active      bool      `json:"active"`
	Secret      string    `json:"secret,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // gave up after the last attempt; ops may replay
)

// WebhookDelivery is one event on its way to one endpoint.
type WebhookDelivery struct {
	ID            int64      `json:"id"`
	EventID       string     `json:"event_id"`
	EventType     string     `json:"event_type"`
	Subject       string     `json:"subject"`
	EndpointID    string     `json:"endpoint_id"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastError     *string    `json:"last_error"`
	LastStatus    *int       `json:"last_status"`
	DeliveredAt   *time.Time `json:"delivered_at"`
	CreatedAt     time.Time  `json:"created_at"`
}
