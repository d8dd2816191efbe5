package engine_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"gorm.io/gorm"
)

// countStatements counts every statement GORM sends on db from now on (BEGIN
// and COMMIT excepted: they do not pass GORM's callbacks; nor statements
// only rendered, not sent).
func countStatements(t *testing.T, db *store.DB) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	inc := func(g *gorm.DB) {
		if !g.DryRun { // subqueries built with ToSQL send nothing
			n.Add(1)
		}
	}
	cb := db.Gorm.Callback()
	for name, err := range map[string]error{
		"query":  cb.Query().Before("*").Register("test:count_query", inc),
		"raw":    cb.Raw().Before("*").Register("test:count_raw", inc),
		"row":    cb.Row().Before("*").Register("test:count_row", inc),
		"create": cb.Create().Before("*").Register("test:count_create", inc),
		"update": cb.Update().Before("*").Register("test:count_update", inc),
		"delete": cb.Delete().Before("*").Register("test:count_delete", inc),
	} {
		if err != nil {
			t.Fatalf("register %s counter: %v", name, err)
		}
	}
	return &n
}

// TestPull_EmptyPullStatements pins what an empty pull costs in statements, so
// a change that adds a round trip to the most frequent request fails here
// (docs/benchmarks.md, "The empty-pull tail"). On Postgres the read also
// costs BEGIN and COMMIT. These are the pulls the database answers: with
// the fast path on (the server's, once its change listener is connected), a
// caught-up device's pull after one confirmed empty page costs none.
func TestPull_EmptyPullStatements(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		m := newMirror()
		o.syncAll(t, m, o.rep1)
		want := map[store.Dialect]int64{store.Postgres: 4, store.SQLite: 3}[db.Dialect]
		n := countStatements(t, db)
		for i := 0; i < 3; i++ {
			n.Store(0)
			resp, err := o.eng.Pull(context.Background(), o.actor(o.rep1), m.cursor, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Changes) != 0 || resp.HasMore {
				t.Fatalf("pull %d not empty: %+v", i, resp)
			}
			m.apply(resp)
			if got := n.Load(); got != want {
				t.Errorf("empty pull %d sent %d statements, want %d", i, got, want)
			}
		}
		o.eng.ListenerUp()
		for i, want := range []int64{want, 0, 0} {
			n.Store(0)
			resp, err := o.eng.Pull(context.Background(), o.actor(o.rep1), m.cursor, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Changes) != 0 || resp.HasMore || resp.Cursor != m.cursor {
				t.Fatalf("fast-path pull %d not empty with the cursor unchanged: %+v", i, resp)
			}
			if got := n.Load(); got != want {
				t.Errorf("empty pull %d with the fast path on sent %d statements, want %d", i, got, want)
			}
		}
	})
}

// pageStatements counts the statements of one pull of rep1 after it synced
// and then wrote a visit, an order and a note on acc1 (three dependent
// tables) from another device: the page that carries them.
func pageStatements(t *testing.T, db *store.DB) int64 {
	t.Helper()
	o := newOrg(t, db)
	m := newMirror()
	o.syncAll(t, m, o.rep1)
	other := o.actor(o.rep1)
	other.DeviceID = "other-device"
	visit, order, note := uuidFrom(t.Name()+"v"), uuidFrom(t.Name()+"o"), uuidFrom(t.Name()+"n")
	_, err := o.eng.Push(context.Background(), other, wire.PushRequest{Mutations: []wire.Mutation{
		mut("visits", "upsert", visit, 0, map[string]any{"account_id": o.acc1, "planned_at": "2026-11-20T09:00:00Z"}),
		mut("orders", "upsert", order, 0, map[string]any{"account_id": o.acc1, "lines": []map[string]any{{"product_id": o.product, "quantity": 2}}}),
		mut("account_notes", "upsert", note, 0, map[string]any{"account_id": o.acc1, "body": "x"}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	n := countStatements(t, db)
	resp, err := o.eng.Pull(context.Background(), o.actor(o.rep1), m.cursor, 100)
	if err != nil {
		t.Fatal(err)
	}
	m.apply(resp)
	if !m.has("visits", visit) || !m.has("orders", order) || !m.has("account_notes", note) {
		t.Fatalf("the page lacks the writes: %+v", resp.Changes)
	}
	return n.Load()
}

// TestPull_PageStatements pins what a page of changes in three dependent
// tables costs: the bound, the snapshot's scope and start, the log, and one
// statement per table whose rows it fetches, their accounts' keys included
// (issue 17 point 5: they were one more round trip per table, 10 and 9).
func TestPull_PageStatements(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		want := map[store.Dialect]int64{store.Postgres: 7, store.SQLite: 6}[db.Dialect]
		if got := pageStatements(t, db); got != want {
			t.Errorf("a page of three dependent tables sent %d statements, want %d", got, want)
		}
	})
}

// TestPull_ScopeChangeStatements pins what the first pull after a scope
// change costs: the old scope's snapshot is loaded once (issue 17 point 5:
// it was loaded by the cursor check and again by the page: 13 and 12), and
// the rows of dependent tables come with their accounts' keys.
func TestPull_ScopeChangeStatements(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		m := newMirror()
		o.syncAll(t, m, o.rep1)
		o.write(t, func(tx *store.Tx, _ time.Time) error {
			old, err := store.GetUser(tx, o.rep1, true)
			if err != nil {
				return err
			}
			u := old
			u.TerritoryIDs = []string{o.t1, o.t2}
			_, err = store.UpdateUser(tx, old, u)
			return err
		})
		// The new scope's snapshot is stored by a first pull; count the next.
		if _, err := o.eng.Pull(context.Background(), o.actor(o.rep1), m.cursor, 1); err != nil {
			t.Fatal(err)
		}
		n := countStatements(t, db)
		resp, err := o.eng.Pull(context.Background(), o.actor(o.rep1), m.cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Reset || len(resp.Changes) == 0 {
			t.Fatalf("the transition page: reset %v, %d changes", resp.Reset, len(resp.Changes))
		}
		want := map[store.Dialect]int64{store.Postgres: 12, store.SQLite: 11}[db.Dialect]
		if got := n.Load(); got != want {
			t.Errorf("the transition page sent %d statements, want %d", got, want)
		}
	})
}
