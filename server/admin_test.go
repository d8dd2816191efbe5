package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// adminEnv is a real server on a real database with one ops user signed in.
type adminEnv struct {
	t   *testing.T
	db  *store.DB
	srv *server.Server
	ops string // the ops user's token
}

const adminPassword = "ops password"

func newAdminEnv(t *testing.T, db *store.DB) *adminEnv {
	t.Helper()
	e := newServerEnv(t, db)
	hash, err := bcrypt.GenerateFromPassword([]byte(adminPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := store.CreateUser(tx, store.UserRecord{Email: "ops@example.com", PasswordHash: string(hash),
			User: domain.User{ID: uuid.NewString(), Name: "Ops", Role: domain.RoleOps}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.ops = e.login("ops@example.com", adminPassword, "ops-laptop")
	return e
}

// newServerEnv is a real server on db with nobody signed in (ops is empty).
func newServerEnv(t *testing.T, db *store.DB) *adminEnv {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	// The authorization matrix uploads attachments: staged and stored in the
	// test's own directories, not the defaults relative to the package.
	cfg.UploadDir, cfg.BlobDir = t.TempDir(), t.TempDir()
	srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return &adminEnv{t: t, db: db, srv: srv}
}

// do sends a request and returns the status and body.
func (e *adminEnv) do(method, path, token, body string) (int, []byte) {
	e.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, b := apitest.Fiber(e.t, e.srv.App, req)
	return resp.StatusCode, b
}

// ok sends a request that must answer status and decodes the body into out.
func (e *adminEnv) ok(method, path, body string, status int, out any) {
	e.t.Helper()
	got, b := e.do(method, path, e.ops, body)
	if got != status {
		e.t.Fatalf("%s %s = %d %s, want %d", method, path, got, b, status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// fails sends a request that must fail with status and returns the error.
func (e *adminEnv) fails(method, path, token, body string, status int) wire.ErrorDetail {
	e.t.Helper()
	got, b := e.do(method, path, token, body)
	if got != status {
		e.t.Fatalf("%s %s = %d %s, want %d", method, path, got, b, status)
	}
	return errorDetail(e.t, b)
}

func (e *adminEnv) login(email, password, device string) string {
	e.t.Helper()
	body, _ := json.Marshal(wire.LoginRequest{Email: email, Password: password, DeviceID: device})
	status, b := e.do("POST", "/v1/auth/login", "", string(body))
	if status != 200 {
		e.t.Fatalf("login %s: %d %s", email, status, b)
	}
	var resp wire.LoginResponse
	if err := json.Unmarshal(b, &resp); err != nil {
		e.t.Fatal(err)
	}
	return resp.Token
}

// errorDetail decodes the contract's error body strictly and checks it leaks
// nothing internal.
func errorDetail(t *testing.T, b []byte) wire.ErrorDetail {
	t.Helper()
	var env wire.ErrorBody
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || env.Error.Code == "" || env.Error.Message == "" {
		t.Fatalf("not a contract error body (%v): %s", err, b)
	}
	for _, leak := range []string{"goroutine", ".go:", "/work/", "SELECT", "INSERT", "sql"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("error body leaks %q: %s", leak, b)
		}
	}
	return env.Error
}

func fieldNames(d wire.ErrorDetail) []string {
	var out []string
	for _, f := range d.Fields {
		out = append(out, f.Field)
	}
	slices.Sort(out)
	return out
}

// user creates a user through the API and returns its id.
func (e *adminEnv) user(email string, role domain.Role, territories ...string) string {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"email": email, "name": "N", "role": role,
		"password": "password1", "territory_ids": territories})
	var u struct{ ID string }
	e.ok("POST", "/v1/admin/users", string(body), 201, &u)
	return u.ID
}

func (e *adminEnv) territory(name string, parent *string) domain.Territory {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "parent_id": parent})
	var tr domain.Territory
	e.ok("POST", "/v1/admin/territories", string(body), 201, &tr)
	return tr
}

func TestAdmin_HTTPAccess(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAdminEnv(t, db)
		id := uuid.NewString()
		routes := []struct{ method, path, body string }{
			{"GET", "/v1/admin/territories", ""},
			{"POST", "/v1/admin/territories", `{"name":"X"}`},
			{"PATCH", "/v1/admin/territories/" + id, `{"name":"X"}`},
			{"POST", "/v1/admin/users", `{}`},
			{"GET", "/v1/admin/users/" + id, ""},
			{"PATCH", "/v1/admin/users/" + id, `{}`},
			{"GET", "/v1/admin/users/" + id + "/devices", ""},
			{"DELETE", "/v1/admin/devices/ops-laptop", ""},
			{"POST", "/v1/admin/accounts", `{}`},
			{"PATCH", "/v1/admin/accounts/" + id, `{}`},
			{"POST", "/v1/admin/products", `{}`},
			{"PATCH", "/v1/admin/products/" + id, `{}`},
		}
		tokens := map[string]string{"": ""}
		for _, role := range []domain.Role{domain.RoleRep, domain.RoleCoordinator, domain.RoleManager, domain.RoleDirector} {
			email := string(role) + "@example.com"
			e.user(email, role)
			tokens[string(role)] = e.login(email, "password1", "dev-"+string(role))
		}
		tokens["garbage"] = "not-a-token"
		for _, r := range routes {
			for who, token := range tokens {
				t.Run(r.method+" "+r.path+" as "+who, func(t *testing.T) {
					want, code := 403, domain.CodeForbidden
					if who == "" || who == "garbage" {
						want, code = 401, domain.CodeUnauthorized
					}
					if d := e.fails(r.method, r.path, token, r.body, want); d.Code != string(code) {
						t.Errorf("code = %s, want %s", d.Code, code)
					}
				})
			}
		}
		// None of those requests changed anything: the ops device is still live.
		e.ok("GET", "/v1/admin/territories", "", 200, nil)
	})
}

