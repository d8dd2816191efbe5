package domain

import (
	"strings"
	"time"
)

// APIKeyPrefix starts every integration API key, so a key is told from a
// user's token before any lookup (and a key sent to a user route fails as an
// unknown token).
const APIKeyPrefix = "fsk_"

// APIKey is an integration's key as ops see it. The secret exists only in
// the answer that creates the key; the server keeps its hash.
type APIKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"` // the secret's first characters, to tell keys apart
	Secret    string     `json:"secret,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// Integration is the caller of an API key route: the key, by id and name.
type Integration struct {
	KeyID string
	Name  string
}

// ERPReport is the ERP telling that an order left (shipped) or arrived
// (delivered). ERPRef is the ERP's own reference for the report; the import
// is idempotent by it.
type ERPReport struct {
	ERPRef      string     `json:"erp_ref"`
	OrderID     string     `json:"order_id"`
	Status      string     `json:"status"`
	ShippedAt   *time.Time `json:"shipped_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
}

// maxERPRef bounds the ERP's reference (an ERP document number).
const maxERPRef = 128

// CheckERPReport validates a report: a reference, an order id, shipped with
// its shipped_at or delivered with its delivered_at, no time in the future
// (beyond a day's clock skew).
func CheckERPReport(r ERPReport, now time.Time) *Error {
	var fs []FieldError
	add := func(f, m string) { fs = append(fs, FieldError{Field: f, Message: m}) }
	switch ref := strings.TrimSpace(r.ERPRef); {
	case ref == "":
		add("erp_ref", "is required")
	case ref != r.ERPRef || len(ref) > maxERPRef:
		add("erp_ref", "must be 1 to 128 characters without surrounding spaces")
	case ValidText(ref) != "":
		add("erp_ref", ValidText(ref))
	}
	if !IsUUID(r.OrderID) {
		add("order_id", "must be a UUID")
	}
	future := now.Add(24 * time.Hour)
	need := func(field string, t *time.Time) {
		switch {
		case t == nil:
			add(field, "is required when status is "+r.Status)
		case t.After(future):
			add(field, "must not be in the future")
		case t.Year() < 2000:
			add(field, "is not a plausible time")
		}
	}
	switch r.Status {
	case OrderShipped:
		need("shipped_at", r.ShippedAt)
		if r.DeliveredAt != nil {
			add("delivered_at", "must be absent when status is shipped")
		}
	case OrderDelivered:
		need("delivered_at", r.DeliveredAt)
		if r.ShippedAt != nil && r.DeliveredAt != nil && r.ShippedAt.After(*r.DeliveredAt) {
			add("shipped_at", "must not be after delivered_at")
		}
	default:
		add("status", "must be shipped or delivered")
	}
	if len(fs) > 0 {
		return Invalid(fs...)
	}
	return nil
}

// SameERPReport reports whether two reports say the same thing (a retry),
// as opposed to a reference reused for something else.
func SameERPReport(a, b ERPReport) bool {
	return a.ERPRef == b.ERPRef && a.OrderID == b.OrderID && a.Status == b.Status &&
		sameTime(a.ShippedAt, b.ShippedAt) && sameTime(a.DeliveredAt, b.DeliveredAt)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// ERPTime is the time a report says its change happened.
func (r ERPReport) ERPTime() *time.Time {
	if r.Status == OrderDelivered {
		return r.DeliveredAt
	}
	return r.ShippedAt
}
