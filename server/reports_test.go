package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/reports"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"golang.org/x/crypto/bcrypt"
)

// demoNow anchors the demo organisation, so the report period below always
// holds its visits.
var demoNow = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)

// reportEnv is a real server on the demo organisation.
type reportEnv struct {
	db     *store.DB
	srv    *server.Server
	tokens map[domain.Role]string
}

func newReportEnv(t *testing.T, db *store.DB) *reportEnv {
	t.Helper()
	if _, err := fixtures.Generate(context.Background(), db, fixtures.Options{Demo: true, Seed: 1, Now: demoNow}); err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	e := &reportEnv{db: db, srv: srv, tokens: map[domain.Role]string{}}
	for _, l := range fixtures.DemoLogins() {
		if _, done := e.tokens[l.Role]; done {
			continue
		}
		body, _ := json.Marshal(wire.LoginRequest{Email: l.Email, Password: l.Password, DeviceID: "test-" + string(l.Role)})
		status, resp := e.do(t, "POST", "/v1/auth/login", "", body)
		var lr wire.LoginResponse
		if status != 200 || json.Unmarshal(resp, &lr) != nil {
			t.Fatalf("login %s: %d %s", l.Email, status, resp)
		}
		e.tokens[l.Role] = lr.Token
	}
	return e
}

func (e *reportEnv) do(t *testing.T, method, path, token string, body []byte) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, b := apitest.Fiber(t, e.srv.App, req)
	return resp.StatusCode, b
}

// get fetches path as role and decodes a 200 body into out.
func (e *reportEnv) get(t *testing.T, role domain.Role, path string, out any) {
	t.Helper()
	status, body := e.do(t, "GET", path, e.tokens[role], nil)
	if status != 200 {
		t.Fatalf("GET %s as %s = %d %s", path, role, status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func (e *reportEnv) managerCaller(t *testing.T) domain.Caller {
	t.Helper()
	u, err := store.GetUserByEmail(e.db.Autocommit(context.Background()), "manager@demo.fieldsync.dev")
	if err != nil {
		t.Fatal(err)
	}
	return domain.Caller{UserID: u.ID, Role: u.Role}
}

const period = "from=2026-02-21&to=2026-03-20"

func TestReports_HTTP(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newReportEnv(t, db)

		t.Run("CoverageIsTheServiceAnswer", func(t *testing.T) {
			_, body := e.do(t, "GET", "/v1/reports/coverage?"+period, e.tokens[domain.RoleManager], nil)
			p, _ := reports.ParseParams(demoNow, "2026-02-21", "2026-03-20", "")
			want, err := reports.New(db, reports.DefaultCadence, "EUR").Coverage(context.Background(), e.managerCaller(t), p)
			if err != nil {
				t.Fatal(err)
			}
			wantJSON, _ := json.Marshal(want)
			if !bytes.Equal(bytes.TrimSpace(body), wantJSON) {
				t.Fatalf("coverage body differs from the service:\n got  %s\n want %s", body, wantJSON)
			}
			if want.Totals.Accounts == 0 || want.Totals.VisitsCompleted == 0 || len(want.Reps) == 0 {
				t.Fatalf("demo coverage is empty: %+v", want.Totals)
			}
		})

		t.Run("OverduePagesAddUpToCoverage", func(t *testing.T) {
			var cov reports.Coverage
			e.get(t, domain.RoleManager, "/v1/reports/coverage?"+period, &cov)
			seen, cursor := 0, ""
			for i := 0; i < 1000; i++ {
				var page struct {
					Items      []json.RawMessage `json:"items"`
					NextCursor *string           `json:"next_cursor"`
				}
				e.get(t, domain.RoleManager, "/v1/reports/overdue?limit=7&"+period+"&cursor="+url.QueryEscape(cursor), &page)
				seen += len(page.Items)
				if page.NextCursor == nil {
					break
				}
				cursor = *page.NextCursor
			}
			if int64(seen) != cov.Totals.OverdueAccounts {
				t.Fatalf("overdue report lists %d accounts, coverage counts %d", seen, cov.Totals.OverdueAccounts)
			}
		})

		t.Run("OrdersAndSyncHealth", func(t *testing.T) {
			var orders reports.OrdersReport
			e.get(t, domain.RoleCoordinator, "/v1/reports/orders?"+period, &orders)
			var sum int64
			for _, s := range orders.ByStatus {
				sum += s.Count
			}
			if orders.Totals.Count == 0 || sum != orders.Totals.Count {
				t.Fatalf("orders: totals %+v, statuses sum to %d", orders.Totals, sum)
			}
			var health struct {
				Items []reports.DeviceHealth `json:"items"`
			}
			e.get(t, domain.RoleDirector, "/v1/reports/sync-health", &health)
			if len(health.Items) == 0 {
				t.Fatal("sync health lists no devices; every login above registered one")
			}
		})

		t.Run("Errors", func(t *testing.T) {
			var dir reports.Coverage
			e.get(t, domain.RoleDirector, "/v1/reports/coverage?"+period, &dir)
			var mgr reports.Coverage
			e.get(t, domain.RoleManager, "/v1/reports/coverage?"+period, &mgr)
			outside := ""
			for _, d := range dir.Territories {
				inside := false
				for _, m := range mgr.Territories {
					inside = inside || m.TerritoryID == d.TerritoryID
				}
				if !inside {
					outside = d.TerritoryID
				}
			}
			if outside == "" {
				t.Fatal("demo has no territory outside the manager's region")
			}
			for _, tc := range []struct {
				name   string
				role   domain.Role
				path   string
				status int
				code   domain.Code
			}{
				{"Rep/ErrForbidden", domain.RoleRep, "/v1/reports/coverage", 403, domain.CodeForbidden},
				{"RepOrders/ErrForbidden", domain.RoleRep, "/v1/reports/orders", 403, domain.CodeForbidden},
				{"Ops/ErrForbidden", domain.RoleOps, "/v1/reports/sync-health", 403, domain.CodeForbidden},
				{"Coordinator/ErrForbidden", domain.RoleCoordinator, "/v1/reports/coverage", 403, domain.CodeForbidden},
				{"CoordinatorOverdue/ErrForbidden", domain.RoleCoordinator, "/v1/reports/overdue", 403, domain.CodeForbidden},
				{"NoToken/ErrUnauthorized", "", "/v1/reports/coverage", 401, domain.CodeUnauthorized},
				{"BadDate/ErrBadRequest", domain.RoleManager, "/v1/reports/coverage?from=1.3.2026", 400, domain.CodeBadRequest},
				{"BadLimit/ErrBadRequest", domain.RoleManager, "/v1/reports/overdue?limit=0", 400, domain.CodeBadRequest},
				{"OutsideScope/ErrNotFound", domain.RoleManager, "/v1/reports/coverage?territory_id=" + outside, 404, domain.CodeNotFound},
			} {
				t.Run(tc.name, func(t *testing.T) {
					status, body := e.do(t, "GET", tc.path, e.tokens[tc.role], nil)
					var eb struct {
						Error struct {
							Code domain.Code `json:"code"`
						} `json:"error"`
					}
					_ = json.Unmarshal(body, &eb)
					if status != tc.status || eb.Error.Code != tc.code || strings.Contains(string(body), "SELECT") {
						t.Fatalf("%s = %d %s, want %d %s", tc.path, status, body, tc.status, tc.code)
					}
				})
			}
		})
	})
}