func TestAdmin_HTTPTerritories(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAdminEnv(t, db)
		id := uuid.NewString()
		var root domain.Territory
		e.ok("POST", "/v1/admin/territories", `{"id":"`+id+`","name":"Region"}`, 201, &root)
		if root.ID != id || root.Version != 1 || root.ParentID != nil {
			t.Fatalf("created %+v", root)
		}
		child := e.territory("North", &root.ID)
		grandchild := e.territory("Leaf", &child.ID)

		var renamed domain.Territory
		e.ok("PATCH", "/v1/admin/territories/"+child.ID, `{"name":"Northern"}`, 200, &renamed)
		if renamed.Name != "Northern" || renamed.Version != 2 || *renamed.ParentID != root.ID {
			t.Errorf("renamed %+v", renamed)
		}
		var moved domain.Territory
		e.ok("PATCH", "/v1/admin/territories/"+grandchild.ID, `{"parent_id":null}`, 200, &moved)
		if moved.ParentID != nil || moved.Name != "Leaf" {
			t.Errorf("made root %+v", moved)
		}

		cases := []struct {
			name, method, path, body string
			status                   int
			fields                   []string
		}{
			{"UnknownField", "POST", "/v1/admin/territories", `{"name":"X","colour":"red"}`, 400, []string{"colour"}},
			{"WrongType", "POST", "/v1/admin/territories", `{"name":7}`, 400, []string{"name"}},
			{"WrongTypeInPatch", "PATCH", "/v1/admin/territories/" + root.ID, `{"name":7}`, 400, []string{"name"}},
			{"Malformed", "POST", "/v1/admin/territories", `{"name":`, 400, nil},
			{"EmptyBody", "PATCH", "/v1/admin/territories/" + root.ID, ``, 400, nil},
			{"Duplicate", "POST", "/v1/admin/territories", `{"id":"` + id + `","name":"X"}`, 409, nil},
			{"Invalid", "POST", "/v1/admin/territories", `{"id":"x","name":"","parent_id":"` + uuid.NewString() + `"}`, 422,
				[]string{"id", "name", "parent_id"}},
			{"Cycle", "PATCH", "/v1/admin/territories/" + root.ID, `{"parent_id":"` + child.ID + `"}`, 422, []string{"parent_id"}},
			{"UnknownID", "PATCH", "/v1/admin/territories/" + uuid.NewString(), `{"name":"X"}`, 404, nil},
			{"MalformedID", "PATCH", "/v1/admin/territories/42", `{"name":"X"}`, 404, nil},
			{"BadLimit", "GET", "/v1/admin/territories?limit=abc", ``, 400, []string{"limit"}},
			{"BadCursor", "GET", "/v1/admin/territories?cursor=nope", ``, 400, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				d := e.fails(tc.method, tc.path, e.ops, tc.body, tc.status)
				if got := fieldNames(d); tc.fields != nil && !slices.Equal(got, tc.fields) {
					t.Errorf("fields = %v, want %v (%+v)", got, tc.fields, d)
				}
			})
		}

		t.Run("List", func(t *testing.T) {
			var ids []string
			path := "/v1/admin/territories?limit=2"
			for range 3 {
				var page struct {
					Items      []domain.Territory `json:"items"`
					NextCursor *string            `json:"next_cursor"`
				}
				e.ok("GET", path, "", 200, &page)
				for _, tr := range page.Items {
					ids = append(ids, tr.ID)
				}
				if page.NextCursor == nil {
					break
				}
				path = "/v1/admin/territories?limit=2&cursor=" + *page.NextCursor
			}
			want := []string{root.ID, child.ID, grandchild.ID}
			slices.Sort(want)
			if !slices.Equal(ids, want) {
				t.Errorf("listed %v, want %v", ids, want)
			}
		})
	})
}

