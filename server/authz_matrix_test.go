package server_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// The role × action table of docs/api.md ("Who may do what"), tested as a
// matrix generated from /openapi.json: every documented route × every role ×
// each kind of row the route names (the caller's own, another in the caller's
// scope, one outside it). An allowed call answers 2xx; a role the route is not
// for answers 403 whatever the row; a row outside the scope answers exactly
// like an id that names no row (same status, code, message and fields). A
// route added to the document without an entry here fails the test. The
// attachments' byte lane (authz_matrix_attach_test.go) and the dashboard's
// routes that name a row (authz_matrix_dash_test.go, with each role's
// session) are rows of the same matrix; the routes left exempt say why.

type want int

const (
	na     want = iota // the combination does not exist (no such row for this role)
	allow              // 2xx
	deny               // 403, whatever the row
	hidden             // exactly as an unknown id: 404 (a pushed delete: applied, as for any absent row)
	// The dashboard's answers to a browser without a session (a rep, who
	// may not sign in), and to a role whose page is another.
	signInForm      // 200, the login form
	unauthenticated // 401
	away            // 303, to the role's own page
)

type rowKind string

const (
	noRow rowKind = "-"     // the route names no row
	own   rowKind = "own"   // the caller's own row
	other rowKind = "other" // another's row in the caller's scope
	out   rowKind = "out"   // a row outside the caller's scope
)

// matrixRoles maps each role to the office user who plays it: a rep and a
// coordinator of T1, the manager of region R (T1, T2), the director, ops.
var matrixRoles = []struct {
	role domain.Role
	who  string
}{
	{domain.RoleRep, "rep1"}, {domain.RoleCoordinator, "coord1"}, {domain.RoleManager, "mgr"},
	{domain.RoleDirector, "director"}, {domain.RoleOps, "ops"},
}

// probe is one request. For a push, result extracts the first mutation's
// result as if it were a response of its own.
type probe struct {
	method, path, body string
	token              *string // nil: the role's token
	push               bool
	hdr                []string // headers beyond the token's (the tus lane's), name then value
	// session: sent from the role's dashboard browser (cookie, no token),
	// with form as its form and the session's CSRF token.
	session bool
	form    url.Values
	browser *deskClient // nil: the role's
}

type matrixEntry struct {
	exempt   string // why the route is not in the matrix (it does not use bearer tokens)
	kinds    []rowKind
	variants []string // sub-actions of one route (push: which table and write)
	want     func(r domain.Role, k rowKind, variant string) want
	req      func(m *matrix, r domain.Role, k rowKind, variant string) probe
	// unknown is the same request naming a row that does not exist.
	unknown func(m *matrix, r domain.Role, variant string) probe
	// hiddenStatus is the status of an unknown row when not 404 (a
	// dashboard page that says so); shows, when set, tells an allowed
	// answer from one that shows nothing (a page is 200 either way).
	hiddenStatus int
	shows        func(body string) bool
}

// matrix holds the rows the probes name, built once per dialect.
type matrix struct {
	*office
	visit, order, note map[rowKind]string // rows by kind, as seen by rep1 / mgr
	outConflict        string
	outOrder           string
	// attach: stored attachments by parent table and kind; pending: one
	// attachment of each kind whose bytes have not arrived
	// (seedAttachments).
	attach   map[string]map[rowKind]string
	pending  map[rowKind]string
	browsers map[domain.Role]*deskClient // each role's dashboard browser (signInAll)
	n        *int                        // a counter for unique names, shared by the copies made per subtest
}

func onlyFor(roles ...domain.Role) func(domain.Role, rowKind, string) want {
	return func(r domain.Role, _ rowKind, _ string) want {
		for _, x := range roles {
			if x == r {
				return allow
			}
		}
		return deny
	}
}

func simple(method, path string) func(*matrix, domain.Role, rowKind, string) probe {
	return func(*matrix, domain.Role, rowKind, string) probe { return probe{method: method, path: path} }
}

