package mobileapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/mobileapi"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

const password = "correct horse"

type env struct {
	t    *testing.T
	db   *store.DB
	app  *fiber.App
	svc  *auth.Service
	now  time.Time
	user store.UserRecord
}

func newEnv(t *testing.T, db *store.DB, cfg auth.Config) *env {
	t.Helper()
	e := &env{t: t, db: db, now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	db.Now = func() time.Time { return e.now }
	cfg.BcryptCost = bcrypt.MinCost
	svc, err := auth.New(db, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.app = fiber.New(fiber.Config{ErrorHandler: httpapi.ErrorHandler(slog.New(slog.DiscardHandler))})
	mobileapi.Register(e.app.Group("/v1"), mobileapi.Deps{Auth: svc, Logger: slog.New(slog.DiscardHandler)})
	e.user = e.addUser("rep-"+uuid.NewString()[:8]+"@example.com", domain.RoleRep)
	return e
}

func (e *env) addUser(email string, role domain.Role) store.UserRecord {
	e.t.Helper()
	hash, err := e.svc.HashPassword(password)
	if err != nil {
		e.t.Fatal(err)
	}
	terr := domain.Territory{ID: uuid.NewString(), Name: "North"}
	var u store.UserRecord
	err = e.db.InTx(context.Background(), func(tx *store.Tx) error {
		if _, err := store.CreateTerritory(tx, terr); err != nil {
			return err
		}
		u, err = store.CreateUser(tx, store.UserRecord{Email: email, PasswordHash: hash,
			User: domain.User{ID: uuid.NewString(), Name: "Rita Rep", Role: role, TerritoryIDs: []string{terr.ID}}})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = strings.NewReader(string(raw))
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, b := apitest.Fiber(e.t, e.app, req)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) login(email, pw, device string) response {
	e.t.Helper()
	return e.do("POST", "/v1/auth/login", "", wire.LoginRequest{Email: email, Password: pw, DeviceID: device, DeviceName: "Pixel " + device})
}

func (e *env) token(device string) string {
	e.t.Helper()
	r := e.login(e.user.Email, password, device)
	if r.status != 200 {
		e.t.Fatalf("login: %d %s", r.status, r.body)
	}
	var lr wire.LoginResponse
	if err := json.Unmarshal(r.body, &lr); err != nil {
		e.t.Fatal(err)
	}
	return lr.Token
}

// wantError checks status, the contract's error body and that it leaks nothing.
func wantError(t *testing.T, r response, status int, code domain.Code) wire.ErrorDetail {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.body)
	}
	var env wire.ErrorBody
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || env.Error.Code != string(code) || env.Error.Message == "" {
		t.Fatalf("error body = %s (%v), want code %s", r.body, err, code)
	}
	for _, leak := range []string{"goroutine", ".go:", "/work/", "SELECT", "sql", "$2a$"} {
		if strings.Contains(string(r.body), leak) {
			t.Errorf("error body leaks %q: %s", leak, r.body)
		}
	}
	return env.Error
}

func TestAuth_Login(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, auth.Config{})
		t.Run("OK", func(t *testing.T) {
			r := e.login("  "+strings.ToUpper(e.user.Email)+" ", password, "dev-1")
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var lr wire.LoginResponse
			if err := json.Unmarshal(r.body, &lr); err != nil {
				t.Fatal(err)
			}
			if len(lr.Token) < 40 || lr.User.ID != e.user.ID || lr.User.Email != e.user.Email ||
				lr.User.Role != domain.RoleRep || lr.User.Name != "Rita Rep" {
				t.Errorf("login response = %+v", lr)
			}
			if !lr.ExpiresAt.Equal(e.now.Add(30 * 24 * time.Hour)) {
				t.Errorf("expires_at = %s", lr.ExpiresAt)
			}
			if me := e.do("GET", "/v1/me", lr.Token, nil); me.status != 200 {
				t.Errorf("me with fresh token: %d %s", me.status, me.body)
			}
		})
		t.Run("WrongPasswordAndUnknownEmailLookAlike", func(t *testing.T) {
			wrong := wantError(t, e.login(e.user.Email, "wrong password", "dev-1"), 401, domain.CodeUnauthorized)
			unknown := wantError(t, e.login("nobody@example.com", password, "dev-1"), 401, domain.CodeUnauthorized)
			if wrong.Message != unknown.Message {
				t.Errorf("messages differ: %q vs %q", wrong.Message, unknown.Message)
			}
		})
		t.Run("MissingFields", func(t *testing.T) {
			got := wantError(t, e.do("POST", "/v1/auth/login", "", `{"email":""}`), 422, domain.CodeValidation)
			fields := map[string]bool{}
			for _, f := range got.Fields {
				fields[f.Field] = true
			}
			if !fields["email"] || !fields["password"] || !fields["device_id"] {
				t.Errorf("fields = %+v", got.Fields)
			}
		})
		t.Run("MalformedJSON", func(t *testing.T) {
			wantError(t, e.do("POST", "/v1/auth/login", "", `{"email":`), 400, domain.CodeBadRequest)
		})
		t.Run("UnknownField", func(t *testing.T) {
			got := wantError(t, e.do("POST", "/v1/auth/login", "", `{"email":"a@b.c","pasword":"x"}`), 400, domain.CodeBadRequest)
			if len(got.Fields) != 1 || got.Fields[0].Field != "pasword" {
				t.Errorf("fields = %+v", got.Fields)
			}
		})
		t.Run("WrongType", func(t *testing.T) {
			got := wantError(t, e.do("POST", "/v1/auth/login", "", `{"email":42}`), 400, domain.CodeBadRequest)
			if len(got.Fields) != 1 || got.Fields[0].Field != "email" || got.Fields[0].Message != "must be a string" {
				t.Errorf("fields = %+v", got.Fields)
			}
		})
	})
}