func TestAdmin_HTTPUsers(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAdminEnv(t, db)
		north := e.territory("North", nil)
		south := e.territory("South", nil)

		status, b := e.do("POST", "/v1/admin/users", e.ops, `{"email":"Rep@Example.com","name":"Rep","role":"rep",`+
			`"password":"rep password","territory_ids":["`+north.ID+`"]}`)
		if status != 201 {
			t.Fatalf("create user: %d %s", status, b)
		}
		if strings.Contains(string(b), "password") || strings.Contains(string(b), "$2a$") {
			t.Errorf("user response leaks the password: %s", b)
		}
		var rep struct {
			ID           string   `json:"id"`
			Email        string   `json:"email"`
			Role         string   `json:"role"`
			TerritoryIDs []string `json:"territory_ids"`
			Version      int64    `json:"version"`
		}
		if err := json.Unmarshal(b, &rep); err != nil || rep.Email != "rep@example.com" || rep.Version != 1 ||
			!slices.Equal(rep.TerritoryIDs, []string{north.ID}) {
			t.Fatalf("created %s (%v)", b, err)
		}
		// The new user can sign in with the password ops set.
		e.login("rep@example.com", "rep password", "phone")

		e.ok("PATCH", "/v1/admin/users/"+rep.ID, `{"territory_ids":["`+south.ID+`"],"name":"Ray"}`, 200, &rep)
		if !slices.Equal(rep.TerritoryIDs, []string{south.ID}) || rep.Version != 2 {
			t.Errorf("updated %+v", rep)
		}
		e.ok("GET", "/v1/admin/users/"+rep.ID, "", 200, &rep)
		if !slices.Equal(rep.TerritoryIDs, []string{south.ID}) || rep.Email != "rep@example.com" {
			t.Errorf("read back %+v", rep)
		}

		cases := []struct {
			name, method, path, body string
			status                   int
			fields                   []string
		}{
			{"DuplicateEmail", "POST", "/v1/admin/users", `{"email":"REP@example.com","name":"X","role":"rep","password":"12345678"}`, 409, nil},
			{"Invalid", "POST", "/v1/admin/users", `{"email":"x","name":"X","role":"king","password":"short","territory_ids":["` +
				north.ID + `","` + uuid.NewString() + `"]}`, 422, []string{"email", "password", "role", "territory_ids[1]"}},
			{"UnknownField", "POST", "/v1/admin/users", `{"email":"a@b.io","name":"X","role":"rep","password":"12345678","admin":true}`, 400, []string{"admin"}},
			{"EmailNotPatchable", "PATCH", "/v1/admin/users/" + rep.ID, `{"email":"new@example.com"}`, 400, []string{"email"}},
			{"WrongType", "PATCH", "/v1/admin/users/" + rep.ID, `{"territory_ids":"` + north.ID + `"}`, 400, []string{"territory_ids"}},
			{"InvalidPatch", "PATCH", "/v1/admin/users/" + rep.ID, `{"role":"boss","password":null}`, 422, []string{"password", "role"}},
			{"UnknownUser", "PATCH", "/v1/admin/users/" + uuid.NewString(), `{"name":"X"}`, 404, nil},
			{"GetUnknownUser", "GET", "/v1/admin/users/" + uuid.NewString(), ``, 404, nil},
			{"DevicesOfUnknownUser", "GET", "/v1/admin/users/" + uuid.NewString() + "/devices", ``, 404, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				d := e.fails(tc.method, tc.path, e.ops, tc.body, tc.status)
				if got := fieldNames(d); tc.fields != nil && !slices.Equal(got, tc.fields) {
					t.Errorf("fields = %v, want %v (%+v)", got, tc.fields, d)
				}
			})
		}
	})
}