// scoped: roles may call the route; rows of their scope are allowed, others
// hidden. Roles in everywhere see every row (no "out" for them).
func scoped(allowed []domain.Role, everywhere ...domain.Role) func(domain.Role, rowKind, string) want {
	return func(r domain.Role, k rowKind, _ string) want {
		if !contains(allowed, r) {
			return deny
		}
		switch {
		case k == own:
			return na
		case k == out && contains(everywhere, r):
			return na
		case k == out:
			return hidden
		}
		return allow
	}
}

func contains(rs []domain.Role, r domain.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func matrixEntries() map[string]matrixEntry {
	all := []domain.Role{domain.RoleRep, domain.RoleCoordinator, domain.RoleManager, domain.RoleDirector, domain.RoleOps}
	public := func(method, path string) matrixEntry {
		return matrixEntry{kinds: []rowKind{noRow}, want: onlyFor(all...), req: simple(method, path)}
	}
	dashboard := matrixEntry{exempt: "names no row; the dashboard signs in with its own form and cookie session (dashboard_test.go)"}
	reportEntry := func(path string, roles ...domain.Role) matrixEntry {
		return matrixEntry{kinds: []rowKind{other, out}, want: scoped(roles, domain.RoleDirector, domain.RoleOps),
			req: func(m *matrix, _ domain.Role, k rowKind, _ string) probe {
				t := m.t1
				if k == out {
					t = m.t3
				}
				return probe{method: "GET", path: path + "?territory_id=" + t}
			},
			unknown: func(*matrix, domain.Role, string) probe {
				return probe{method: "GET", path: path + "?territory_id=" + uuid.NewString()}
			}}
	}
	admin := func(method, path string, body func(m *matrix) (string, string)) matrixEntry {
		return matrixEntry{kinds: []rowKind{other}, want: onlyFor(domain.RoleOps),
			req: func(m *matrix, _ domain.Role, _ rowKind, _ string) probe {
				p, b := body(m)
				return probe{method: method, path: strings.Replace(path, "{}", p, 1), body: b}
			}}
	}
	entries := map[string]matrixEntry{
		"get /healthz":                 public("GET", "/healthz"),
		"get /readyz":                  public("GET", "/readyz"),
		"get /metrics":                 public("GET", "/metrics"),
		"get /openapi.json":            public("GET", "/openapi.json"),
		"get /dashboard":               dashboard,
		"post /dashboard/login":        dashboard,
		"post /dashboard/logout":       dashboard,
		"get /dashboard/assets/{name}": dashboard,

		"post /v1/auth/login": {kinds: []rowKind{noRow}, want: onlyFor(all...),
			req: func(m *matrix, r domain.Role, _ rowKind, _ string) probe {
				return probe{method: "POST", path: "/v1/auth/login", body: m.loginBody(m.who(r)), token: new(string)}
			}},
		"post /v1/auth/logout": {kinds: []rowKind{noRow}, want: onlyFor(all...),
			req: func(m *matrix, r domain.Role, _ rowKind, _ string) probe {
				tok := m.freshToken(r)
				return probe{method: "POST", path: "/v1/auth/logout", token: &tok}
			}},
		"get /v1/me":        public("GET", "/v1/me"),
		"get /v1/sync/pull": public("GET", "/v1/sync/pull?limit=5"),
		// Every role syncs; what each may see or write is decided per row by
		// the engine, as for pull and push (the RxDB rows: rxdb_test.go).
		"get /v1/rxdb/{collection}/pull": public("GET", "/v1/rxdb/accounts/pull?batchSize=5"),
		"post /v1/rxdb/{collection}/push": {kinds: []rowKind{noRow}, want: onlyFor(all...),
			req: func(*matrix, domain.Role, rowKind, string) probe {
				return probe{method: "POST", path: "/v1/rxdb/accounts/push", body: "[]"}
			}},
		"get /v1/sync/stream":              {exempt: "an endless event stream open to every role; stream_test.go opens it (and is refused past the bound)"},
		"get /v1/rxdb/{collection}/stream": {exempt: "an endless event stream open to every role, like /v1/sync/stream"},
		"post /v1/sync/push": {kinds: []rowKind{own, other, out}, variants: pushVariants,
			want: pushWant, req: pushProbe, unknown: pushUnknown},
		"get /v1/conflicts": public("GET", "/v1/conflicts"),
		// WatermelonDB's sync (docs/protocol.md §9), open to every signed-in
		// user like /v1/sync/*: a push is never refused as a whole; each record
		// goes through the push engine and a refused one is listed in
		// experimentalRejectedIds (sync/watermelon TestPush_SamePermissionsAsSyncPush
		// holds the adapter to /v1/sync/push's answers).
		"get /v1/watermelon/sync": public("GET", "/v1/watermelon/sync"),
		"post /v1/watermelon/sync": {kinds: []rowKind{noRow}, want: onlyFor(all...),
			req: func(*matrix, domain.Role, rowKind, string) probe {
				return probe{method: "POST", path: "/v1/watermelon/sync", body: `{"changes":{}}`}
			}},
		"post /v1/conflicts/{id}/resolve": {kinds: []rowKind{own, other, out},
			want: func(r domain.Role, k rowKind, v string) want {
				if r == domain.RoleRep && k == own {
					return deny // reps list their own conflicts but do not resolve them
				}
				return scoped([]domain.Role{domain.RoleManager, domain.RoleCoordinator})(r, k, v)
			},
			req: func(m *matrix, r domain.Role, k rowKind, _ string) probe {
				id := m.outConflict
				if k != out {
					_, id = m.confirmedConflict("rep1", m.acc1)
				}
				return probe{method: "POST", path: "/v1/conflicts/" + id + "/resolve", body: `{"resolution":"keep_server"}`}
			},
			unknown: func(*matrix, domain.Role, string) probe {
				return probe{method: "POST", path: "/v1/conflicts/" + uuid.NewString() + "/resolve", body: `{"resolution":"keep_server"}`}
			}},
		"get /v1/orders": reportEntry("/v1/orders", domain.RoleCoordinator, domain.RoleManager, domain.RoleDirector, domain.RoleOps),
		"get /v1/orders/{id}": {kinds: []rowKind{other, out},
			want: scoped([]domain.Role{domain.RoleCoordinator, domain.RoleManager, domain.RoleDirector, domain.RoleOps},
				domain.RoleDirector, domain.RoleOps),
			req: func(m *matrix, _ domain.Role, k rowKind, _ string) probe {
				id := m.outOrder
				if k != out {
					id = m.submittedOrder("rep1", m.acc1).ID
				}
				return probe{method: "GET", path: "/v1/orders/" + id}
			},
			unknown: func(*matrix, domain.Role, string) probe {
				return probe{method: "GET", path: "/v1/orders/" + uuid.NewString()}
			}},
		"post /v1/orders/{id}/transition": {kinds: []rowKind{other, out},
			want: scoped([]domain.Role{domain.RoleCoordinator}),
			req: func(m *matrix, r domain.Role, k rowKind, _ string) probe {
				id := m.outOrder
				if k != out {
					id = m.submittedOrder("rep1", m.acc1).ID
				}
				return probe{method: "POST", path: "/v1/orders/" + id + "/transition", body: `{"to":"confirmed","expected_version":2}`}
			},
			unknown: func(*matrix, domain.Role, string) probe {
				return probe{method: "POST", path: "/v1/orders/" + uuid.NewString() + "/transition", body: `{"to":"confirmed","expected_version":2}`}
			}},
		"post /v1/visits": {kinds: []rowKind{other, out}, want: scoped([]domain.Role{domain.RoleManager}),
			req: func(m *matrix, _ domain.Role, k rowKind, _ string) probe {
				acc, rep := m.acc1, m.rep1
				if k == out {
					acc, rep = m.acc3, m.rep3
				}
				return probe{method: "POST", path: "/v1/visits", body: fmt.Sprintf(`{"account_id":%q,"rep_id":%q,"planned_at":"2026-11-30T09:00:00Z"}`, acc, rep)}
			},
			unknown: func(m *matrix, _ domain.Role, _ string) probe {
				return probe{method: "POST", path: "/v1/visits", body: fmt.Sprintf(`{"account_id":%q,"rep_id":%q,"planned_at":"2026-11-30T09:00:00Z"}`, uuid.NewString(), m.rep3)}
			}},
		"get /v1/reports/coverage":    reportEntry("/v1/reports/coverage", domain.RoleManager, domain.RoleDirector),
		"get /v1/reports/overdue":     reportEntry("/v1/reports/overdue", domain.RoleManager, domain.RoleDirector),
		"get /v1/reports/orders":      reportEntry("/v1/reports/orders", domain.RoleCoordinator, domain.RoleManager, domain.RoleDirector),
		"get /v1/reports/sync-health": reportEntry("/v1/reports/sync-health", domain.RoleManager, domain.RoleDirector),
		"get /v1/reports/kpis":        reportEntry("/v1/reports/kpis", domain.RoleManager, domain.RoleDirector),

		// Exports (exports_test.go): each answers as its JSON endpoint; the
		// dashboard's links to them use the session cookie.
		"get /v1/reports/coverage/export":        reportEntry("/v1/reports/coverage/export", domain.RoleManager, domain.RoleDirector),
		"get /v1/reports/overdue/export":         reportEntry("/v1/reports/overdue/export", domain.RoleManager, domain.RoleDirector),
		"get /v1/reports/orders/export":          reportEntry("/v1/reports/orders/export", domain.RoleCoordinator, domain.RoleManager, domain.RoleDirector),
		"get /v1/reports/sync-health/export":     reportEntry("/v1/reports/sync-health/export", domain.RoleManager, domain.RoleDirector),
		"get /v1/reports/kpis/export":            reportEntry("/v1/reports/kpis/export", domain.RoleManager, domain.RoleDirector),
		"get /v1/orders/export":                  reportEntry("/v1/orders/export", domain.RoleCoordinator, domain.RoleManager, domain.RoleDirector, domain.RoleOps),
		"get /dashboard/export/reports/{report}": dashboard,
		"get /dashboard/export/orders":           dashboard,
		"get /v1/targets":                        reportEntry("/v1/targets", domain.RoleManager, domain.RoleDirector, domain.RoleOps),
		"get /v1/targets/{id}/history": {kinds: []rowKind{other, out},
			want: scoped([]domain.Role{domain.RoleManager, domain.RoleDirector, domain.RoleOps}, domain.RoleDirector, domain.RoleOps),
			req: func(m *matrix, _ domain.Role, k rowKind, _ string) probe {
				t := m.t1
				if k == out {
					t = m.t3
				}
				return probe{method: "GET", path: "/v1/targets/" + m.target(t) + "/history"}
			},
			unknown: func(*matrix, domain.Role, string) probe {
				return probe{method: "GET", path: "/v1/targets/" + uuid.NewString() + "/history"}
			}},
		"put /v1/targets": {kinds: []rowKind{other}, want: onlyFor(domain.RoleDirector, domain.RoleOps),
			req: func(m *matrix, _ domain.Role, _ rowKind, _ string) probe {
				return probe{method: "PUT", path: "/v1/targets",
					body: fmt.Sprintf(`{"territory_id":%q,"period":"2026-11","revenue_cents":%d}`, m.t1, m.seq())}
			}},
		"get /v1/admin/territories": admin("GET", "/v1/admin/territories", func(*matrix) (string, string) { return "", "" }),
		"post /v1/admin/territories": admin("POST", "/v1/admin/territories", func(m *matrix) (string, string) {
			return "", fmt.Sprintf(`{"name":"Matrix %d"}`, m.seq())
		}),
		"patch /v1/admin/territories/{id}": admin("PATCH", "/v1/admin/territories/{}", func(m *matrix) (string, string) {
			return m.t3, fmt.Sprintf(`{"name":"T3 %d"}`, m.seq())
		}),
		"post /v1/admin/users": admin("POST", "/v1/admin/users", func(m *matrix) (string, string) {
			return "", fmt.Sprintf(`{"email":"matrix%d@example.com","name":"M","role":"director","password":"password1"}`, m.seq())
		}),
		"get /v1/admin/users/{id}": admin("GET", "/v1/admin/users/{}", func(m *matrix) (string, string) { return m.rep3, "" }),
		"patch /v1/admin/users/{id}": admin("PATCH", "/v1/admin/users/{}", func(m *matrix) (string, string) {
			return m.director, `{"name":"Head of sales"}`
		}),
		"get /v1/admin/users/{id}/devices": admin("GET", "/v1/admin/users/{}/devices", func(m *matrix) (string, string) { return m.rep3, "" }),
		"delete /v1/admin/devices/{device_id}": admin("DELETE", "/v1/admin/devices/{}", func(m *matrix) (string, string) {
			dev := fmt.Sprintf("matrix-device-%d", m.seq())
			m.login("rep3@example.com", "password1", dev)
			return dev, ""
		}),
		"post /v1/admin/accounts": admin("POST", "/v1/admin/accounts", func(m *matrix) (string, string) {
			return "", fmt.Sprintf(`{"name":"Matrix %d","territory_id":%q,"class":"C"}`, m.seq(), m.t3)
		}),
		"patch /v1/admin/accounts/{id}": admin("PATCH", "/v1/admin/accounts/{}", func(m *matrix) (string, string) {
			return m.acc3, `{"phone":"+33 1 23"}`
		}),
		"post /v1/admin/products": admin("POST", "/v1/admin/products", func(m *matrix) (string, string) {
			return "", fmt.Sprintf(`{"sku":"M-%d","name":"Matrix","unit_price_cents":100,"currency":"EUR"}`, m.seq())
		}),
		"post /v1/admin/webhooks": admin("POST", "/v1/admin/webhooks", func(*matrix) (string, string) {
			return "", `{"url":"https://erp.example.com/hooks","event_types":["order.confirmed"]}`
		}),
		"get /v1/admin/webhooks": admin("GET", "/v1/admin/webhooks", func(*matrix) (string, string) { return "", "" }),
		"patch /v1/admin/webhooks/{id}": admin("PATCH", "/v1/admin/webhooks/{}", func(m *matrix) (string, string) {
			return m.webhook(), `{"active":false}`
		}),
		"get /v1/admin/webhook-deliveries": admin("GET", "/v1/admin/webhook-deliveries", func(*matrix) (string, string) { return "", "" }),
		"post /v1/admin/webhook-deliveries/{id}/replay": admin("POST", "/v1/admin/webhook-deliveries/{}/replay", func(m *matrix) (string, string) {
			return m.delivery(), ""
		}),
		"patch /v1/admin/products/{id}": admin("PATCH", "/v1/admin/products/{}", func(m *matrix) (string, string) {
			return m.product, `{"name":"Widget"}`
		}),
		// Integrations' API keys (erp_test.go): issued by ops; the ERP's
		// routes take a key, and every user's token is forbidden there.
		"post /v1/admin/api-keys": admin("POST", "/v1/admin/api-keys", func(m *matrix) (string, string) {
			return "", fmt.Sprintf(`{"name":"ERP %d"}`, m.seq())
		}),
		"get /v1/admin/api-keys": admin("GET", "/v1/admin/api-keys", func(*matrix) (string, string) { return "", "" }),
		"delete /v1/admin/api-keys/{id}": admin("DELETE", "/v1/admin/api-keys/{}", func(m *matrix) (string, string) {
			return m.apiKey(), ""
		}),
		"post /v1/erp/orders/{id}/status": {kinds: []rowKind{other}, want: onlyFor(),
			req: func(m *matrix, _ domain.Role, _ rowKind, _ string) probe {
				return probe{method: "POST", path: "/v1/erp/orders/" + m.confirmedOrder() + "/status",
					body: fmt.Sprintf(`{"erp_ref":"M-%d","status":"shipped","shipped_at":"2026-11-30T09:00:00Z"}`, m.seq())}
			}},
		"post /v1/erp/order-status": {kinds: []rowKind{other}, want: onlyFor(),
			req: func(m *matrix, _ domain.Role, _ rowKind, _ string) probe {
				return probe{method: "POST", path: "/v1/erp/order-status",
					body: fmt.Sprintf(`{"reports":[{"erp_ref":"M-%d","order_id":%q,"status":"shipped","shipped_at":"2026-11-30T09:00:00Z"}]}`, m.seq(), m.confirmedOrder())}
			}},
	}
	// Attachments: rows are pushed (post /v1/sync/push above), their bytes
	// go through the byte lane (authz_matrix_attach_test.go).
	maps.Copy(entries, attachmentEntries())
	// The dashboard's pages and forms that name a row: the order desk and
	// the visit photos, with the dashboard's session (authz_matrix_dash_test.go).
	maps.Copy(entries, dashboardEntries())
	return entries
}

// Push variants: edits and deletes of existing visits, orders and notes, and
// the creates whose rights differ by role.
var pushVariants = []string{"visits edit", "visits delete", "orders edit", "account_notes edit", "account_notes delete",
	"visits plan", "visits create completed", "orders create", "account_notes create", "accounts contact"}

func pushWant(r domain.Role, k rowKind, v string) want {
	create := strings.Contains(v, "create") || strings.Contains(v, "plan") || v == "accounts contact"
	switch {
	case create && k == own:
		return na // a create names an account, not a row of its own
	case r == domain.RoleManager && v == "visits plan" && k == out:
		return hidden
	case r == domain.RoleManager && v == "visits plan":
		return allow
	case r != domain.RoleRep:
		return deny // managers only plan; the other roles push nothing
	case k == out:
		return hidden
	case k == other && !create:
		return deny // a rep changes only their own visits, orders and notes
	}
	return allow
}

func pushProbe(m *matrix, r domain.Role, k rowKind, v string) probe {
	table, op, _ := strings.Cut(v, " ")
	var mut wire.Mutation
	switch op {
	case "edit", "delete":
		var id string
		var row map[string]any
		switch table {
		case "visits":
			id, row = m.visit[k], map[string]any{"report": fmt.Sprintf("report %d", m.seq())}
		case "orders":
			id, row = m.order[k], map[string]any{"note": fmt.Sprintf("note %d", m.seq())}
		case "account_notes":
			id, row = m.note[k], map[string]any{"body": fmt.Sprintf("body %d", m.seq())}
		}
		if op == "delete" {
			// A delete that would be applied removes the row: delete a fresh one.
			id = m.freshRow(table, k)
			row = nil
		}
		mut = mutation(table, map[string]string{"edit": "upsert", "delete": "delete"}[op], id, 1, row)
	default:
		acc, rep := m.acc1, m.rep1
		if k == out {
			acc, rep = m.acc3, m.rep3
		}
		mut = createMutation(table, op, acc, rep)
	}
	return pushOf(mut)
}

func createMutation(table, op, acc, rep string) wire.Mutation {
	switch {
	case table == "accounts":
		return mutation("accounts", "upsert", acc, 1, map[string]any{"phone": "+33 1 00"})
	case table == "visits" && op == "plan":
		return mutation("visits", "upsert", uuid.NewString(), 0, map[string]any{"account_id": acc, "rep_id": rep, "planned_at": "2026-11-30T09:00:00Z"})
	case table == "visits":
		return mutation("visits", "upsert", uuid.NewString(), 0, map[string]any{"account_id": acc, "rep_id": rep,
			"planned_at": "2026-11-30T09:00:00Z", "status": "completed", "checked_in_at": "2026-11-30T09:00:00Z",
			"checked_out_at": "2026-11-30T09:30:00Z", "report": "met the buyer"})
	case table == "orders":
		return mutation("orders", "upsert", uuid.NewString(), 0, map[string]any{"account_id": acc})
	}
	return mutation("account_notes", "upsert", uuid.NewString(), 0, map[string]any{"account_id": acc, "body": "a note"})
}

func pushUnknown(m *matrix, _ domain.Role, v string) probe {
	table, op, _ := strings.Cut(v, " ")
	switch op {
	case "edit":
		field := map[string]string{"visits": "report", "orders": "note", "account_notes": "body"}[table]
		return pushOf(mutation(table, "upsert", uuid.NewString(), 1, map[string]any{field: "x"}))
	case "delete":
		return pushOf(mutation(table, "delete", uuid.NewString(), 1, nil))
	}
	return pushOf(createMutation(table, op, uuid.NewString(), m.rep3))
}

func pushOf(m wire.Mutation) probe {
	b, _ := json.Marshal(wire.PushRequest{Mutations: []wire.Mutation{m}})
	return probe{method: "POST", path: "/v1/sync/push", body: string(b), push: true}
}

// answer is what the matrix compares: status and error.
type answer struct {
	status int
	err    wire.ErrorDetail
}

var pushStatus = map[string]int{string(domain.CodeForbidden): 403, string(domain.CodeNotFound): 404,
	string(domain.CodeValidation): 422, string(domain.CodeIllegalTransition): 422, string(domain.CodeConflict): 409}

func (m *matrix) send(r domain.Role, p probe) (answer, string) {
	m.t.Helper()
	if p.session {
		return m.sendSession(r, p)
	}
	tok := m.tokens[m.who(r)]
	if p.token != nil {
		tok = *p.token
	}
	var status int
	var b []byte
	if p.hdr != nil {
		status, b = m.doHdr(p.method, p.path, tok, p.body, p.hdr)
	} else {
		status, b = m.do(p.method, p.path, tok, p.body)
	}
	var a answer
	a.status = status
	if p.push && status == 200 {
		var resp wire.PushResponse
		if err := json.Unmarshal(b, &resp); err != nil || len(resp.Results) != 1 {
			m.t.Fatalf("push answer %s", b)
		}
		res := resp.Results[0]
		switch res.Status {
		case wire.StatusApplied, wire.StatusMerged:
			return answer{status: 200}, string(b)
		case wire.StatusRejected:
			a = answer{status: pushStatus[res.Error.Code], err: *res.Error}
			if a.status == 0 {
				a.status = 400
			}
			return a, string(b)
		}
		return answer{status: 409}, string(b) // a conflict: not a matrix outcome
	}
	if status >= 400 {
		a.readError(b)
	}
	return a, string(b)
}

// readError reads the contract's error body, if b is one.
func (a *answer) readError(b []byte) {
	_ = json.Unmarshal(b, &struct {
		Error *wire.ErrorDetail `json:"error"`
	}{&a.err})
}

func (m *matrix) who(r domain.Role) string {
	for _, x := range matrixRoles {
		if x.role == r {
			return x.who
		}
	}
	return ""
}

func (m *matrix) loginBody(who string) string {
	b, _ := json.Marshal(wire.LoginRequest{Email: who + "@example.com", Password: officePassword, DeviceID: fmt.Sprintf("matrix-%d", m.seq())})
	return string(b)
}

func (m *matrix) freshToken(r domain.Role) string {
	return m.login(m.who(r)+"@example.com", officePassword, fmt.Sprintf("matrix-%d", m.seq()))
}

func (m *matrix) seq() int { *m.n++; return *m.n }

// freshRow creates a row of table for kind k (see newMatrix) and returns its id.
func (m *matrix) freshRow(table string, k rowKind) string {
	rep, acc := map[rowKind]string{own: m.rep1, other: m.rep2, out: m.rep3}[k], m.acc1
	if k == out {
		acc = m.acc3
	}
	id := uuid.NewString()
	m.write(func(tx *store.Tx, now time.Time) error {
		a, _, err := store.GetAccount(tx, acc, false)
		if err != nil {
			return err
		}
		switch table {
		case "visits":
			_, err = store.CreateVisit(tx, a, domain.Visit{ID: id, AccountID: acc, RepID: rep, Status: domain.VisitPlanned,
				PlannedAt: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)})
		case "orders":
			_, err = store.CreateOrder(tx, a, domain.Order{ID: id, AccountID: acc, RepID: rep, Status: domain.OrderDraft,
				Currency: "EUR", Lines: []domain.OrderLine{}})
		case "account_notes":
			_, err = store.CreateNote(tx, a, domain.AccountNote{ID: id, AccountID: acc, AuthorID: rep, Body: "a note"})
		}
		return err
	})
	return id
}

