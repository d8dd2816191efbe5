package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// TestDesk_BrowserERP: on the demo organisation, ops issue the ERP a key;
// an order the rep submitted and the desk confirmed is reported shipped by
// the ERP; the rep's phone gets the status at its next pull, and the demo
// coordinator sees it in the browser under "Shipped" with the ERP's
// reference. Screenshots at laptop and phone widths.
func TestDesk_BrowserERP(t *testing.T) {
	chromium := browserTest(t)
	base := startServer(t)
	rep := newDevice(t, base, demoLogin(t, domain.RoleRep), "e2e-erp-rep-phone")
	rep.sync()
	account, product := rep.accountAndProduct()
	id := uuid.NewString()
	if r := rep.push(upsert(id, 0, map[string]any{"account_id": account, "status": "submitted",
		"lines": []map[string]any{{"product_id": product, "quantity": 3}}})); r[0].Status != wire.StatusApplied {
		t.Fatalf("submit: %+v", r[0])
	}
	coord := newDevice(t, base, demoLogin(t, domain.RoleCoordinator), "e2e-erp-coord")
	var confirmed domain.Order
	coord.call("POST", "/v1/orders/"+id+"/transition", map[string]any{"to": "confirmed", "expected_version": 1}, &confirmed)

	ops := newDevice(t, base, demoLogin(t, domain.RoleOps), "e2e-erp-ops")
	var key domain.APIKey
	post(t, ops.token, base+"/v1/admin/api-keys", `{"name":"SAP"}`, http.StatusCreated, &key)
	var shipped struct{ Status string }
	post(t, key.Secret, base+"/v1/erp/orders/"+id+"/status",
		`{"erp_ref":"SHP-80012","status":"shipped","shipped_at":"2026-12-02T09:15:00+01:00"}`, http.StatusOK, &shipped)
	rep.sync()
	if o := rep.order(id); o.Status != domain.OrderShipped || o.Version != confirmed.Version+1 {
		t.Errorf("rep's device: the order is %s v%d, want shipped v%d", o.Status, o.Version, confirmed.Version+1)
	}

	ctx := browserContext(t, chromium)
	signIn(t, ctx, base, demoLogin(t, domain.RoleCoordinator), `[data-testid="desk-filters"]`)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/dashboard/desk?status=shipped&order="+id),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="erp-shipped"]`)),
	)
	if err != nil {
		t.Fatalf("open the shipped order: %v", err)
	}
	if s := run(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid="order-status"]`))); s != "Shipped" {
		t.Errorf("status badge %q", s)
	}
	if s := run(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid="erp-shipped"]`))); s != "2026-12-02 08:15 UTC ERP ref SHP-80012" {
		t.Errorf("shipping fact %q", s)
	}
	screenshot(t, ctx, "desk-erp.png", 1366, 900)
	screenshot(t, ctx, "desk-erp-phone.png", 390, 844)
}

// post sends body with a bearer token (a user's or an API key) and wants status.
func post(t *testing.T, token, url, body string, status int, out any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := apitest.Client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status || json.Unmarshal(b, out) != nil {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
}
