package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/webhooks"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// apiKey issues an integration key and returns its id (the matrix's revoke).
func (m *matrix) apiKey() string {
	m.t.Helper()
	k, err := m.srv.Auth.CreateAPIKey(context.Background(), auth.APIKeyInput{Name: fmt.Sprintf("ERP %d", m.seq())})
	if err != nil {
		m.t.Fatal(err)
	}
	return k.ID
}

// confirmedOrder is a submitted order of rep1 the desk confirmed (version 3).
func (m *matrix) confirmedOrder() string {
	m.t.Helper()
	ord := m.submittedOrder("rep1", m.acc1)
	m.transition("coordAll", ord.ID, map[string]any{"to": "confirmed", "expected_version": 2}, 200)
	return ord.ID
}

// newKey has ops issue a key through the admin API.
func (o *office) newKey(name string) domain.APIKey {
	o.t.Helper()
	var k domain.APIKey
	o.as("ops", "POST", "/v1/admin/api-keys", fmt.Sprintf(`{"name":%q}`, name), 201, &k)
	if !strings.HasPrefix(k.Secret, domain.APIKeyPrefix) || !strings.HasPrefix(k.Secret, k.Prefix) || k.Name != name {
		o.t.Fatalf("key %+v", k)
	}
	return k
}

// erp sends a request with an API key: as a bearer token, or in X-Api-Key
// when header is set.
func (o *office) erp(key, method, path, body string, header bool) (int, []byte) {
	o.t.Helper()
	if !header {
		return o.do(method, path, key, body)
	}
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", key)
	resp, b := apitest.Fiber(o.t, o.srv.App, req)
	return resp.StatusCode, b
}

// report sends one report on order id; it must answer status.
func (o *office) report(key, id, body string, status int) []byte {
	o.t.Helper()
	got, b := o.erp(key, "POST", "/v1/erp/orders/"+id+"/status", body, false)
	if got != status {
		o.t.Fatalf("report %s on %s = %d %s, want %d", body, id, got, b, status)
	}
	return b
}

func (o *office) confirmed(who string) domain.Order {
	o.t.Helper()
	ord := o.submittedOrder(who, o.acc1)
	return o.transition("coord1", ord.ID, map[string]any{"to": "confirmed", "expected_version": 2}, 200)
}

// deviceOrder pulls with the device SDK until the device's copy of order id
// is at version v, and returns it. (On Postgres a pull may lag behind an
// open transaction elsewhere on the shared cluster; it never loses a change.)
func deviceOrder(t *testing.T, dev *device.Client, id string, v int64) domain.Order {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := dev.Pull(ctx); err != nil {
			t.Fatalf("device pull: %v", err)
		}
		versions, err := dev.RowVersions(ctx, domain.TableOrders)
		if err != nil {
			t.Fatal(err)
		}
		if versions[id] == v {
			rows, err := dev.Rows(ctx, domain.TableOrders)
			if err != nil {
				t.Fatal(err)
			}
			var ord domain.Order
			if err := json.Unmarshal(rows[id], &ord); err != nil {
				t.Fatal(err)
			}
			return ord
		}
	}
	t.Fatalf("the device never pulled order %s at version %d", id, v)
	return domain.Order{}
}

