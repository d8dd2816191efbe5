package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// TestRun_Aggregates seeds the demo organisation, breaks the report tables the
// way a write with triggers disabled would, and checks that `check` notices and
// `rebuild` repairs.
func TestRun_Aggregates(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			dsn := testdb.DSN(t, d)
			var out bytes.Buffer
			if err := run(ctx, []string{"seed", "--demo", "--database-url", dsn}, &out, &out); err != nil {
				t.Fatal(err)
			}
			out.Reset()
			if err := run(ctx, []string{"aggregates", "check", "--database-url", dsn}, &out, &out); err != nil {
				t.Fatalf("fresh demo data: %v\n%s", err, out.String())
			}
			db, err := store.Open(ctx, dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Gorm.Exec("UPDATE report_visit_days SET completed = completed + 1").Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Gorm.Exec("DELETE FROM report_accounts WHERE account_id IN (SELECT id FROM accounts ORDER BY id LIMIT 1)").Error; err != nil {
				t.Fatal(err)
			}
			out.Reset()
			err = run(ctx, []string{"aggregates", "check", "--database-url", dsn, "--limit", "2"}, &out, &out)
			if !errors.Is(err, errDrift) {
				t.Fatalf("check after tampering: %v, want drift", err)
			}
			for _, want := range []string{"report_visit_days (stored, not expected)", "report_accounts (expected, not stored)"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("check output lacks %q:\n%s", want, out.String())
				}
			}
			out.Reset()
			if err := run(ctx, []string{"aggregates", "rebuild", "--database-url", dsn}, &out, &out); err != nil {
				t.Fatal(err)
			}
			out.Reset()
			if err := run(ctx, []string{"aggregates", "check", "--database-url", dsn}, &out, &out); err != nil {
				t.Fatalf("after rebuild: %v\n%s", err, out.String())
			}
			if err := run(ctx, []string{"aggregates", "fix", "--database-url", dsn}, &out, &out); !errors.Is(err, errUsage) {
				t.Errorf("unknown subcommand: %v, want a usage error", err)
			}
		})
	}
}
