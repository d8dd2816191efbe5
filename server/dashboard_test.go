package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/reports"
	"github.com/fieldsync/fieldsync/store"
	"github.com/gofiber/fiber/v2"
)

// browser is a minimal cookie-keeping client over the app (the dashboard's
// and the desk's forms).
type browser struct {
	app     *fiber.App
	cookies map[string]*http.Cookie
}

func (b *browser) send(t *testing.T, method, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	resp, out := apitest.Fiber(t, b.app, req)
	for _, c := range resp.Cookies() {
		b.cookies[c.Name] = c
	}
	return resp, string(out)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", page)
	}
	return m[1]
}

func (b *browser) signIn(t *testing.T, email, password string) (*http.Response, string) {
	t.Helper()
	_, page := b.send(t, "GET", "/dashboard", nil)
	return b.send(t, "POST", "/dashboard/login", url.Values{"csrf": {csrfOf(t, page)}, "email": {email}, "password": {password}})
}

func testValue(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`data-testid="` + id + `" data-value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s in page", id)
	}
	return m[1]
}

func TestDashboard(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newReportEnv(t, db)

		t.Run("LoginFormAndHeaders", func(t *testing.T) {
			b := &browser{app: e.srv.App, cookies: map[string]*http.Cookie{}}
			resp, page := b.send(t, "GET", "/dashboard", nil)
			if resp.StatusCode != 200 || !strings.Contains(page, `action="/dashboard/login"`) {
				t.Fatalf("GET /dashboard = %d, want the login form", resp.StatusCode)
			}
			c := b.cookies["fs_login_csrf"]
			if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Fatalf("login CSRF cookie = %+v, want HttpOnly SameSite=Strict", c)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("CSP = %q", csp)
			}
			resp, css := b.send(t, "GET", "/dashboard/assets/dashboard.css", nil)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(css, ".bar") {
				t.Errorf("stylesheet = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
				t.Errorf("login page refers to another origin")
			}
		})

		t.Run("LoginWithoutCSRF/ErrForbidden", func(t *testing.T) {
			b := &browser{app: e.srv.App, cookies: map[string]*http.Cookie{}}
			b.send(t, "GET", "/dashboard", nil)
			resp, _ := b.send(t, "POST", "/dashboard/login", url.Values{"csrf": {"forged"},
				"email": {"manager@demo.fieldsync.dev"}, "password": {"demo-manager-pass"}})
			if resp.StatusCode != 403 || b.cookies["fs_session"] != nil {
				t.Fatalf("forged login = %d, session cookie %v; want 403 and none", resp.StatusCode, b.cookies["fs_session"])
			}
		})

		t.Run("WrongPassword/ErrUnauthorized", func(t *testing.T) {
			b := &browser{app: e.srv.App, cookies: map[string]*http.Cookie{}}
			resp, page := b.signIn(t, "manager@demo.fieldsync.dev", "wrong password")
			if resp.StatusCode != 401 || !strings.Contains(page, "Invalid email or password") {
				t.Fatalf("wrong password = %d", resp.StatusCode)
			}
		})

		t.Run("Rep/ErrForbidden", func(t *testing.T) {
			b := &browser{app: e.srv.App, cookies: map[string]*http.Cookie{}}
			resp, _ := b.signIn(t, "rep@demo.fieldsync.dev", "demo-rep-pass")
			if resp.StatusCode != 403 || (b.cookies["fs_session"] != nil && b.cookies["fs_session"].Value != "") {
				t.Fatalf("rep sign-in = %d, want 403 without a session", resp.StatusCode)
			}
		})

		t.Run("ManagerSeesTheAPINumbers", func(t *testing.T) {
			b := &browser{app: e.srv.App, cookies: map[string]*http.Cookie{}}
			resp, _ := b.signIn(t, "manager@demo.fieldsync.dev", "demo-manager-pass")
			sess := b.cookies["fs_session"]
			if resp.StatusCode != 303 || sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode {
				t.Fatalf("sign-in = %d, session cookie %+v; want 303 and an HttpOnly SameSite=Strict cookie", resp.StatusCode, sess)
			}
			resp, page := b.send(t, "GET", "/dashboard?"+period, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("dashboard = %d", resp.StatusCode)
			}
			var cov reports.Coverage
			e.get(t, domain.RoleManager, "/v1/reports/coverage?"+period, &cov)
			for id, want := range map[string]any{
				"total-accounts": cov.Totals.Accounts, "total-coverage-pct": cov.Totals.CoveragePct,
				"total-attainment-pct": cov.Totals.AttainmentPct, "total-overdue-accounts": cov.Totals.OverdueAccounts,
				"total-orders": cov.Totals.Orders, "total-revenue-cents": cov.Totals.RevenueCents,
			} {
				w, _ := json.Marshal(want)
				if got := testValue(t, page, id); got != string(w) {
					t.Errorf("%s = %s on the page, %s from the API", id, got, w)
				}
			}
			for _, part := range []string{`data-testid="territory-row"`, `data-testid="rep-row"`, `data-testid="account-map"`,
				`data-testid="overdue-row"`, `data-testid="orders-by-status"`, `data-testid="device-row"`} {
				if !strings.Contains(page, part) {
					t.Errorf("page lacks %s", part)
				}
			}

			// The session cookie is no bearer token.
			status, _ := e.do(t, "GET", "/v1/reports/coverage", sess.Value, nil)
			if status != 401 {
				t.Errorf("session token as bearer = %d, want 401", status)
			}

			// Logout needs the session's CSRF token.
			resp, _ = b.send(t, "POST", "/dashboard/logout", url.Values{"csrf": {"forged"}})
			if resp.StatusCode != 403 {
				t.Fatalf("logout with a forged CSRF token = %d, want 403", resp.StatusCode)
			}
			resp, _ = b.send(t, "POST", "/dashboard/logout", url.Values{"csrf": {csrfOf(t, page)}})
			if resp.StatusCode != 303 {
				t.Fatalf("logout = %d, want 303", resp.StatusCode)
			}
			b.cookies["fs_session"] = sess // a stolen copy of the cookie no longer works
			_, page = b.send(t, "GET", "/dashboard", nil)
			if !strings.Contains(page, `action="/dashboard/login"`) {
				t.Fatal("after logout the old session still opens the dashboard")
			}
		})
	})
}
