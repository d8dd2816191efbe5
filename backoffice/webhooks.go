package backoffice

import (
	"context"
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/webhooks"
	"github.com/google/uuid"
)

// Webhooks is ops' side of the ERP hand-off (docs/api.md, "ERP webhooks"):
// register endpoints, see deliveries, replay one. Routes are ops-only
// (domain.ActAdmin).
type Webhooks struct {
	db *store.DB
}

func NewWebhooks(db *store.DB) *Webhooks { return &Webhooks{db: db} }

// WebhookInput registers an endpoint.
type WebhookInput struct {
	URL         string   `json:"url"`
	EventTypes  []string `json:"event_types"`
	Description *string  `json:"description"`
}

// WebhookPatch pauses or resumes an endpoint.
type WebhookPatch struct {
	Active *bool `json:"active"`
}

// WebhookList is every endpoint.
type WebhookList struct {
	Items []domain.WebhookEndpoint `json:"items"`
}

// DeliveryList is one page of deliveries, newest first.
type DeliveryList struct {
	Items      []domain.WebhookDelivery `json:"items"`
	NextCursor *string                  `json:"next_cursor"`
}

// Create registers an endpoint and answers it with its signing secret, shown
// this once.
func (w *Webhooks) Create(ctx context.Context, in WebhookInput) (domain.WebhookEndpoint, error) {
	var f fields
	u, err := url.Parse(strings.TrimSpace(in.URL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(in.URL) > 2000 {
		f.add("url", "must be an absolute http(s) URL")
	}
	if len(in.EventTypes) == 0 {
		f.add("event_types", "must name at least one event type")
	}
	for _, t := range in.EventTypes {
		if !slices.Contains(domain.WebhookEventTypes(), t) {
			f.add("event_types", "must be among "+strings.Join(domain.WebhookEventTypes(), ", "))
			break
		}
	}
	desc := ""
	if in.Description != nil {
		desc = strings.TrimSpace(*in.Description)
		if len(desc) > 500 {
			f.add("description", "must be at most 500 characters")
		}
	}
	if err := f.err(); err != nil {
		return domain.WebhookEndpoint{}, err
	}
	types := slices.Compact(slices.Sorted(slices.Values(in.EventTypes)))
	return w.db.CreateWebhookEndpoint(ctx, domain.WebhookEndpoint{ID: uuid.NewString(), URL: u.String(),
		EventTypes: types, Description: desc, Secret: webhooks.NewSecret()})
}

// List returns every endpoint, without secrets.
func (w *Webhooks) List(ctx context.Context) (WebhookList, error) {
	items, err := w.db.ListWebhookEndpoints(ctx)
	return WebhookList{Items: items}, err
}

// Update pauses ({"active": false}) or resumes an endpoint. A paused endpoint
// gets no deliveries for events after the pause.
func (w *Webhooks) Update(ctx context.Context, id string, in WebhookPatch) (domain.WebhookEndpoint, error) {
	if in.Active == nil {
		return domain.WebhookEndpoint{}, domain.Invalid(domain.FieldError{Field: "active", Message: "is required"})
	}
	return w.db.SetWebhookEndpointActive(ctx, id, *in.Active)
}

// DeliveryQuery filters the deliveries.
type DeliveryQuery struct {
	Status, EndpointID, Cursor string
	Limit                      int
}

// Deliveries lists deliveries, newest first, with their attempts and last error.
func (w *Webhooks) Deliveries(ctx context.Context, q DeliveryQuery) (DeliveryList, error) {
	var f fields
	if q.Status != "" && !slices.Contains([]string{domain.DeliveryPending, domain.DeliveryDelivered, domain.DeliveryFailed}, q.Status) {
		f.add("status", "must be pending, delivered or failed")
	}
	if q.EndpointID != "" && !domain.IsUUID(q.EndpointID) {
		f.add("endpoint_id", "must be a UUID")
	}
	var after int64
	if q.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err == nil {
			after, err = strconv.ParseInt(string(b), 10, 64)
		}
		if err != nil || after <= 0 {
			f.add("cursor", "is not a cursor of this list")
		}
	}
	if err := f.err(); err != nil {
		return DeliveryList{}, asBadRequest(err)
	}
	limit := clampLimit(q.Limit)
	items, err := w.db.ListWebhookDeliveries(ctx, store.DeliveryFilter{Status: q.Status, EndpointID: q.EndpointID, AfterID: after, Limit: limit + 1})
	if err != nil {
		return DeliveryList{}, err
	}
	out := DeliveryList{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		c := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(items[limit-1].ID, 10)))
		out.NextCursor = &c
	}
	return out, nil
}

// Replay sends a delivery again (delivered, failed or pending alike), now,
// with the same event and webhook-id.
func (w *Webhooks) Replay(ctx context.Context, id string) (domain.WebhookDelivery, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return domain.WebhookDelivery{}, domain.Errorf(domain.CodeNotFound, "delivery not found")
	}
	return w.db.ReplayWebhookDelivery(ctx, n)
}
