package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// deskClient is a browser signed in through the dashboard's login form,
// with the CSRF token of its session.
type deskClient struct {
	browser
	csrf string
}

func (o *office) deskSignIn(t *testing.T, who string) (*deskClient, *http.Response) {
	t.Helper()
	b := &deskClient{browser: browser{app: o.srv.App, cookies: map[string]*http.Cookie{}}}
	_, page := b.send(t, "GET", "/dashboard/desk", nil)
	resp, _ := b.send(t, "POST", "/dashboard/login", url.Values{"csrf": {csrfOf(t, page)}, "email": {who + "@example.com"}, "password": {"password1"}})
	if resp.StatusCode == http.StatusSeeOther {
		_, page = b.send(t, "GET", "/dashboard/desk", nil)
		b.csrf = csrfOf(t, page)
	}
	return b, resp
}

// post sends a desk form with the session's CSRF token; it must answer status.
func (b *deskClient) post(t *testing.T, path string, form url.Values, status int) string {
	t.Helper()
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf)
	}
	resp, page := b.send(t, "POST", path, form)
	if resp.StatusCode != status {
		t.Fatalf("POST %s = %d, want %d:\n%s", path, resp.StatusCode, status, page)
	}
	return page
}

func (b *deskClient) move(t *testing.T, ord domain.Order, to string, version int64, reason string, status int) string {
	t.Helper()
	f := url.Values{"to": {to}, "expected_version": {strconv.FormatInt(version, 10)}, "number": {*ord.Number}}
	if reason != "" {
		f.Set("reason", reason)
	}
	return b.post(t, "/dashboard/desk/orders/"+ord.ID+"/transition", f, status)
}

var queueRow = regexp.MustCompile(`data-testid="queue-row" data-id="([^"]+)"`)

