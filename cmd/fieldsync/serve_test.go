package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/server"
)

// TestRun_HelpNamesTheEnvironment: every variable the server reads is in
// `fieldsync --help`, found by asking ConfigFromEnv which names it reads.
func TestRun_HelpNamesTheEnvironment(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	names := []string{"FIELDSYNC_CREATE_DB", "FIELDSYNC_BENCH_POSTGRES_URL"}
	if _, err := server.ConfigFromEnv(func(k string) string { names = append(names, k); return "" }); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if !strings.Contains(out.String(), name) {
			t.Errorf("fieldsync --help does not mention %s", name)
		}
	}
}

// TestServe_HelpListsTimeouts: the README sends readers to `serve -h` for the
// defaults of the four HTTP timeouts.
func TestServe_HelpListsTimeouts(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"serve", "-h"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"-read-timeout", "-write-timeout", "-idle-timeout", "-shutdown-timeout", "-create"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("serve -h lacks %s:\n%s", f, out.String())
		}
	}
}

// TestServe_RefusesMissingSQLiteFile: with --create=false a mistyped path is
// refused with a hint, and nothing is created under that name.
func TestServe_RefusesMissingSQLiteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fieldsync.bd")
	var out bytes.Buffer
	err := run(context.Background(), []string{"serve", "--create=false", "--database-url", path, "--addr", "127.0.0.1:0"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "seed --demo") {
		t.Fatalf("err = %v; want a refusal naming seed --demo", err)
	}
	if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("serve created %s: %v", path, serr)
	}
	// compact and aggregates refuse it too; migrate and seed are how one is made.
	for _, args := range [][]string{{"compact"}, {"aggregates", "check"}} {
		err := run(context.Background(), append(args, "--database-url", path), &out, &out)
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("%v: err = %v; want a refusal", args, err)
		}
	}
	if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("a maintenance command created %s: %v", path, serr)
	}
}

// TestRun_RefusesUnknownURLScheme: mysql://… is an error, not a SQLite file
// named "mysql:".
func TestRun_RefusesUnknownURLScheme(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, args := range [][]string{
		{"serve", "--create", "--addr", "127.0.0.1:0", "--database-url", "mysql://fs:pw@localhost/fs"},
		{"migrate", "--database-url", "mysql://fs:pw@localhost/fs"},
		{"seed", "--database-url", "sqlite:///tmp/x.db"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), args, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("%v: err = %v; want an unsupported-scheme error", args, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("files created: %v", entries)
	}
}

// TestServe_TakenPortBeforeMigrating: the address is taken before the database
// is touched, so a port in use leaves a new database uncreated.
func TestServe_TakenPortBeforeMigrating(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	path := filepath.Join(t.TempDir(), "new.db")
	var out bytes.Buffer
	err = run(context.Background(), []string{"serve", "--create", "--database-url", path, "--addr", ln.Addr().String()}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("err = %v; want a listen error", err)
	}
	if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("the database was opened before the port was checked: %v", serr)
	}
}

// TestServe_RefusesBadWebhookSettings: a webhook timeout or backoff that is
// not a positive duration stops serve at startup with a message naming the
// setting, before the database is touched.
func TestServe_RefusesBadWebhookSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	for _, tc := range []struct {
		env, flag, want string
	}{
		{"FIELDSYNC_WEBHOOK_TIMEOUT=10", "", "FIELDSYNC_WEBHOOK_TIMEOUT: not a duration"},
		{"FIELDSYNC_WEBHOOK_BACKOFF=soon", "", "FIELDSYNC_WEBHOOK_BACKOFF: not a duration"},
		{"", "--webhook-timeout=0s", "webhook timeout must be positive"},
		{"", "--webhook-backoff=-5s", "webhook backoff must be positive"},
	} {
		if name, value, ok := strings.Cut(tc.env, "="); ok {
			t.Setenv(name, value)
		}
		args := []string{"serve", "--create", "--database-url", path, "--addr", "127.0.0.1:0"}
		if tc.flag != "" {
			args = append(args, tc.flag)
		}
		var out bytes.Buffer
		err := run(context.Background(), args, &out, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s%s: err = %v; want %q", tc.env, tc.flag, err, tc.want)
		}
		if name, _, ok := strings.Cut(tc.env, "="); ok {
			t.Setenv(name, "")
		}
	}
	if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("serve opened the database despite a bad setting: %v", serr)
	}
}

func TestCheckDatabase(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "here.db")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.db")
	for _, tc := range []struct {
		dsn              string
		create, creating bool
		fails            bool
	}{
		{"postgres://u@h/db", false, false, false},
		{"postgresql://u@h/db", false, false, false},
		{existing, false, false, false},
		{existing + "?_busy_timeout=1", false, false, false},
		{"file:" + existing, false, false, false},
		{":memory:", false, false, false},
		{"file:x?mode=memory", false, false, false},
		{missing, false, false, true},
		{missing, true, true, false},
		{"mysql://u@h/db", true, false, true},
		{"sqlite://" + existing, true, false, true},
	} {
		creating, err := checkDatabase(tc.dsn, tc.create)
		if creating != tc.creating || (err != nil) != tc.fails {
			t.Errorf("checkDatabase(%q, %v) = %v, %v", tc.dsn, tc.create, creating, err)
		}
	}
}