// TestERPImport_ReachesDevice: ops issue a key; the ERP reports an order the
// desk confirmed shipped, then delivered (batch form), each with its own
// reference; the rep's phone (the Go SDK over HTTP) pulls each status; the
// history names the key, via erp, with the ERP's reference and times; a
// webhook receiver subscribed to shipped and delivered has both events queued.
func TestERPImport_ReachesDevice(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		base := serveServer(t, o.srv)
		ctx := context.Background()
		if _, err := db.CreateWebhookEndpoint(ctx, domain.WebhookEndpoint{ID: uuid.NewString(), URL: "http://127.0.0.1:9/",
			Secret: webhooks.NewSecret(), EventTypes: []string{domain.EventOrderShipped, domain.EventOrderDelivered}}); err != nil {
			t.Fatal(err)
		}
		key := o.newKey("SAP")
		dev, err := device.Open(ctx, filepath.Join(t.TempDir(), "rep1.db"), device.Options{ServerURL: base, DeviceID: "rep1-phone"})
		if err != nil {
			t.Fatal(err)
		}
		defer dev.Close()
		if _, err := dev.Login(ctx, "rep1@example.com", "password1"); err != nil {
			t.Fatal(err)
		}
		ord := o.confirmed("rep1")
		if got := deviceOrder(t, dev, ord.ID, 3); got.Status != domain.OrderConfirmed {
			t.Fatalf("device has %s", got.Status)
		}

		var applied backoffice.ERPApplied
		b := o.report(key.Secret, ord.ID, `{"erp_ref":"SHP-1001","status":"shipped","shipped_at":"2026-11-30T09:15:00+01:00"}`, 200)
		if err := json.Unmarshal(b, &applied); err != nil || applied != (backoffice.ERPApplied{ERPRef: "SHP-1001", OrderID: ord.ID, Status: "shipped", Version: 4}) {
			t.Fatalf("applied %s", b)
		}
		if got := deviceOrder(t, dev, ord.ID, 4); got.Status != domain.OrderShipped {
			t.Fatalf("device has %s, want shipped", got.Status)
		}

		var batch struct{ Results []map[string]any }
		got, raw := o.erp(key.Secret, "POST", "/v1/erp/order-status", fmt.Sprintf(
			`{"reports":[{"erp_ref":"DLV-1001","order_id":%q,"status":"delivered","delivered_at":"2026-12-01T10:00:00Z"}]}`, ord.ID), true)
		if err := json.Unmarshal(raw, &batch); got != 200 || err != nil || len(batch.Results) != 1 || batch.Results[0]["result"] != "applied" ||
			batch.Results[0]["status"] != "delivered" || batch.Results[0]["version"] != float64(5) {
			t.Fatalf("batch = %d %s", got, raw)
		}
		if got := deviceOrder(t, dev, ord.ID, 5); got.Status != domain.OrderDelivered {
			t.Fatalf("device has %s, want delivered", got.Status)
		}

		var d backoffice.OrderDetail
		o.as("coord1", "GET", "/v1/orders/"+ord.ID, "", 200, &d)
		h := d.History[len(d.History)-2:]
		shippedAt := time.Date(2026, 11, 30, 8, 15, 0, 0, time.UTC)
		for i, want := range []struct {
			ref, status string
			at          time.Time
		}{{"SHP-1001", "shipped", shippedAt}, {"DLV-1001", "delivered", time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}} {
			e := h[i]
			if e.Via != domain.ViaERP || e.Status != want.status || e.ActorName == nil || *e.ActorName != "SAP" || e.ActorID != nil ||
				e.ERPRef == nil || *e.ERPRef != want.ref || e.ReportedAt == nil || !e.ReportedAt.Equal(want.at) {
				t.Errorf("history entry %d = %+v", i, e)
			}
		}
		deliveries, err := db.ListWebhookDeliveries(ctx, store.DeliveryFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, dl := range deliveries {
			types = append(types, dl.EventType+" "+dl.EventID)
		}
		want := []string{"order.delivered msg_" + h[1].ID, "order.shipped msg_" + h[0].ID} // newest first
		if strings.Join(types, ",") != strings.Join(want, ",") {
			t.Errorf("webhook deliveries %v, want %v", types, want)
		}
	})
}

// TestERPImport_Idempotent: the same report twice answers the same and
// changes nothing (no second history entry, no second event); the same
// reference with other content is a conflict, whatever order it names.
func TestERPImport_Idempotent(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		key := o.newKey("ERP")
		ord, other := o.confirmed("rep1"), o.confirmed("rep1")
		body := `{"erp_ref":"SHP-7","status":"shipped","shipped_at":"2026-11-30T09:15:00.123456789Z"}`
		first := o.report(key.Secret, ord.ID, body, 200)
		// Another key of the same ERP (a rotation) sends it again.
		again := o.report(o.newKey("ERP rotated").Secret, ord.ID, body, 200)
		if string(first) != string(again) {
			t.Errorf("second answer %s, first %s", again, first)
		}
		var d backoffice.OrderDetail
		o.as("coord1", "GET", "/v1/orders/"+ord.ID, "", 200, &d)
		if d.Order.Version != 4 || len(d.History) != 4 || *d.History[3].ActorName != "ERP" {
			t.Errorf("after the repeat: version %d, history %v", d.Order.Version, historyOf(d))
		}
		for _, tc := range []struct{ name, id, body string }{
			{"other time", ord.ID, `{"erp_ref":"SHP-7","status":"shipped","shipped_at":"2026-11-30T09:16:00Z"}`},
			{"other order", other.ID, body},
		} {
			got, b := o.erp(key.Secret, "POST", "/v1/erp/orders/"+tc.id+"/status", tc.body, false)
			if e := errorDetail(t, b); got != 409 || e.Code != string(domain.CodeConflict) {
				t.Errorf("%s: %d %s, want 409 conflict", tc.name, got, b)
			}
		}
		o.as("coord1", "GET", "/v1/orders/"+other.ID, "", 200, &d)
		if d.Order.Status != domain.OrderConfirmed || d.Order.Version != 3 {
			t.Errorf("the refused report changed the other order: %+v", d.Order)
		}
		deliveries, err := db.ListWebhookDeliveries(context.Background(), store.DeliveryFilter{Limit: 10})
		if err != nil || len(deliveries) != 0 {
			t.Errorf("deliveries %v %v (no endpoint: none)", deliveries, err)
		}
	})
}