// newMatrix builds the rows of each kind on the office: rep1's own rows on
// acc1 (T1), rep2's rows on acc1 (in rep1's scope, not theirs), rep3's rows
// on acc3 (T3: outside rep1's, coord1's and mgr's scope).
func newMatrix(o *office) *matrix {
	m := &matrix{office: o, n: new(int), visit: map[rowKind]string{}, order: map[rowKind]string{}, note: map[rowKind]string{}}
	for _, k := range []rowKind{own, other, out} {
		m.visit[k], m.order[k], m.note[k] = m.freshRow("visits", k), m.freshRow("orders", k), m.freshRow("account_notes", k)
	}
	_, m.outConflict = o.confirmedConflict("rep3", o.acc3)
	m.outOrder = o.submittedOrder("rep3", o.acc3).ID
	m.seedAttachments()
	m.signInAll()
	return m
}

func TestAuthz_Matrix(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		m := newMatrix(o)
		entries := matrixEntries()
		status, body := o.do("GET", "/openapi.json", "", "")
		if status != 200 {
			t.Fatalf("openapi.json: %d", status)
		}
		var doc openAPIDoc
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		var routes []string
		for path, ops := range doc.Paths {
			for method := range ops {
				if method != "parameters" && !strings.HasPrefix(method, "x-") {
					routes = append(routes, method+" "+path)
				}
			}
		}
		sort.Strings(routes)
		for _, route := range routes {
			if _, ok := entries[route]; !ok {
				t.Errorf("%s: documented but has no entry in the authorization matrix", route)
			}
		}
		for route := range entries {
			if !contains2(routes, route) {
				t.Errorf("%s: in the matrix but not in /openapi.json", route)
			}
		}
		for _, route := range routes {
			e, ok := entries[route]
			if !ok || e.exempt != "" {
				continue
			}
			variants := e.variants
			if len(variants) == 0 {
				variants = []string{""}
			}
			for _, v := range variants {
				for _, role := range matrixRoles {
					for _, k := range e.kinds {
						w := e.want(role.role, k, v)
						if w == na {
							continue
						}
						name := strings.TrimSpace(fmt.Sprintf("%s %s %s %s", route, v, role.role, k))
						mm := *m
						mm.office = m.in(t)
						p := e.req(&mm, role.role, k, v)
						got, raw := mm.send(role.role, p)
						switch w {
						case allow:
							if got.status < 200 || got.status > 399 || (got.status > 299 && !p.session) ||
								(e.shows != nil && !e.shows(raw)) {
								t.Errorf("%s: %d %s, want 2xx (a dashboard form: 2xx or its redirect)", name, got.status, raw)
							}
						case signInForm:
							if got.status != 200 || !strings.Contains(raw, "login-form") {
								t.Errorf("%s: %d %s, want the login form", name, got.status, raw)
							}
						case unauthenticated, away:
							if status := map[want]int{unauthenticated: 401, away: 303}[w]; got.status != status {
								t.Errorf("%s: %d %s, want %d", name, got.status, raw, status)
							}
						case deny:
							// A HEAD answer has no body to read the code from,
							// a dashboard page says it in words.
							if got.status != 403 || (got.err.Code != string(domain.CodeForbidden) && p.method != "HEAD" && got.err.Message == "") {
								t.Errorf("%s: %d %s, want 403 forbidden", name, got.status, raw)
							}
						case hidden:
							ref, refRaw := mm.send(role.role, e.unknown(&mm, role.role, v))
							// A pushed delete of an unknown id is applied (a no-op,
							// docs/api.md); every other unknown id is a 404.
							status := cmp.Or(e.hiddenStatus, 404)
							if strings.HasSuffix(v, " delete") {
								status = 200
							}
							if got.status != status || !reflect.DeepEqual(got, ref) {
								t.Errorf("%s: %d %s, want %d exactly as an unknown id: %d %s", name, got.status, raw, status, ref.status, refRaw)
							}
						}
					}
				}
			}
		}
		checkNoUsers(t, m)
	})
}

func contains2(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// target returns the id of territory's target for 2026-11, setting it first.
func (m *matrix) target(territory string) string {
	m.t.Helper()
	p, _ := domain.ParsePeriod("2026-11")
	t, _, err := m.db.SetTarget(context.Background(), m.director, domain.Target{ID: uuid.NewString(),
		TerritoryID: &territory, Period: p.Name, PeriodStart: p.Start.Format("2006-01-02"),
		PeriodEnd: p.End.Format("2006-01-02"), RevenueCents: 100})
	if err != nil {
		m.t.Fatal(err)
	}
	return t.ID
}