// Each subtest counts from zero on a database of its own: on Postgres the
// counts live in the database (shared by every instance), not in the service.
func TestAuth_RateLimit(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		t.Run("PerEmail", func(t *testing.T) {
			e := newEnv(t, freshDB(t, db), auth.Config{MaxFailuresPerEmail: 3, MaxFailuresPerAddress: 100, FailureWindow: time.Minute})
			for i := 0; i < 3; i++ {
				wantError(t, e.login(e.user.Email, "wrong password", "d"), 401, domain.CodeUnauthorized)
			}
			// Even the right password waits: otherwise the limit would tell an
			// attacker when a guess is right.
			r := e.login(e.user.Email, password, "d")
			wantError(t, r, 429, domain.CodeRateLimited)
			if r.header.Get("Retry-After") != "60" {
				t.Errorf("Retry-After = %q, want 60", r.header.Get("Retry-After"))
			}
			e.now = e.now.Add(30 * time.Second)
			if r := e.login(e.user.Email, password, "d"); r.header.Get("Retry-After") != "30" {
				t.Errorf("Retry-After after 30s = %q (%d)", r.header.Get("Retry-After"), r.status)
			}
			e.now = e.now.Add(31 * time.Second)
			if r := e.login(e.user.Email, password, "d"); r.status != 200 {
				t.Errorf("after the window: %d %s", r.status, r.body)
			}
		})
		t.Run("PerAddress", func(t *testing.T) {
			e := newEnv(t, freshDB(t, db), auth.Config{MaxFailuresPerEmail: 100, MaxFailuresPerAddress: 2, FailureWindow: time.Minute})
			wantError(t, e.login("a@example.com", password, "d"), 401, domain.CodeUnauthorized)
			wantError(t, e.login("b@example.com", password, "d"), 401, domain.CodeUnauthorized)
			r := e.login(e.user.Email, password, "d")
			wantError(t, r, 429, domain.CodeRateLimited)
			if r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		})
		t.Run("SuccessDoesNotCount", func(t *testing.T) {
			e := newEnv(t, freshDB(t, db), auth.Config{MaxFailuresPerEmail: 2, MaxFailuresPerAddress: 2, FailureWindow: time.Minute})
			for i := 0; i < 5; i++ {
				if r := e.login(e.user.Email, password, "d"); r.status != 200 {
					t.Fatalf("login %d: %d %s", i, r.status, r.body)
				}
			}
			wantError(t, e.login(e.user.Email, "wrong password", "d"), 401, domain.CodeUnauthorized)
			wantError(t, e.login(e.user.Email, "wrong password", "d"), 401, domain.CodeUnauthorized)
			wantError(t, e.login(e.user.Email, "wrong password", "d"), 429, domain.CodeRateLimited)
		})
	})
}

// freshDB is a new database of db's dialect.
func freshDB(t *testing.T, db *store.DB) *store.DB { return testdb.Open(t, db.Dialect) }