func TestAdmin_HTTPAccountsAndProducts(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAdminEnv(t, db)
		north := e.territory("North", nil)
		south := e.territory("South", nil)
		kam := e.user("kam@example.com", domain.RoleRep, north.ID)

		var acc domain.Account
		e.ok("POST", "/v1/admin/accounts", `{"name":"Acme","territory_id":"`+north.ID+`","owner_id":"`+kam+
			`","class":"A","lat":51.5,"lng":-0.1}`, 201, &acc)
		if acc.Status != domain.AccountActive || acc.OwnerID == nil || acc.Version != 1 {
			t.Fatalf("created %+v", acc)
		}
		e.ok("PATCH", "/v1/admin/accounts/"+acc.ID, `{"territory_id":"`+south.ID+`","owner_id":null}`, 200, &acc)
		if acc.TerritoryID != south.ID || acc.OwnerID != nil || acc.Version != 2 || acc.Lat == nil {
			t.Errorf("reassigned %+v", acc)
		}

		var p domain.Product
		e.ok("POST", "/v1/admin/products", `{"sku":"W-1","name":"Widget","unit_price_cents":1250,"currency":"EUR"}`, 201, &p)
		if !p.Active || p.UnitPriceCents != 1250 {
			t.Fatalf("created %+v", p)
		}
		e.ok("PATCH", "/v1/admin/products/"+p.ID, `{"active":false}`, 200, &p)
		if p.Active || p.Version != 2 {
			t.Errorf("deactivated %+v", p)
		}

		cases := []struct {
			name, method, path, body string
			status                   int
			fields                   []string
		}{
			{"AccountInvalid", "POST", "/v1/admin/accounts", `{"name":"","territory_id":"` + uuid.NewString() +
				`","owner_id":"` + uuid.NewString() + `","class":"D","lat":95}`, 422,
				[]string{"class", "lat", "lng", "name", "owner_id", "territory_id"}},
			{"AccountWrongType", "POST", "/v1/admin/accounts", `{"name":"A","territory_id":"` + north.ID + `","class":"A","lat":"north"}`, 400, []string{"lat"}},
			{"AccountUnknownField", "PATCH", "/v1/admin/accounts/" + acc.ID, `{"version":3}`, 400, []string{"version"}},
			{"AccountNullTerritory", "PATCH", "/v1/admin/accounts/" + acc.ID, `{"territory_id":null}`, 422, []string{"territory_id"}},
			{"AccountUnknown", "PATCH", "/v1/admin/accounts/" + uuid.NewString(), `{"name":"X"}`, 404, nil},
			{"ProductDuplicateSKU", "POST", "/v1/admin/products", `{"sku":"W-1","name":"Other","unit_price_cents":1,"currency":"EUR"}`, 409, nil},
			{"ProductInvalid", "POST", "/v1/admin/products", `{"sku":"W-2","name":"X","currency":"eur"}`, 422, []string{"currency", "unit_price_cents"}},
			{"ProductWrongType", "PATCH", "/v1/admin/products/" + p.ID, `{"unit_price_cents":12.5}`, 400, []string{"unit_price_cents"}},
			{"ProductUnknown", "PATCH", "/v1/admin/products/" + uuid.NewString(), `{"name":"X"}`, 404, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				d := e.fails(tc.method, tc.path, e.ops, tc.body, tc.status)
				if got := fieldNames(d); tc.fields != nil && !slices.Equal(got, tc.fields) {
					t.Errorf("fields = %v, want %v (%+v)", got, tc.fields, d)
				}
			})
		}
	})
}

func TestAdmin_HTTPDevices(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAdminEnv(t, db)
		rep := e.user("rep@example.com", domain.RoleRep)
		lost := e.login("rep@example.com", "password1", "phone-lost")
		kept := e.login("rep@example.com", "password1", "tablet")
		lostAgain := e.login("rep@example.com", "password1", "phone-lost")

		var list struct {
			Items      []wire.Device `json:"items"`
			NextCursor *string       `json:"next_cursor"`
		}
		e.ok("GET", "/v1/admin/users/"+rep+"/devices", "", 200, &list)
		var names []string
		for _, d := range list.Items {
			names = append(names, d.DeviceID)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"phone-lost", "tablet"}) || list.NextCursor != nil {
			t.Fatalf("devices = %v", names)
		}

		e.ok("DELETE", "/v1/admin/devices/phone-lost", "", 204, nil)
		for _, token := range []string{lost, lostAgain} {
			if d := e.fails("GET", "/v1/me", token, "", 401); d.Code != string(domain.CodeUnauthorized) {
				t.Errorf("revoked token: code %s", d.Code)
			}
		}
		if status, b := e.do("GET", "/v1/me", kept, ""); status != 200 {
			t.Errorf("other device of the user: %d %s", status, b)
		}
		e.ok("GET", "/v1/admin/users/"+rep+"/devices", "", 200, &list)
		for _, d := range list.Items {
			if (d.DeviceID == "phone-lost") != (d.RevokedAt != nil) {
				t.Errorf("device %s revoked_at = %v", d.DeviceID, d.RevokedAt)
			}
		}
		e.fails("DELETE", "/v1/admin/devices/no-such-device", e.ops, "", 404)
	})
}