// TestERPImport_StateMachine: only confirmed → shipped → delivered, with the
// contract's error body otherwise; in a batch each report has its own
// answer and a bad one never fails the others.
func TestERPImport_StateMachine(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		key := o.newKey("ERP").Secret
		submitted, confirmed := o.submittedOrder("rep1", o.acc1), o.confirmed("rep1")
		shipped := func(ref string) string {
			return fmt.Sprintf(`{"erp_ref":%q,"status":"shipped","shipped_at":"2026-11-30T09:00:00Z"}`, ref)
		}
		for _, tc := range []struct {
			name, id, body string
			status         int
			code           domain.Code
		}{
			{"ship a submitted order", submitted.ID, shipped("A1"), 422, domain.CodeIllegalTransition},
			{"deliver a confirmed order", confirmed.ID, `{"erp_ref":"A2","status":"delivered","delivered_at":"2026-11-30T09:00:00Z"}`, 422, domain.CodeIllegalTransition},
			{"confirm", confirmed.ID, `{"erp_ref":"A3","status":"confirmed"}`, 422, domain.CodeValidation},
			{"no time", confirmed.ID, `{"erp_ref":"A4","status":"shipped"}`, 422, domain.CodeValidation},
			{"unknown order", uuid.NewString(), shipped("A5"), 404, domain.CodeNotFound},
			{"not a uuid", "42", shipped("A6"), 404, domain.CodeNotFound},
			{"unknown field", confirmed.ID, `{"erp_ref":"A7","status":"shipped","shipped_at":"2026-11-30T09:00:00Z","carrier":"DHL"}`, 400, domain.CodeBadRequest},
			{"bad time", confirmed.ID, `{"erp_ref":"A8","status":"shipped","shipped_at":"yesterday"}`, 400, domain.CodeBadRequest},
			{"empty body", confirmed.ID, ``, 400, domain.CodeBadRequest},
			{"huge body", confirmed.ID, `{"erp_ref":"` + strings.Repeat("x", 5000) + `"}`, 413, domain.CodeTooLarge},
		} {
			got, b := o.erp(key, "POST", "/v1/erp/orders/"+tc.id+"/status", tc.body, false)
			if e := errorDetail(t, b); got != tc.status || e.Code != string(tc.code) {
				t.Errorf("%s: %d %s, want %d %s", tc.name, got, b, tc.status, tc.code)
			}
		}
		o.report(key, confirmed.ID, shipped("B1"), 200)
		got, b := o.erp(key, "POST", "/v1/erp/orders/"+confirmed.ID+"/status", shipped("B2"), false)
		if e := errorDetail(t, b); got != 422 || e.Code != string(domain.CodeIllegalTransition) || e.Message != "order is already shipped" {
			t.Errorf("shipped twice under two references: %d %s", got, b)
		}

		// One batch: a good report, then an illegal, a malformed, an invalid
		// one, then the good order's delivery (after its shipping, in order).
		good := o.confirmed("rep1")
		body := fmt.Sprintf(`{"reports":[
			{"erp_ref":"C1","order_id":%[1]q,"status":"shipped","shipped_at":"2026-11-30T09:00:00Z"},
			{"erp_ref":"C2","order_id":%[2]q,"status":"shipped","shipped_at":"2026-11-30T09:00:00Z"},
			{"erp_ref":"C3","order_id":%[1]q,"status":7},
			{"erp_ref":"C4","order_id":%[1]q,"status":"delivered"},
			{"erp_ref":"C5","order_id":%[1]q,"status":"delivered","delivered_at":"2026-12-01T09:00:00Z"}]}`, good.ID, submitted.ID)
		var resp struct {
			Results []struct {
				ERPRef  string `json:"erp_ref"`
				Result  string
				Status  string
				Version int64
				Error   *wire.ErrorDetail
			}
		}
		got, raw := o.erp(key, "POST", "/v1/erp/order-status", body, false)
		if err := json.Unmarshal(raw, &resp); got != 200 || err != nil || len(resp.Results) != 5 {
			t.Fatalf("batch = %d %s", got, raw)
		}
		want := []string{"C1 applied shipped 4 ", "C2 rejected  0 illegal_transition", "C3 rejected  0 bad_request",
			"C4 rejected  0 validation_failed", "C5 applied delivered 5 "}
		for i, r := range resp.Results {
			code := ""
			if r.Error != nil {
				code = r.Error.Code
			}
			if s := fmt.Sprintf("%s %s %s %d %s", r.ERPRef, r.Result, r.Status, r.Version, code); s != want[i] {
				t.Errorf("result %d = %s, want %s", i, s, want[i])
			}
		}
		for _, tc := range []struct{ name, body string }{
			{"no reports", `{"reports":[]}`},
			{"too many", `{"reports":[` + strings.TrimSuffix(strings.Repeat(`{},`, 101), ",") + `]}`},
			{"not an array", `{"reports":{}}`},
		} {
			got, b := o.erp(key, "POST", "/v1/erp/order-status", tc.body, false)
			if got < 400 || got > 499 {
				t.Errorf("%s: %d %s, want 4xx", tc.name, got, b)
			}
		}
	})
}