func TestAuth_Tokens(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, auth.Config{TokenTTL: time.Hour})
		t.Run("Missing", func(t *testing.T) {
			r := e.do("GET", "/v1/me", "", nil)
			wantError(t, r, 401, domain.CodeUnauthorized)
			if r.header.Get("WWW-Authenticate") != "Bearer" {
				t.Error("401 without WWW-Authenticate: Bearer")
			}
			wantError(t, e.do("POST", "/v1/auth/logout", "", nil), 401, domain.CodeUnauthorized)
		})
		t.Run("Invalid", func(t *testing.T) {
			wantError(t, e.do("GET", "/v1/me", "not-a-token", nil), 401, domain.CodeUnauthorized)
		})
		t.Run("LogoutRevokesAtOnce", func(t *testing.T) {
			tok := e.token("phone")
			if r := e.do("POST", "/v1/auth/logout", tok, nil); r.status != 204 {
				t.Fatalf("logout: %d %s", r.status, r.body)
			}
			wantError(t, e.do("GET", "/v1/me", tok, nil), 401, domain.CodeUnauthorized)
			wantError(t, e.do("POST", "/v1/auth/logout", tok, nil), 401, domain.CodeUnauthorized)
		})
		t.Run("NewLoginKeepsEarlierTokens", func(t *testing.T) {
			first, second := e.token("tablet"), e.token("tablet")
			for _, tok := range []string{first, second} {
				if r := e.do("GET", "/v1/me", tok, nil); r.status != 200 {
					t.Errorf("token of the same device: %d %s", r.status, r.body)
				}
			}
		})
		t.Run("RevokedDevice", func(t *testing.T) {
			a, b, other := e.token("lost-phone"), e.token("lost-phone"), e.token("desk-phone")
			if err := e.svc.RevokeDevice(context.Background(), "lost-phone"); err != nil {
				t.Fatal(err)
			}
			wantError(t, e.do("GET", "/v1/me", a, nil), 401, domain.CodeUnauthorized)
			wantError(t, e.do("GET", "/v1/me", b, nil), 401, domain.CodeUnauthorized)
			if r := e.do("GET", "/v1/me", other, nil); r.status != 200 {
				t.Errorf("another device's token: %d", r.status)
			}
			// Signing in again on the recovered phone works; the old tokens stay dead.
			fresh := e.token("lost-phone")
			if r := e.do("GET", "/v1/me", fresh, nil); r.status != 200 {
				t.Errorf("token after re-login: %d", r.status)
			}
			wantError(t, e.do("GET", "/v1/me", a, nil), 401, domain.CodeUnauthorized)
			if err := e.svc.RevokeDevice(context.Background(), "never-seen"); domain.ErrorCode(err) != domain.CodeNotFound {
				t.Errorf("revoke unknown device: %v", err)
			}
		})
		t.Run("Expired", func(t *testing.T) {
			tok := e.token("watch")
			e.now = e.now.Add(time.Hour - time.Second)
			if r := e.do("GET", "/v1/me", tok, nil); r.status != 200 {
				t.Fatalf("token before expiry: %d", r.status)
			}
			e.now = e.now.Add(time.Second)
			wantError(t, e.do("GET", "/v1/me", tok, nil), 401, domain.CodeUnauthorized)
		})
	})
}

func TestAuth_Me(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, auth.Config{})
		tok := e.token("phone-1")
		e.now = e.now.Add(time.Minute)
		e.token("phone-2")
		if err := e.svc.RevokeDevice(context.Background(), "phone-2"); err != nil {
			t.Fatal(err)
		}
		pulled := e.now.Add(time.Second)
		p, err := e.svc.Verify(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.TouchDevice(context.Background(), p.Caller, &pulled, nil, nil); err != nil {
			t.Fatal(err)
		}
		r := e.do("GET", "/v1/me", tok, nil)
		if r.status != 200 {
			t.Fatalf("me: %d %s", r.status, r.body)
		}
		var me wire.MeResponse
		if err := json.Unmarshal(r.body, &me); err != nil {
			t.Fatal(err)
		}
		if me.User.ID != e.user.ID || me.User.Email != e.user.Email || len(me.TerritoryIDs) != 1 ||
			me.TerritoryIDs[0] != e.user.TerritoryIDs[0] {
			t.Errorf("me = %+v", me)
		}
		if len(me.Devices) != 2 {
			t.Fatalf("devices = %+v", me.Devices)
		}
		d1, d2 := me.Devices[0], me.Devices[1]
		if d1.DeviceID != "phone-1" || d1.DeviceName == nil || *d1.DeviceName != "Pixel phone-1" ||
			d1.LastPullAt == nil || !d1.LastPullAt.Equal(pulled) || d1.RevokedAt != nil || d1.LastPushAt != nil {
			t.Errorf("device 1 = %+v", d1)
		}
		if d2.DeviceID != "phone-2" || d2.RevokedAt == nil {
			t.Errorf("device 2 = %+v", d2)
		}
		// The wire shape has every contract key, nulls included.
		var raw map[string][]map[string]any
		if err := json.Unmarshal(r.body, &raw); err == nil {
			for _, k := range []string{"device_id", "device_name", "created_at", "last_pull_at", "last_push_at", "revoked_at"} {
				if _, ok := raw["devices"][0][k]; !ok {
					t.Errorf("device lacks %q", k)
				}
			}
		}
	})
}
