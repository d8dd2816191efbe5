package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

func TestRun_Compact(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			dsn := testdb.DSN(t, d)
			var out bytes.Buffer
			if err := run(ctx, []string{"migrate", "--database-url", dsn}, &out, &out); err != nil {
				t.Fatal(err)
			}
			db, err := store.Open(ctx, dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			old, recent := db.Now().Add(-100*24*time.Hour), db.Now().Add(-time.Hour)
			for i, at := range []time.Time{old, recent} {
				if err := db.Gorm.Exec(`INSERT INTO change_log (tbl, row_id, scope_key, op, reason, version, created_at)
					VALUES ('visits', ?, 't:x', 'delete', 'deleted', 2, ?)`,
					[]string{"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"}[i], at).Error; err != nil {
					t.Fatal(err)
				}
			}
			out.Reset()
			if err := run(ctx, []string{"compact", "--database-url", dsn, "--retain", "720h"}, &out, &out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "removed 1 tombstone") {
				t.Errorf("output %q: want the one tombstone older than 30 days removed", out.String())
			}
			var left int64
			db.Gorm.Table("change_log").Count(&left)
			if left != 1 {
				t.Errorf("%d entries left, want the recent tombstone only", left)
			}
			if err := run(ctx, []string{"compact", "--database-url", dsn, "--retain", "1m"}, &out, &out); !errors.Is(err, errUsage) {
				t.Errorf("a retention under an hour must be refused: %v", err)
			}
		})
	}
}
