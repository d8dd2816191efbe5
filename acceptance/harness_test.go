package acceptance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/internal/servetest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// password is every seeded user's password.
const password = "correct horse battery"

// day is the field day the scenarios happen on.
var day = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

// env is one real server on one fresh database, serving on loopback, with a
// small seeded organisation.
type env struct {
	t     *testing.T
	db    *store.DB
	srv   *server.Server
	url   string
	admin *backoffice.Admin
	org
}

// org is the seeded organisation, the "one-region" named fixture (see
// fixtures.OneRegion): region R with territories T1 and T2; rep1 and rep3 work
// T1, rep2 works T2; rep1 also owns the key account "key" in T2; the manager
// manages R; the coordinator has no territories (the whole desk); ops
// administers. a1 and a1b are in T1, a2 and key in T2. p1 and p2 are active
// products, pOff is inactive. The short names are the scenarios' own.
type org struct {
	region, t1, t2                    string
	rep1, rep2, rep3, mgr, coord, ops string
	a1, a1b, a2, key                  string
	p1, p2, pOff                      string
	email                             map[string]string // user id -> email
}

// forEachDB runs fn on SQLite and on Postgres, each with its own server.
func forEachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		fn(t, start(t, db))
	})
}

// start serves a new server on db until the test ends and seeds the organisation.
func start(t *testing.T, db *store.DB) *env {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	logs := &testLog{t: t}
	srv, err := server.New(cfg, db, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(logs.close)
	base := servetest.Start(t, srv)
	e := &env{t: t, db: db, srv: srv, url: base,
		admin: backoffice.NewAdmin(db, srv.Auth.HashPassword)}
	e.seed()
	return e
}

// testLog shows the server's warnings and errors in the test output: a 500 in
// a scenario is a bug, and its cause is in the log.
type testLog struct {
	mu     sync.Mutex
	t      *testing.T
	closed bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Logf("server: %s", bytes.TrimSpace(p))
	}
	return len(p), nil
}

func (l *testLog) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

func (e *env) seed() {
	e.t.Helper()
	f, err := fixtures.NewOneRegion(context.Background(), e.db, fixtures.NamedOptions{Password: password})
	must(e.t, err)
	e.org = org{region: f.Region, t1: f.T1, t2: f.T2,
		rep1: f.Rep1, rep2: f.Rep2, rep3: f.Rep3, mgr: f.Mgr, coord: f.Coord, ops: f.Ops,
		a1: f.A1, a1b: f.A1b, a2: f.A2, key: f.Key, p1: f.P1, p2: f.P2, pOff: f.POff,
		email: map[string]string{}}
	for _, u := range f.Users {
		e.email[u.ID] = u.Email
	}
}

// device opens a new device file for user and signs in. Options may be
// adjusted by opts (a small pull page by default, so paging is exercised).
func (e *env) device(user string, opts ...func(*device.Options)) *device.Client {
	e.t.Helper()
	return e.deviceAt(filepath.Join(e.t.TempDir(), "dev.db"), user, opts...)
}

func (e *env) deviceAt(path, user string, opts ...func(*device.Options)) *device.Client {
	e.t.Helper()
	opt := device.Options{ServerURL: e.url, PullLimit: 7, DeviceName: "phone of " + e.email[user]}
	for _, f := range opts {
		f(&opt)
	}
	// Every exchange of every device is checked against /openapi.json.
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: time.Minute}
	}
	opt.HTTPClient.Transport = apitest.Transport(e.t, opt.HTTPClient.Transport)
	c, err := device.Open(context.Background(), path, opt)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = c.Close() })
	if _, err := c.Login(context.Background(), e.email[user], password); err != nil {
		e.t.Fatalf("login %s: %v", e.email[user], err)
	}
	return c
}

// synced opens a device for user and runs its initial sync.
func (e *env) synced(user string, opts ...func(*device.Options)) *device.Client {
	e.t.Helper()
	c := e.device(user, opts...)
	e.sync(c)
	return c
}

// sync runs one Sync that must succeed, once every committed change is
// deliverable (see settle).
func (e *env) sync(c *device.Client) device.SyncReport {
	e.t.Helper()
	e.settle()
	rep, err := c.Sync(context.Background())
	if err != nil {
		e.t.Fatalf("sync of %s: %v", e.email[c.UserID()], err)
	}
	return rep
}

// settle waits until a pull can deliver every committed change. On Postgres a
// pull delivers only the entries of transactions below a bound of running
// transactions (README, "How sync works"), and other work on the test cluster may hold that
// bound back for a moment: without this a pull may lawfully stop short of a
// change committed just before it, and a convergence check would race with
// unrelated work. On SQLite every commit is deliverable.
func (e *env) settle() {
	e.t.Helper()
	if e.db.Dialect != store.Postgres {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		bound, err := store.PullBound(e.db.Autocommit(context.Background()))
		must(e.t, err)
		var behind int64
		must(e.t, e.db.Gorm.Raw(`SELECT count(*) FROM change_log WHERE xid >= ?::xid8`,
			strconv.FormatUint(bound, 10)).Scan(&behind).Error)
		if behind == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d change-log entries stayed undeliverable for 30s: a transaction is stuck open", behind)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// withTransport makes a device talk through rt.
func withTransport(rt http.RoundTripper) func(*device.Options) {
	return func(o *device.Options) { o.HTTPClient = &http.Client{Transport: rt, Timeout: time.Minute} }
}

// token signs user in over raw HTTP from deviceID and returns the bearer token.
func (e *env) token(user, deviceID string) string {
	e.t.Helper()
	var resp wire.LoginResponse
	e.ok(http.MethodPost, "/v1/auth/login", "", wire.LoginRequest{Email: e.email[user], Password: password,
		DeviceID: deviceID}, http.StatusOK, &resp)
	return resp.Token
}

// do sends one raw request; body is sent as is when it is []byte, else as JSON.
func (e *env) do(method, path, token string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				e.t.Fatal(err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := apitest.Client(e.t).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// ok sends a request that must answer status, and decodes the answer into out.
func (e *env) ok(method, path, token string, body any, status int, out any) {
	e.t.Helper()
	got, b := e.do(method, path, token, body)
	if got != status {
		e.t.Fatalf("%s %s = %d, want %d: %s", method, path, got, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// tx runs fn in one server database transaction (the test's back door for
// what no endpoint does yet, and for the oracle).
func (e *env) tx(fn func(tx *store.Tx) error) {
	e.t.Helper()
	must(e.t, e.db.InTx(context.Background(), fn))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func newID() string { return uuid.NewString() }

// errStatus is the HTTP status of a device call's error, 0 if it has none.
func errStatus(err error) int {
	var se *device.ServerError
	if errors.As(err, &se) {
		return se.Status
	}
	return 0
}