// TestERPImport_Keys: ops list keys without secrets and revoke them; a
// revoked or unknown key is refused, a key opens no other route, a user's
// token does not open the ERP's.
func TestERPImport_Keys(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		key, kept := o.newKey("Old ERP"), o.newKey("ERP")
		ord := o.confirmed("rep1")
		body := `{"erp_ref":"K1","status":"shipped","shipped_at":"2026-11-30T09:00:00Z"}`

		for _, path := range []string{"/v1/sync/pull", "/v1/orders", "/v1/me", "/v1/admin/api-keys"} {
			if got, b := o.erp(kept.Secret, "GET", path, "", false); got != 401 {
				t.Errorf("a key on GET %s: %d %s, want 401", path, got, b)
			}
		}
		o.failsAs("coord1", "POST", "/v1/erp/orders/"+ord.ID+"/status", body, 403, domain.CodeForbidden)
		o.failsAs("ops", "POST", "/v1/erp/orders/"+ord.ID+"/status", body, 403, domain.CodeForbidden)
		for _, k := range []string{"", domain.APIKeyPrefix + "nope", "garbage"} {
			if got, b := o.erp(k, "POST", "/v1/erp/orders/"+ord.ID+"/status", body, false); got != 401 {
				t.Errorf("key %q: %d %s, want 401", k, got, b)
			}
		}

		o.as("ops", "DELETE", "/v1/admin/api-keys/"+key.ID, "", 204, nil)
		o.as("ops", "DELETE", "/v1/admin/api-keys/"+key.ID, "", 204, nil)
		o.failsAs("ops", "DELETE", "/v1/admin/api-keys/"+uuid.NewString(), "", 404, domain.CodeNotFound)
		got, b := o.erp(key.Secret, "POST", "/v1/erp/orders/"+ord.ID+"/status", body, true)
		if e := errorDetail(t, b); got != 401 || e.Code != string(domain.CodeUnauthorized) {
			t.Errorf("revoked key: %d %s, want 401", got, b)
		}
		var list struct{ Items []map[string]any }
		raw := o.as("ops", "GET", "/v1/admin/api-keys", "", 200, &list)
		if len(list.Items) != 2 || list.Items[0]["revoked_at"] == nil || list.Items[1]["revoked_at"] != nil ||
			strings.Contains(string(raw), key.Secret) || strings.Contains(string(raw), `"secret"`) {
			t.Errorf("list %s", raw)
		}
		o.failsAs("ops", "POST", "/v1/admin/api-keys", `{"name":"  "}`, 422, domain.CodeValidation)
		o.report(kept.Secret, ord.ID, body, 200)
	})
}

