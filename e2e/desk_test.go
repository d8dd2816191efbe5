package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

func demoLogin(t *testing.T, role domain.Role) fixtures.Login {
	t.Helper()
	for _, l := range fixtures.DemoLogins() {
		if l.Role == role {
			return l
		}
	}
	t.Fatalf("no demo %s login", role)
	return fixtures.Login{}
}

// device is a rep's device speaking the sync API, every exchange checked
// against /openapi.json.
type device struct {
	t      *testing.T
	base   string
	id     string
	token  string
	cursor string
	rows   map[string]wire.Change // "table/id" -> latest change
	client *http.Client
}

func newDevice(t *testing.T, base string, l fixtures.Login, id string) *device {
	d := &device{t: t, base: base, id: id, rows: map[string]wire.Change{}, client: apitest.Client(t)}
	var login wire.LoginResponse
	d.call("POST", "/v1/auth/login", wire.LoginRequest{Email: l.Email, Password: l.Password, DeviceID: id}, &login)
	d.token = login.Token
	return d
}

func (d *device) call(method, path string, body, out any) {
	d.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, d.base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if d.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.token)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, out) != nil {
		d.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
}

// sync pulls until the server has nothing more.
func (d *device) sync() {
	d.t.Helper()
	for range 1000 {
		var page wire.PullResponse
		d.call("GET", "/v1/sync/pull?limit=1000&cursor="+url.QueryEscape(d.cursor), nil, &page)
		for _, c := range page.Changes {
			d.rows[c.Table+"/"+c.ID] = c
		}
		d.cursor = page.Cursor
		if !page.HasMore {
			return
		}
	}
	d.t.Fatal("pull never ended")
}

func (d *device) push(ms ...wire.Mutation) []wire.MutationResult {
	d.t.Helper()
	var resp wire.PushResponse
	d.call("POST", "/v1/sync/push", wire.PushRequest{DeviceID: d.id, Mutations: ms}, &resp)
	return resp.Results
}

func upsert(id string, base int64, row map[string]any) wire.Mutation {
	b, _ := json.Marshal(row)
	return wire.Mutation{MutationID: uuid.NewString(), Table: "orders", Op: "upsert", ID: id, BaseVersion: base, Row: b}
}

// order is the latest row of an order the device pulled.
func (d *device) order(id string) domain.Order {
	d.t.Helper()
	c, ok := d.rows["orders/"+id]
	var o domain.Order
	if !ok || json.Unmarshal(c.Row, &o) != nil {
		d.t.Fatalf("device has no order %s", id)
	}
	return o
}

// accountAndProduct is an active account and an active EUR product among
// the rows the device pulled, for orders to be placed on.
func (d *device) accountAndProduct() (account, product string) {
	d.t.Helper()
	for _, c := range d.rows {
		var row struct {
			ID, Currency, Status string
			Active               bool
		}
		_ = json.Unmarshal(c.Row, &row)
		switch {
		case c.Table == "accounts" && row.Status == domain.AccountActive && account == "":
			account = row.ID
		case c.Table == "products" && row.Active && row.Currency == "EUR" && product == "":
			product = row.ID
		}
	}
	if account == "" || product == "" {
		d.t.Fatal("the device sees no active account or EUR product")
	}
	return account, product
}

// TestDesk_Browser: the demo rep submits two orders and leaves a conflict on
// a third from two devices; the demo coordinator, in the browser, confirms
// one, rejects one with a reason and resolves the conflict; the rep's device
// gets each result by pull. Screenshots at laptop and phone widths.
func TestDesk_Browser(t *testing.T) {
	chromium := browserTest(t)
	base := startServer(t)
	rep := newDevice(t, base, demoLogin(t, domain.RoleRep), "e2e-rep-phone")
	rep.sync()
	account, product := rep.accountAndProduct()
	line := func(q int) []map[string]any { return []map[string]any{{"product_id": product, "quantity": q}} }
	toConfirm, toReject, disputed := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for i, r := range rep.push(
		upsert(toConfirm, 0, map[string]any{"account_id": account, "lines": line(2), "status": "submitted"}),
		upsert(toReject, 0, map[string]any{"account_id": account, "lines": line(3), "status": "submitted"}),
		upsert(disputed, 0, map[string]any{"account_id": account, "lines": line(1)}),
		upsert(disputed, 1, map[string]any{"lines": line(4)}),
	) {
		if r.Status != wire.StatusApplied {
			t.Fatalf("push %d: %+v", i, r)
		}
	}
	tablet := newDevice(t, base, demoLogin(t, domain.RoleRep), "e2e-rep-tablet")
	res := tablet.push(upsert(disputed, 1, map[string]any{"lines": line(7)}))
	if res[0].Status != wire.StatusConflict {
		t.Fatalf("second device's lines: %+v", res[0])
	}
	rep.sync()

	ctx := browserContext(t, chromium)
	signIn(t, ctx, base, demoLogin(t, domain.RoleCoordinator), `[data-testid="queue-row"][data-id="`+toConfirm+`"]`)
	screenshot(t, ctx, "desk-queue.png", 1366, 900)
	screenshot(t, ctx, "desk-queue-phone.png", 390, 844)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 900)); err != nil {
		t.Fatal(err)
	}

	// Confirm: open the order from the queue, press Confirm.
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="queue-row"][data-id="`+toConfirm+`"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="order-detail"][data-id="`+toConfirm+`"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="move-confirmed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="desk-notice"]`)),
	)
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if s := run(t, ctx, chromedp.AttributeValue(chromedp.CSS(`[data-testid="order-detail"]`), "data-status")); s.Value != "confirmed" {
		t.Errorf("after Confirm the page shows %q", s.Value)
	}
	screenshot(t, ctx, "desk-order.png", 1366, 900)
	screenshot(t, ctx, "desk-order-phone.png", 390, 844)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 900)); err != nil {
		t.Fatal(err)
	}

	// Reject with a reason.
	const reason = "Customer is on credit hold"
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/dashboard/desk?order="+toReject),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="reject-reason"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="reject-reason"]`), reason),
		chromedp.Click(chromedp.CSS(`[data-testid="move-rejected"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="order-reason"]`)),
	)
	if err != nil {
		t.Fatalf("reject: %v", err)
	}

	// Resolve the conflict with the second device's lines.
	conflict := fmt.Sprintf(`[data-testid="conflict"][data-row="%s"]`, disputed)
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/dashboard/desk"),
		chromedp.WaitVisible(chromedp.CSS(conflict)),
		chromedp.Click(chromedp.CSS(conflict+` [data-testid="take-device"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="desk-notice"]`)),
	)
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+conflict+`').length`)); n != 0 {
		t.Errorf("the resolved conflict is still listed")
	}

	// The rep's phone gets every decision at its next sync.
	rep.sync()
	if o := rep.order(toConfirm); o.Status != domain.OrderConfirmed || o.Version != 2 {
		t.Errorf("rep's device: confirmed order is %s v%d", o.Status, o.Version)
	}
	if o := rep.order(toReject); o.Status != domain.OrderRejected || o.Reason == nil || *o.Reason != reason {
		t.Errorf("rep's device: rejected order %+v", o)
	}
	if o := rep.order(disputed); o.Version != 3 || len(o.Lines) != 1 || o.Lines[0].Quantity != 7 {
		t.Errorf("rep's device: disputed order after take_device %+v", o)
	}
}
