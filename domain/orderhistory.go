package domain

import "time"

// Where an order change came from (OrderEvent.Via).
const (
	ViaDevice     = "device"     // a rep's push
	ViaDesk       = "desk"       // the desk page (/dashboard/desk)
	ViaAPI        = "api"        // POST /v1/orders/{id}/transition with a bearer token
	ViaResolution = "resolution" // a conflict's resolution
	ViaSystem     = "system"     // the server itself: a deleted visit's link cleared
)

// Kinds of order change.
const (
	OrderCreated       = "created"
	OrderEdited        = "edited"
	OrderStatusChanged = "status_changed"
)

// OrderChangeBy is who makes a change to an order and through what.
type OrderChangeBy struct {
	UserID     string
	Role       Role
	DeviceID   string // the pushing device; empty off a device
	Via        string
	ConflictID string // the conflict a resolution settles
}

// OrderEvent is one entry of an order's history: one write, who made it, from
// where, and what it changed.
type OrderEvent struct {
	ID         string    `json:"id"`
	OrderID    string    `json:"order_id"`
	Version    int64     `json:"version"`
	Kind       string    `json:"kind"`
	FromStatus *string   `json:"from_status"`
	Status     string    `json:"status"`
	Fields     []string  `json:"fields"`
	Reason     *string   `json:"reason"`
	ActorID    *string   `json:"actor_id"`
	ActorName  *string   `json:"actor_name"`
	ActorRole  *string   `json:"actor_role"`
	DeviceID   *string   `json:"device_id"`
	Via        string    `json:"via"`
	ConflictID *string   `json:"conflict_id"`
	At         time.Time `json:"at"`
}

// DescribeOrderChange says what a write from before (nil for a create) to
// after is: its kind and the fields it changed, never the
// server's bookkeeping (version, updated_at).
func DescribeOrderChange(before *Order, after Order) (kind string, fields []string) {
	if before == nil {
		return OrderCreated, []string{}
	}
	fields = ChangedFields(*before, after)
	if fields == nil {
		fields = []string{}
	}
	if before.Status != after.Status {
		return OrderStatusChanged, fields
	}
	return OrderEdited, fields
}

// OrderNextStatuses lists the statuses role may move an order to from
// status from, one arrow of the state machine each, in a stable order (the
// desk's buttons).
func OrderNextStatuses(role Role, from string) []string {
	var out []string
	for _, to := range OrderStatuses() {
		if to != from && CheckOrderTransition(role, from, to) == nil {
			out = append(out, to)
		}
	}
	return out
}