func TestDesk_Page(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		a, b, c := o.submittedOrder("rep1", o.acc1), o.submittedOrder("rep1", o.acc1), o.submittedOrder("rep1", o.acc1)
		o.submittedOrder("rep3", o.acc3) // not coord1's

		desk, resp := o.deskSignIn(t, "coord1")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard/desk" {
			t.Fatalf("coordinator sign-in = %d to %q, want 303 to the desk", resp.StatusCode, resp.Header.Get("Location"))
		}
		t.Run("QueueOldestFirstInScope", func(t *testing.T) {
			resp, page := desk.send(t, "GET", "/dashboard/desk", nil)
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("CSP %q", csp)
			}
			var got []string
			for _, m := range queueRow.FindAllStringSubmatch(page, -1) {
				got = append(got, m[1])
			}
			if strings.Join(got, ",") != strings.Join([]string{a.ID, b.ID, c.ID}, ",") {
				t.Errorf("queue %v, want a, b, c", got)
			}
			// The dashboard sends a coordinator to the desk.
			if resp, _ := desk.send(t, "GET", "/dashboard", nil); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("GET /dashboard as coordinator = %d, want 303", resp.StatusCode)
			}
		})
		t.Run("ConfirmThenStale", func(t *testing.T) {
			desk.move(t, a, "confirmed", 2, "", http.StatusSeeOther)
			_, page := desk.send(t, "GET", "/dashboard/desk?order="+a.ID+"&done=confirmed", nil)
			if !strings.Contains(page, "Order confirmed.") || !strings.Contains(page, `data-testid="move-shipped"`) {
				t.Errorf("after confirming:\n%s", page)
			}
			// The same form again: the order moved on since.
			page = desk.move(t, a, "rejected", 2, "late", http.StatusConflict)
			if !strings.Contains(page, "changed since you opened it") || !strings.Contains(page, `data-testid="order-detail"`) {
				t.Errorf("stale version page:\n%s", page)
			}
			var d backoffice.OrderDetail
			o.as("coord1", "GET", "/v1/orders/"+a.ID, "", 200, &d)
			last := d.History[len(d.History)-1]
			if last.Via != domain.ViaDesk || last.Status != "confirmed" || *last.ActorID != o.coord1 || len(d.History) != 3 {
				t.Errorf("history %+v", d.History)
			}
		})
		t.Run("RejectNeedsReason", func(t *testing.T) {
			page := desk.move(t, b, "rejected", 2, "", http.StatusUnprocessableEntity)
			if !strings.Contains(page, "reason is required") {
				t.Errorf("no reason:\n%s", page)
			}
			desk.move(t, b, "rejected", 2, "duplicate of an earlier order", http.StatusSeeOther)
			o.mirror("rep1").hasVersion("orders", b.ID, 3)
		})
		t.Run("ErrCSRF", func(t *testing.T) {
			f := url.Values{"csrf": {"forged"}, "to": {"confirmed"}, "expected_version": {"2"}}
			resp, _ := desk.send(t, "POST", "/dashboard/desk/orders/"+c.ID+"/transition", f)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("forged CSRF = %d", resp.StatusCode)
			}
			anon := &deskClient{browser: browser{app: o.srv.App, cookies: map[string]*http.Cookie{}}}
			if resp, _ := anon.send(t, "POST", "/dashboard/desk/confirm", url.Values{"csrf": {"x"}, "order": {c.ID + ":2"}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("no session = %d", resp.StatusCode)
			}
		})
		t.Run("ConfirmSeveral", func(t *testing.T) {
			d := o.submittedOrder("rep1", o.acc1)
			page := desk.post(t, "/dashboard/desk/confirm", url.Values{"order": {c.ID + ":2", d.ID + ":2", a.ID + ":3"}}, http.StatusOK)
			if !strings.Contains(page, "2 of 3 orders confirmed.") {
				t.Errorf("bulk:\n%s", page)
			}
			for _, id := range []string{c.ID, d.ID} {
				var det backoffice.OrderDetail
				o.as("coord1", "GET", "/v1/orders/"+id, "", 200, &det)
				if det.Order.Status != domain.OrderConfirmed {
					t.Errorf("%s is %s", id, det.Order.Status)
				}
			}
		})
		t.Run("ResolveConflict", func(t *testing.T) {
			id, conflictID := o.linesConflict("rep1", o.acc1)
			_, page := desk.send(t, "GET", "/dashboard/desk", nil)
			if !strings.Contains(page, `data-id="`+conflictID+`"`) {
				t.Fatalf("open conflict not on the desk:\n%s", page)
			}
			desk.post(t, "/dashboard/desk/conflicts/"+conflictID+"/resolve", url.Values{"resolution": {"take_device"}}, http.StatusSeeOther)
			page = desk.post(t, "/dashboard/desk/conflicts/"+conflictID+"/resolve", url.Values{"resolution": {"take_device"}}, http.StatusConflict)
			if !strings.Contains(page, "already resolved") {
				t.Errorf("second resolution:\n%s", page)
			}
			o.mirror("rep1").hasVersion("orders", id, 3)
		})
		t.Run("ManagerReadsWithoutActions", func(t *testing.T) {
			mgr, resp := o.deskSignIn(t, "mgr")
			if resp.Header.Get("Location") != "/dashboard" {
				t.Errorf("manager sign-in to %q", resp.Header.Get("Location"))
			}
			_, page := mgr.send(t, "GET", "/dashboard/desk?status=all&order="+a.ID, nil)
			if !strings.Contains(page, `data-testid="order-detail"`) || strings.Contains(page, `data-testid="move-`) ||
				strings.Contains(page, "confirm-selected") {
				t.Errorf("manager's desk:\n%s", page)
			}
			mgr.move(t, c, "shipped", 3, "", http.StatusForbidden)
		})
		t.Run("ErrRepCannotSignIn", func(t *testing.T) {
			_, resp := o.deskSignIn(t, "rep1")
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("rep sign-in = %d", resp.StatusCode)
			}
		})
		t.Run("OutOfScopeOrderIsUnknown", func(t *testing.T) {
			out := o.submittedOrder("rep3", o.acc3)
			_, page := desk.send(t, "GET", "/dashboard/desk?order="+out.ID, nil)
			if !strings.Contains(page, "does not exist or is not on your desk") {
				t.Errorf("out of scope order shown")
			}
			desk.move(t, out, "confirmed", 2, "", http.StatusNotFound)
		})
	})
}
