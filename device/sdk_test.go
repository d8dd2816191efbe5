package device_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
)

// TestNetworkError_IsItsOwnKind: a server that cannot be reached is a
// NetworkError of code "network" (not "internal"), retryable, and still
// unwraps to the transport's *url.Error.
func TestNetworkError_IsItsOwnKind(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	c, err := device.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"), device.Options{ServerURL: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Login(context.Background(), "rep@example.com", "secret")
	var ue *url.Error
	if domain.ErrorCode(err) != device.CodeNetwork || !device.IsNetworkError(err) || !device.IsRetryable(err) || !errors.As(err, &ue) {
		t.Fatalf("err %v: code %s, network %v, retryable %v; want code network, retryable, a *url.Error inside",
			err, domain.ErrorCode(err), device.IsNetworkError(err), device.IsRetryable(err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Login(ctx, "rep@example.com", "secret"); device.IsRetryable(err) {
		t.Errorf("a cancelled call is not retryable: %v", err)
	}
}

// TestTokenStore_DefaultKeepsTheTokenOutOfTheFile: after login the token is in
// a 0600 file beside the mirror, not in the mirror (nor its WAL), and a
// reopened client is still signed in; logout removes it.
func TestTokenStore_DefaultKeepsTheTokenOutOfTheFile(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, device.Options{})
	tokenPath := w.path + ".token"
	token, err := device.FileTokenStore{Path: tokenPath}.Load()
	if err != nil || token == "" {
		t.Fatalf("token file: %q, %v", token, err)
	}
	if fi, err := os.Stat(tokenPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v, %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(w.path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mirror file mode: %v, %v", fi.Mode(), err)
	}
	for _, f := range []string{w.path, w.path + "-wal"} {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(token)) {
			t.Fatalf("%s holds the token in plain text", f)
		}
	}
	mustSync(t, w.c)
	w.c.Close()
	c := w.open(t, device.Options{})
	mustSync(t, c) // still signed in
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tokenPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("logout left the token file: %v", err)
	}
}

// memTokens is what an app's Keychain or Keystore store looks like to the SDK.
type memTokens struct{ token string }

func (m *memTokens) Load() (string, error)   { return m.token, nil }
func (m *memTokens) Save(token string) error { m.token = token; return nil }

func TestTokenStore_AppSupplied(t *testing.T) {
	store := &memTokens{}
	w := newWorld(t, device.Options{TokenStore: store})
	if store.token == "" {
		t.Fatal("login did not save the token in the app's store")
	}
	if _, err := os.Stat(w.path + ".token"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a token file was written beside an app-supplied store: %v", err)
	}
	mustSync(t, w.c)
	w.c.Close()
	mustSync(t, w.open(t, device.Options{TokenStore: store}))
}

// TestVisitsOn_LocalDay: the day is the calendar day in the given zone, so a
// visit at 23:30 local time on the day before (UTC) still counts.
func TestVisitsOn_LocalDay(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, device.Options{})
	mustSync(t, w.c)
	cph := time.FixedZone("CET", 3600)
	plan := func(at time.Time) string {
		v, err := w.c.PlanVisit(ctx, w.account, at)
		if err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	early := plan(time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC)) // 00:30 on the 23rd in CET
	mid := plan(time.Date(2026, 11, 23, 9, 0, 0, 0, cph))
	late := plan(time.Date(2026, 11, 23, 23, 59, 0, 0, cph))
	plan(time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC))  // the 24th in CET
	plan(time.Date(2026, 11, 22, 22, 59, 0, 0, time.UTC)) // the 22nd in CET
	got, err := w.c.VisitsOn(ctx, time.Date(2026, 11, 23, 12, 0, 0, 0, cph))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range got {
		ids = append(ids, v.ID)
	}
	if want := []string{early, mid, late}; strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("VisitsOn = %v, want %v (by planned time)", ids, want)
	}
	mustSync(t, w.c) // the server's copies index the same way
	if got, _ := w.c.VisitsOn(ctx, time.Date(2026, 11, 23, 0, 0, 0, 0, cph)); len(got) != 3 {
		t.Fatalf("after sync: %d visits, want 3", len(got))
	}
	clock := device.Options{Clock: func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.Local) }}
	w.c.Close()
	c := w.open(t, clock)
	today, err := c.TodaysVisits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := c.VisitsOn(ctx, time.Date(2026, 11, 23, 12, 0, 0, 0, time.Local))
	if len(today) != len(want) {
		t.Fatalf("TodaysVisits: %d, VisitsOn the clock's local day: %d", len(today), len(want))
	}
}

// TestTokenStore_MovesAnOldFilesToken: a file written by an SDK that kept the
// token in the mirror's meta table is moved to the token store on open, and the
// copy in the file is deleted.
func TestTokenStore_MovesAnOldFilesToken(t *testing.T) {
	w := newWorld(t, device.Options{})
	tokens := device.FileTokenStore{Path: w.path + ".token"}
	token, err := tokens.Load()
	if err != nil || token == "" {
		t.Fatalf("token: %q, %v", token, err)
	}
	w.c.Close()
	if err := tokens.Save(""); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite3", w.path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO meta (key, value) VALUES ('token', ?)`, token); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	c := w.open(t, device.Options{})
	mustSync(t, c) // signed in with the moved token
	if got, _ := tokens.Load(); got != token {
		t.Fatalf("token store holds %q, want the file's token", got)
	}
	raw, err = sql.Open("sqlite3", w.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM meta WHERE key = 'token'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the file still holds the token: %d rows, %v", n, err)
	}
}
