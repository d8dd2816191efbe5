package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

func TestRunSeed_Demo(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			dsn := testdb.DSN(t, d)
			var out bytes.Buffer
			if err := runSeed(context.Background(), []string{"--demo", "--database", dsn}, &out); err != nil {
				t.Fatalf("seed --demo: %v", err)
			}
			first := out.String()
			for _, l := range fixtures.DemoLogins() {
				if !strings.Contains(first, l.Email) || !strings.Contains(first, l.Password) {
					t.Fatalf("output lacks the login %s / %s:\n%s", l.Email, l.Password, first)
				}
			}
			if !strings.Contains(first, "accounts=") {
				t.Fatalf("output lacks the summary:\n%s", first)
			}
			out.Reset()
			if err := runSeed(context.Background(), []string{"--demo", "--database", dsn}, &out); err != nil {
				t.Fatalf("second seed --demo: %v", err)
			}
			if !strings.Contains(out.String(), "already present") || !strings.Contains(out.String(), "ops@demo.fieldsync.dev") {
				t.Fatalf("second run should only print the logins:\n%s", out.String())
			}
		})
	}
}

func TestRunSeed_RejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--scale", "0"}, {"--bogus"}, {"extra"}} {
		if err := runSeed(context.Background(), append(args, "--database", t.TempDir()+"/x.db"), &bytes.Buffer{}); err == nil {
			t.Errorf("seed %v: no error", args)
		}
	}
}
