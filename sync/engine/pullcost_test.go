package engine_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
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