// TestERPImport_Desk: the desk filters shipped and delivered orders, labels
// their statuses, shows when and under which reference the ERP reported
// them, and names the ERP in the history.
func TestERPImport_Desk(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		key := o.newKey("SAP").Secret
		shipped, delivered, confirmed := o.confirmed("rep1"), o.confirmed("rep1"), o.confirmed("rep1")
		o.report(key, shipped.ID, `{"erp_ref":"SHP-1","status":"shipped","shipped_at":"2026-11-30T09:15:00Z"}`, 200)
		o.report(key, delivered.ID, `{"erp_ref":"SHP-2","status":"shipped","shipped_at":"2026-11-30T09:20:00Z"}`, 200)
		o.report(key, delivered.ID, `{"erp_ref":"DLV-2","status":"delivered","delivered_at":"2026-12-01T16:45:00Z"}`, 200)
		desk, _ := o.deskSignIn(t, "coord1")

		queue := func(status string) []string {
			_, page := desk.send(t, "GET", "/dashboard/desk?status="+status, nil)
			var ids []string
			for _, m := range queueRow.FindAllStringSubmatch(page, -1) {
				ids = append(ids, m[1])
			}
			return ids
		}
		if got := queue("shipped"); strings.Join(got, ",") != shipped.ID {
			t.Errorf("shipped queue %v", got)
		}
		if got := queue("delivered"); strings.Join(got, ",") != delivered.ID {
			t.Errorf("delivered queue %v", got)
		}
		if got := queue("confirmed"); strings.Join(got, ",") != confirmed.ID {
			t.Errorf("confirmed queue %v", got)
		}
		_, page := desk.send(t, "GET", "/dashboard/desk?status=all&order="+delivered.ID, nil)
		for _, want := range []string{`<option value="shipped">Shipped</option>`, `data-testid="order-status">Delivered</span>`,
			`data-testid="erp-shipped">2026-11-30 09:20 UTC <span class="muted">ERP ref SHP-2</span>`,
			`data-testid="erp-delivered">2026-12-01 16:45 UTC <span class="muted">ERP ref DLV-2</span>`,
			`data-via="erp"`, `by SAP  via the ERP <span class="muted">ref DLV-2</span>`} {
			if !strings.Contains(page, want) {
				t.Errorf("desk page lacks %s", want)
			}
		}
		if strings.Contains(page, `data-testid="order-actions"`) {
			t.Errorf("a delivered order offers moves")
		}
		_, page = desk.send(t, "GET", "/dashboard/desk?status=shipped&order="+shipped.ID, nil)
		if !strings.Contains(page, `data-testid="move-delivered"`) {
			t.Errorf("a shipped order does not offer Mark delivered")
		}
		if strings.Contains(page, `data-testid="confirm-selected"`) || strings.Contains(page, `class="all"`) {
			t.Errorf("the shipped queue offers to confirm orders at once")
		}
	})
}

// TestERPImport_RepeatRacesFirst: the same report sent twice at once (the
// ERP retried before the first answer came back) applies once; the second
// answers as a repeat, not as an illegal second shipping. Postgres: a
// transaction of the test holds the order's row lock until both reports
// wait for it (seen in pg_stat_activity), so they meet at the worst moment.
// SQLite serialises whole transactions, so there they cannot meet.
func TestERPImport_RepeatRacesFirst(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		if db.Dialect != store.Postgres {
			t.Skip("SQLite runs one write transaction at a time")
		}
		o := newOffice(t, db)
		key := o.newKey("ERP").Secret
		ord := o.confirmed("rep1")
		ctx := context.Background()
		hold, err := db.Gorm.DB()
		if err != nil {
			t.Fatal(err)
		}
		blocker, err := hold.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := blocker.ExecContext(ctx, "SELECT 1 FROM orders WHERE id = $1 FOR UPDATE", ord.ID); err != nil {
			t.Fatal(err)
		}
		body := `{"erp_ref":"SHP-R","status":"shipped","shipped_at":"2026-11-30T09:00:00Z"}`
		type answer struct {
			status int
			body   string
		}
		answers := make(chan answer, 2)
		for range 2 {
			go func() {
				req := httptest.NewRequest("POST", "/v1/erp/orders/"+ord.ID+"/status", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Api-Key", key)
				resp, err := o.srv.App.Test(req, -1)
				if err != nil {
					answers <- answer{0, err.Error()}
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				answers <- answer{resp.StatusCode, string(b)}
			}()
		}
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			var waiting int
			if err := hold.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%orders%'`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d reports wait for the order's lock, want 2", waiting)
			}
		}
		if err := blocker.Commit(); err != nil {
			t.Fatal(err)
		}
		a, b := <-answers, <-answers
		if a.status != 200 || b.status != 200 || a.body != b.body {
			t.Fatalf("answers %d %s and %d %s, want the same 200 twice", a.status, a.body, b.status, b.body)
		}
		var d backoffice.OrderDetail
		o.as("coord1", "GET", "/v1/orders/"+ord.ID, "", 200, &d)
		if d.Order.Version != 4 || len(d.History) != 4 {
			t.Errorf("version %d, history %v", d.Order.Version, historyOf(d))
		}
	})
}
