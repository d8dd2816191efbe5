package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"golang.org/x/crypto/bcrypt"
)

// TestRunSeed_Demo: the demo logins are printed, once made and when already
// present; their passwords are hashed at FIELDSYNC_BCRYPT_COST.
func TestRunSeed_Demo(t *testing.T) {
	t.Setenv("FIELDSYNC_BCRYPT_COST", "5")
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
			db, err := store.Open(context.Background(), dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var u store.UserRecord
			if err := db.ReadTx(context.Background(), func(tx *store.Tx) (err error) {
				u, err = store.GetUserByEmail(tx, fixtures.DemoLogins()[0].Email)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if cost, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil || cost != 5 {
				t.Errorf("demo password hashed at cost %d (%v); want FIELDSYNC_BCRYPT_COST, 5", cost, err)
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
