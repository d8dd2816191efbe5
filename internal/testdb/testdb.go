// Package testdb gives tests real databases: a fresh migrated SQLite file, and a
// fresh Postgres database cloned from a migrated template on the cluster named by
// FIELDSYNC_TEST_POSTGRES_URL (scripts/pgtest.sh starts a throwaway one).
// Without that variable the Postgres half is skipped, loudly; with
// FIELDSYNC_REQUIRE_POSTGRES=1 (CI) it fails instead.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/fieldsync/fieldsync/store"
)

// EnvPostgresURL names the Postgres cluster tests may create databases on.
const EnvPostgresURL = "FIELDSYNC_TEST_POSTGRES_URL"

// Dialects runs fn as two subtests, "sqlite" and "postgres", each on a fresh
// migrated database.
func Dialects(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh migrated database of dialect d, removed when t ends.
func Open(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	url := DSN(t, d)
	db, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if d == store.SQLite {
		if _, err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate sqlite: %v", err)
		}
	}
	return db
}

// DSN returns the DSN of a fresh migrated database of dialect d (for tests that
// start a whole server), removed when t ends.
func DSN(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return filepath.Join(t.TempDir(), "fieldsync.db")
	}
	base := os.Getenv(EnvPostgresURL)
	if base == "" {
		if os.Getenv("FIELDSYNC_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("%s is not set but FIELDSYNC_REQUIRE_POSTGRES=1: the Postgres half must run", EnvPostgresURL)
		}
		t.Skipf("POSTGRES HALF SKIPPED: %s is not set (run `make test` to start a throwaway cluster)", EnvPostgresURL)
	}
	tmpl, err := template(base)
	if err != nil {
		t.Fatalf("postgres template: %v", err)
	}
	name := "fs_" + randHex(8)
	if err := exec(base, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { _ = exec(base, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)) })
	return withDatabase(base, name)
}

var (
	tmplOnce sync.Once
	tmplName string
	tmplErr  error
)

// template migrates one database per test binary; each test clones it, which
// takes milliseconds instead of running every migration again.
func template(base string) (string, error) {
	tmplOnce.Do(func() {
		name := "fs_tmpl_" + randHex(6)
		if tmplErr = exec(base, "CREATE DATABASE "+name); tmplErr != nil {
			return
		}
		db, err := store.Open(context.Background(), withDatabase(base, name), store.Options{MaxOpenConns: 1})
		if err != nil {
			tmplErr = err
			return
		}
		_, tmplErr = db.Migrate(context.Background())
		_ = db.Close()
		tmplName = name
	})
	return tmplName, tmplErr
}

func exec(base, sql string) error {
	db, err := store.Open(context.Background(), base, store.Options{MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Gorm.Exec(sql).Error
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
