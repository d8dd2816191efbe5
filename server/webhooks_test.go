package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/webhooks"
	"github.com/google/uuid"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// webhook registers an endpoint nobody listens at and returns its id.
func (m *matrix) webhook() string {
	m.t.Helper()
	ep, err := m.db.CreateWebhookEndpoint(context.Background(), domain.WebhookEndpoint{ID: uuid.NewString(),
		URL: "http://127.0.0.1:9/", Secret: webhooks.NewSecret(), EventTypes: []string{domain.EventOrderShipped}})
	if err != nil {
		m.t.Fatal(err)
	}
	return ep.ID
}

// delivery queues a delivery (an order confirmed with an endpoint listening)
// and returns its id.
func (m *matrix) delivery() string {
	m.t.Helper()
	if _, err := m.db.CreateWebhookEndpoint(context.Background(), domain.WebhookEndpoint{ID: uuid.NewString(),
		URL: "http://127.0.0.1:9/", Secret: webhooks.NewSecret(), EventTypes: []string{domain.EventOrderConfirmed}}); err != nil {
		m.t.Fatal(err)
	}
	ord := m.submittedOrder("rep1", m.acc1)
	m.transition("coordAll", ord.ID, map[string]any{"to": "confirmed", "expected_version": 2}, 200)
	list, err := m.db.ListWebhookDeliveries(context.Background(), store.DeliveryFilter{Limit: 1})
	if err != nil || len(list) == 0 {
		m.t.Fatalf("no delivery: %v", err)
	}
	return strconv.FormatInt(list[0].ID, 10)
}

// TestWebhooks_ERP: ops register a receiver through the API; the rep's
// submission, the desk's confirmation and a conflict on the order reach it
// signed, in order; ops see the deliveries and replay one with the same id.
func TestWebhooks_ERP(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		var mu sync.Mutex
		var got []struct{ ID, Type string }
		var secret string
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			wh, err := standardwebhooks.NewWebhook(secret)
			if err == nil {
				err = wh.Verify(body, r.Header)
			}
			if err != nil {
				t.Errorf("signature: %v", err)
				w.WriteHeader(400)
				return
			}
			var p struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal(body, &p)
			mu.Lock()
			got = append(got, struct{ ID, Type string }{r.Header.Get("webhook-id"), p.Type})
			mu.Unlock()
		}))
		defer recv.Close()
		var ep domain.WebhookEndpoint
		o.as("ops", "POST", "/v1/admin/webhooks", `{"url":"`+recv.URL+`/erp","event_types":["order.submitted","order.confirmed","conflict.opened"],"description":"ERP"}`, 201, &ep)
		if len(ep.Secret) < 10 || ep.Secret[:6] != "whsec_" {
			t.Fatalf("secret %q", ep.Secret)
		}
		secret = ep.Secret
		var list backoffice.WebhookList
		o.as("ops", "GET", "/v1/admin/webhooks", "", 200, &list)
		if len(list.Items) != 1 || list.Items[0].Secret != "" {
			t.Errorf("list %+v", list)
		}

		_, conflictID := o.confirmedConflict("rep1", o.acc1)
		d := webhooks.New(db, webhooks.Options{})
		for range 10 {
			if n, err := d.RunOnce(context.Background()); err != nil || n == 0 {
				break
			}
		}
		want := []string{domain.EventOrderSubmitted, domain.EventOrderConfirmed, domain.EventConflictOpened}
		if len(got) != len(want) {
			t.Fatalf("receiver got %+v, want %v", got, want)
		}
		for i := range want {
			if got[i].Type != want[i] {
				t.Errorf("event %d is %s, want %s", i, got[i].Type, want[i])
			}
		}
		if got[2].ID != "msg_conflict.opened_"+conflictID {
			t.Errorf("conflict event id %s", got[2].ID)
		}
		var page backoffice.DeliveryList
		o.as("ops", "GET", "/v1/admin/webhook-deliveries?status=delivered&endpoint_id="+ep.ID+"&limit=2", "", 200, &page)
		if len(page.Items) != 2 || page.NextCursor == nil || page.Items[0].Attempts != 1 {
			t.Fatalf("deliveries %+v", page)
		}
		var replayed domain.WebhookDelivery
		o.as("ops", "POST", "/v1/admin/webhook-deliveries/"+strconv.FormatInt(page.Items[0].ID, 10)+"/replay", "", 200, &replayed)
		if replayed.Status != domain.DeliveryPending {
			t.Errorf("replayed %+v", replayed)
		}
		if _, err := d.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 || got[3].ID != page.Items[0].EventID {
			t.Errorf("replay sent %+v, want id %s again", got, page.Items[0].EventID)
		}

		o.failsAs("ops", "POST", "/v1/admin/webhooks", `{"url":"ftp://x","event_types":["order.lost"]}`, 422, domain.CodeValidation)
		o.failsAs("ops", "GET", "/v1/admin/webhook-deliveries?status=lost", "", 400, domain.CodeBadRequest)
		o.failsAs("ops", "POST", "/v1/admin/webhook-deliveries/999999/replay", "", 404, domain.CodeNotFound)
		o.failsAs("coord1", "GET", "/v1/admin/webhooks", "", 403, domain.CodeForbidden)
		var paused domain.WebhookEndpoint
		o.as("ops", "PATCH", "/v1/admin/webhooks/"+ep.ID, `{"active":false}`, 200, &paused)
		if paused.Active {
			t.Errorf("not paused")
		}
	})
}
