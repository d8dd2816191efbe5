package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

func TestRun_Usage(t *testing.T) {
	for _, args := range [][]string{nil, {"bogus"}, {"user"}, {"user", "remove"}, {"migrate", "extra"}, {"migrate", "--bogus"}} {
		if err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, errUsage) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, &out, &out); err != nil || !strings.Contains(out.String(), "user add") {
		t.Errorf("help: %v %q", err, out.String())
	}
}

func TestRun_MigrateAndUserAdd(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			dsn := testdb.DSN(t, d)
			t.Setenv("FIELDSYNC_BCRYPT_COST", "4")
			var out bytes.Buffer
			if err := run(ctx, []string{"migrate", "--database-url", dsn}, &out, &out); err != nil {
				t.Fatal(err)
			}
			if err := run(ctx, []string{"migrate", "--database-url", dsn}, &out, &out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "applied 0 migration(s)") {
				t.Errorf("second migrate output: %q", out.String())
			}
			db, err := store.Open(ctx, dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			terr := uuid.NewString()
			err = db.InTx(ctx, func(tx *store.Tx) error {
				_, err := store.CreateTerritory(tx, domain.Territory{ID: terr, Name: "North"})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			add := func(extra ...string) error {
				args := append([]string{"user", "add", "--database-url", dsn, "--name", "Rita",
					"--password", "long enough"}, extra...)
				return run(ctx, args, &out, &out)
			}
			if err := add("--email", "Rita@Example.com", "--role", "rep", "--territory", strings.ToUpper(terr)); err != nil {
				t.Fatalf("user add: %v", err)
			}
			var u store.UserRecord
			err = db.InTx(ctx, func(tx *store.Tx) error {
				u, err = store.GetUserByEmail(tx, "rita@example.com")
				return err
			})
			if err != nil || u.Role != domain.RoleRep || len(u.TerritoryIDs) != 1 || u.TerritoryIDs[0] != terr {
				t.Fatalf("created user = %+v, %v", u, err)
			}
			for name, args := range map[string][]string{
				"BadRole":          {"--email", "a@x.io", "--role", "boss"},
				"BadTerritory":     {"--email", "b@x.io", "--role", "rep", "--territory", "north"},
				"UnknownTerritory": {"--email", "c@x.io", "--role", "rep", "--territory", uuid.NewString()},
				"DuplicateEmail":   {"--email", "rita@example.com", "--role", "rep"},
				"ShortPassword":    {"--email", "d@x.io", "--role", "rep", "--password", "short"},
			} {
				if err := add(args...); err == nil {
					t.Errorf("%s: user add succeeded", name)
				}
			}
		})
	}
}
