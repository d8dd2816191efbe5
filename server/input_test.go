package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// dbDigest summarises every table a request could change: row counts and
// version sums of the synced tables, and the counts of the rest. Equal digests
// before and after a refused request mean it changed nothing.
func (o *office) dbDigest() string {
	o.t.Helper()
	var b strings.Builder
	for _, table := range []string{"territories", "users", "products", "accounts", "visits", "orders", "account_notes"} {
		var r struct{ N, V int64 }
		if err := o.db.Gorm.Raw("SELECT COUNT(*) AS n, COALESCE(SUM(version), 0) AS v FROM " + table).Scan(&r).Error; err != nil {
			o.t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%d/%d ", table, r.N, r.V)
	}
	for _, table := range []string{"change_log", "conflicts", "tokens", "push_results", "user_territories"} {
		var n int64
		if err := o.db.Gorm.Raw("SELECT COUNT(*) FROM " + table).Scan(&n).Error; err != nil {
			o.t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%d ", table, n)
	}
	return b.String()
}

// badText is how a test spells text no database can store, in a JSON string
// and in a URL.
type badText struct{ name, json, url string }

var badTexts = []badText{
	{"NUL", `\u0000`, "%00"},
	{"InvalidUTF8", "\xff", "%FF"},
	{"LoneSurrogate", `\udc00`, ""},
}

// TestInput_BadTextIsRefused sends text Postgres cannot store (and SQLite
// would) in every kind of input, on both databases: each is a 4xx with the
// contract's error body naming the field, and changes nothing. Before the
// fix, every one of them was a 500 on Postgres.
func TestInput_BadTextIsRefused(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		_, conflictID := o.confirmedConflict("rep1", o.acc1)
		order := o.submittedOrder("rep1", o.acc1)
		at := "2026-11-24T08:30:00Z"
		type req struct {
			name, who, method, path, body string
			status                        int
			code                          domain.Code
			field                         string
		}
		// X marks where the bad text goes.
		cases := []req{
			{"LoginEmail", "", "POST", "/v1/auth/login", `{"email":"rep1X@example.com","password":"password1","device_id":"d"}`, 422, domain.CodeValidation, "email"},
			{"LoginPassword", "", "POST", "/v1/auth/login", `{"email":"rep1@example.com","password":"passX","device_id":"d"}`, 422, domain.CodeValidation, "password"},
			{"LoginDeviceID", "", "POST", "/v1/auth/login", `{"email":"rep1@example.com","password":"password1","device_id":"dX"}`, 422, domain.CodeValidation, "device_id"},
			{"LoginDeviceName", "", "POST", "/v1/auth/login", `{"email":"rep1@example.com","password":"password1","device_id":"d","device_name":"X"}`, 422, domain.CodeValidation, "device_name"},
			{"TerritoryName", "ops", "POST", "/v1/admin/territories", `{"name":"NX"}`, 422, domain.CodeValidation, "name"},
			{"TerritoryRename", "ops", "PATCH", "/v1/admin/territories/" + o.t1, `{"name":"NX"}`, 422, domain.CodeValidation, "name"},
			{"UserName", "ops", "POST", "/v1/admin/users", `{"email":"new@example.com","name":"X","role":"rep","password":"password1"}`, 422, domain.CodeValidation, "name"},
			{"UserEmail", "ops", "POST", "/v1/admin/users", `{"email":"nX@example.com","name":"N","role":"rep","password":"password1"}`, 422, domain.CodeValidation, "email"},
			{"UserPassword", "ops", "POST", "/v1/admin/users", `{"email":"n@example.com","name":"N","role":"rep","password":"password1X"}`, 422, domain.CodeValidation, "password"},
			{"UserTerritoryIDs", "ops", "POST", "/v1/admin/users", `{"email":"n@example.com","name":"N","role":"rep","password":"password1","territory_ids":["X"]}`, 422, domain.CodeValidation, "territory_ids[0]"},
			{"UserRename", "ops", "PATCH", "/v1/admin/users/" + o.rep1, `{"name":"X"}`, 422, domain.CodeValidation, "name"},
			{"AccountName", "ops", "POST", "/v1/admin/accounts", `{"name":"X","territory_id":"` + o.t1 + `","class":"A"}`, 422, domain.CodeValidation, "name"},
			{"AccountPhone", "ops", "POST", "/v1/admin/accounts", `{"name":"A","territory_id":"` + o.t1 + `","class":"A","phone":"+33X"}`, 422, domain.CodeValidation, "phone"},
			{"AccountPhonePatch", "ops", "PATCH", "/v1/admin/accounts/" + o.acc1, `{"phone":"+33X"}`, 422, domain.CodeValidation, "phone"},
			{"AccountAddressPatch", "ops", "PATCH", "/v1/admin/accounts/" + o.acc1, `{"address":"1 rue X"}`, 422, domain.CodeValidation, "address"},
			{"ProductSKU", "ops", "POST", "/v1/admin/products", `{"sku":"SX","name":"P","unit_price_cents":1,"currency":"EUR"}`, 422, domain.CodeValidation, "sku"},
			{"ProductName", "ops", "PATCH", "/v1/admin/products/" + o.product, `{"name":"PX"}`, 422, domain.CodeValidation, "name"},
			{"PlanID", "mgr", "POST", "/v1/visits", `{"id":"X","account_id":"` + o.acc1 + `","rep_id":"` + o.rep1 + `","planned_at":"` + at + `"}`, 422, domain.CodeValidation, "id"},
			{"PlanAccount", "mgr", "POST", "/v1/visits", `{"account_id":"X","rep_id":"` + o.rep1 + `","planned_at":"` + at + `"}`, 422, domain.CodeValidation, "account_id"},
			{"TransitionReason", "coordAll", "POST", "/v1/orders/" + order.ID + "/transition", `{"to":"rejected","expected_version":2,"reason":"noX"}`, 422, domain.CodeValidation, "reason"},
			{"TransitionTo", "coordAll", "POST", "/v1/orders/" + order.ID + "/transition", `{"to":"confirmedX","expected_version":2}`, 422, domain.CodeValidation, "to"},
			{"ResolveResolution", "coordAll", "POST", "/v1/conflicts/" + conflictID + "/resolve", `{"resolution":"customX","row":{}}`, 422, domain.CodeValidation, "resolution"},
			{"ResolveRow", "coordAll", "POST", "/v1/conflicts/" + conflictID + "/resolve", `{"resolution":"custom","row":{"note":"X"}}`, 422, domain.CodeValidation, "note"},
			{"PushDeviceID", "rep1", "POST", "/v1/sync/push", `{"device_id":"dev-rep1X","mutations":[]}`, 422, domain.CodeValidation, "device_id"},
		}
		// Not text, the same class: a time that is valid RFC 3339 but past year
		// 9999 in UTC could be stored, then never encoded again (every pull of
		// the row would fail).
		t.Run("PlanPastYear9999", func(t *testing.T) {
			o := o.in(t)
			before := o.dbDigest()
			d := o.failsAs("mgr", "POST", "/v1/visits", `{"account_id":"`+o.acc1+`","rep_id":"`+o.rep1+
				`","planned_at":"9999-12-31T23:00:00-05:00"}`, 422, domain.CodeValidation)
			if !slices.Contains(fieldNames(d), "planned_at") {
				t.Errorf("error %+v, want planned_at", d)
			}
			if after := o.dbDigest(); after != before {
				t.Errorf("a refused request changed the database")
			}
		})
		params := []req{
			{"OrdersStatus", "coordAll", "GET", "/v1/orders?status=X", "", 400, domain.CodeBadRequest, "status"},
			{"OrdersTerritory", "coordAll", "GET", "/v1/orders?territory_id=X", "", 400, domain.CodeBadRequest, "territory_id"},
			{"OrdersCursor", "coordAll", "GET", "/v1/orders?cursor=X", "", 400, domain.CodeBadRequest, "cursor"},
			{"ConflictsStatus", "coordAll", "GET", "/v1/conflicts?status=X", "", 400, domain.CodeBadRequest, "status"},
			{"ConflictsTable", "coordAll", "GET", "/v1/conflicts?table=X", "", 400, domain.CodeBadRequest, "table"},
			{"ConflictsCursor", "coordAll", "GET", "/v1/conflicts?cursor=X", "", 400, domain.CodeBadRequest, "cursor"},
			{"TerritoriesCursor", "ops", "GET", "/v1/admin/territories?cursor=X", "", 400, domain.CodeBadRequest, "cursor"},
			{"ReportFrom", "mgr", "GET", "/v1/reports/coverage?from=X", "", 400, domain.CodeBadRequest, "from"},
			{"ReportTerritory", "mgr", "GET", "/v1/reports/orders?territory_id=X", "", 400, domain.CodeBadRequest, "territory_id"},
			{"OverdueCursor", "mgr", "GET", "/v1/reports/overdue?cursor=X", "", 400, domain.CodeBadRequest, "cursor"},
			{"SyncHealthCursor", "mgr", "GET", "/v1/reports/sync-health?cursor=X", "", 400, domain.CodeBadRequest, "cursor"},
			{"RevokeDevice", "ops", "DELETE", "/v1/admin/devices/dev-rep1X", "", 400, domain.CodeBadRequest, "device_id"},
			// A malformed id in a path is answered like an unknown one (docs/api.md).
			{"PathTerritory", "ops", "PATCH", "/v1/admin/territories/X", `{"name":"N"}`, 404, domain.CodeNotFound, ""},
			{"PathUser", "ops", "GET", "/v1/admin/users/X", "", 404, domain.CodeNotFound, ""},
			{"PathOrder", "coordAll", "POST", "/v1/orders/X/transition", `{"to":"confirmed","expected_version":2}`, 404, domain.CodeNotFound, ""},
			{"PathConflict", "coordAll", "POST", "/v1/conflicts/X/resolve", `{"resolution":"keep_server"}`, 404, domain.CodeNotFound, ""},
		}
		check := func(t *testing.T, r req, path, body string) {
			before := o.dbDigest()
			status, b := o.do(r.method, path, o.tokens[r.who], body)
			if status != r.status {
				t.Fatalf("%s %q = %d %s, want %d", r.method, path, status, b, r.status)
			}
			d := errorDetail(t, b)
			if d.Code != string(r.code) || (r.field != "" && !slices.Contains(fieldNames(d), r.field)) {
				t.Errorf("error = %+v, want code %s on field %q", d, r.code, r.field)
			}
			if after := o.dbDigest(); after != before {
				t.Errorf("a refused request changed the database:\n before %s\n after  %s", before, after)
			}
		}
		for _, bad := range badTexts {
			t.Run(bad.name, func(t *testing.T) {
				for _, tc := range cases {
					t.Run(tc.name, func(t *testing.T) {
						check(t, tc, tc.path, strings.Replace(tc.body, "X", bad.json, 1))
					})
				}
				if bad.url == "" {
					return
				}
				for _, tc := range params {
					t.Run(tc.name, func(t *testing.T) {
						check(t, tc, strings.Replace(tc.path, "X", bad.url, 1), tc.body)
					})
				}
				t.Run("PullCursorIsAReset", func(t *testing.T) {
					// The contract: a malformed cursor answers a reset, never an error.
					status, b := o.do("GET", "/v1/sync/pull?cursor="+bad.url, o.tokens["rep1"], "")
					var page wire.PullResponse
					if status != 200 || json.Unmarshal(b, &page) != nil || !page.Reset {
						t.Errorf("pull with a bad cursor = %d %s, want 200 with reset", status, b)
					}
				})
			})
		}
	})
}

// TestInput_DashboardLoginBadText: the dashboard's form is not JSON; an email
// Postgres cannot store is an unknown email (401), not a 500.
func TestInput_DashboardLoginBadText(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newReportEnv(t, db)
		for _, email := range []string{"manager" + string(rune(0)) + "@demo.fieldsync.dev", "manager\xff@demo.fieldsync.dev"} {
			b := &browser{app: e.srv.App, cookies: map[string]*http.Cookie{}}
			if resp, _ := b.signIn(t, email, "demo-manager-pass"); resp.StatusCode != 401 {
				t.Errorf("dashboard login as %q = %d, want 401", email, resp.StatusCode)
			}
		}
	})
}

// TestInput_PushRejectsOnlyTheBadMutation: a push holding mutations with text
// Postgres cannot store rejects each of them alone, with the contract's error
// naming the field, and applies every other mutation of the batch. Before the
// fix the whole batch was a 500 on Postgres at every retry, so the device
// could never sync again.
func TestInput_PushRejectsOnlyTheBadMutation(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		visit := uuid.NewString()
		o.pushOne("rep1", mutation("visits", "upsert", visit, 0, map[string]any{"account_id": o.acc1, "planned_at": "2026-11-25T09:00:00Z"}), wire.StatusApplied)
		draft := o.draftOrder("rep1", o.acc1, 1)
		for _, bad := range badTexts {
			t.Run(bad.name, func(t *testing.T) {
				o := o.in(t)
				type mut struct {
					name, table, id string
					base            int64
					row             string // X marks the bad text; "" for a good mutation
					field           string
				}
				good := func(name, table string, row string) mut {
					return mut{name: name, table: table, id: uuid.NewString(), row: row}
				}
				muts := []mut{
					good("GoodVisit", "visits", `{"account_id":"`+o.acc1+`","planned_at":"2026-11-26T09:00:00Z"}`),
					{"VisitReport", "visits", visit, 1, `{"status":"completed","checked_in_at":"2026-11-25T09:00:00Z","checked_out_at":"2026-11-25T10:00:00Z","report":"okX"}`, "report"},
					{"VisitOutcomeCreate", "visits", uuid.NewString(), 0, `{"account_id":"` + o.acc1 + `","planned_at":"2026-11-26T09:00:00Z","outcome":"X"}`, "outcome"},
					good("GoodNote", "account_notes", `{"account_id":"`+o.acc1+`","body":"fine"}`),
					{"NoteBody", "account_notes", uuid.NewString(), 0, `{"account_id":"` + o.acc1 + `","body":"helloX"}`, "body"},
					{"NoteAccountID", "account_notes", uuid.NewString(), 0, `{"account_id":"X","body":"hello"}`, "account_id"},
					{"AccountPhone", "accounts", o.acc1, 1, `{"phone":"+33X"}`, "phone"},
					{"AccountEmail", "accounts", o.acc1, 1, `{"email":"aX@b.c"}`, "email"},
					{"OrderNote", "orders", draft, 1, `{"note":"X"}`, "note"},
					{"OrderLineProduct", "orders", uuid.NewString(), 0, `{"account_id":"` + o.acc1 + `","lines":[{"product_id":"X","quantity":1}]}`, "lines[0].product_id"},
					// An edit of a row that does not exist becomes a conflict record
					// holding the row as sent: that row must be storable too.
					{"VanishedRow", "visits", uuid.NewString(), 3, `{"report":"X"}`, "report"},
					{"UnknownField", "visits", visit, 1, `{"X":1}`, "(body)"},
					good("GoodOrder", "orders", `{"account_id":"`+o.acc1+`"}`),
				}
				req := wire.PushRequest{}
				for _, m := range muts {
					row := m.row
					if m.field != "" {
						row = strings.Replace(row, "X", bad.json, 1)
					}
					req.Mutations = append(req.Mutations, wire.Mutation{MutationID: uuid.NewString(), Table: m.table, Op: "upsert", ID: m.id, BaseVersion: m.base, Row: json.RawMessage(row)})
				}
				// Bad text in the mutation's own fields too: not UUIDs, unknown tables.
				req.Mutations = append(req.Mutations,
					wire.Mutation{MutationID: "m" + string(rune(0)), Table: "visits", Op: "upsert", ID: uuid.NewString(), Row: json.RawMessage(`{}`)},
					wire.Mutation{MutationID: uuid.NewString(), Table: "visits" + string(rune(0)), Op: "upsert", ID: uuid.NewString(), Row: json.RawMessage(`{}`)},
					wire.Mutation{MutationID: uuid.NewString(), Table: "visits", Op: "upsert", ID: string(rune(0)), Row: json.RawMessage(`{}`)})
				body, err := json.Marshal(req)
				if err != nil {
					t.Fatal(err)
				}
				if bad.name == "InvalidUTF8" {
					body = []byte(strings.ReplaceAll(string(body), `\ufffd`, "\xff")) // json.Marshal would have fixed it
				}
				status, b := o.do("POST", "/v1/sync/push", o.tokens["rep1"], string(body))
				if status != 200 {
					t.Fatalf("push = %d %s, want 200", status, b)
				}
				var resp wire.PushResponse
				if err := json.Unmarshal(b, &resp); err != nil || len(resp.Results) != len(req.Mutations) {
					t.Fatalf("push response %s (%v)", b, err)
				}
				for i, m := range muts {
					r := resp.Results[i]
					if m.field == "" {
						if r.Status != wire.StatusApplied {
							t.Errorf("%s: %+v, want applied", m.name, r)
						}
						continue
					}
					if r.Status != wire.StatusRejected || r.Error == nil || r.Error.Code != string(domain.CodeValidation) {
						t.Errorf("%s: %+v, want rejected as validation_failed", m.name, r)
						continue
					}
					if !slices.ContainsFunc(r.Error.Fields, func(f domain.FieldError) bool { return f.Field == m.field }) {
						t.Errorf("%s: fields %+v, want %s", m.name, r.Error.Fields, m.field)
					}
				}
				for _, r := range resp.Results[len(muts):] {
					if r.Status != wire.StatusRejected {
						t.Errorf("malformed mutation: %+v, want rejected", r)
					}
				}
				// The good ones are on the server and reach the rep's devices.
				mirror := o.mirror("rep1")
				for i, m := range muts {
					if m.field == "" {
						mirror.hasVersion(m.table, m.id, resp.Results[i].Version)
					}
				}
				// The replay answers the same and changes nothing.
				before := o.dbDigest()
				status, b2 := o.do("POST", "/v1/sync/push", o.tokens["rep1"], string(body))
				if status != 200 || string(b2) != string(b) {
					t.Errorf("replay = %d %s, want the same answer", status, b2)
				}
				if after := o.dbDigest(); after != before {
					t.Errorf("replay changed the database:\n before %s\n after  %s", before, after)
				}
			})
		}
	})
}
