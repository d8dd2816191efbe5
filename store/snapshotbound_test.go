package store_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// openXid begins a transaction on db that holds an xid, and returns the xid;
// the transaction stays open until the test ends or the caller commits it.
func openXid(t *testing.T, db *store.DB) (*store.Tx, uint64) {
	t.Helper()
	tx, err := db.BeginTx(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	var s string
	if err := tx.Query(&s, "SELECT pg_current_xact_id()::text"); err != nil {
		t.Fatal(err)
	}
	x, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return tx, x
}

// snapshotBound asks for the bound on new snapshots until it is settled:
// tests of other packages share the cluster, and one of their transactions
// may finish between a snapshot and the read of the backends.
func snapshotBound(t *testing.T, db *store.DB) (uint64, bool) {
	t.Helper()
	var bound uint64
	var settled bool
	for range 100 {
		err := db.ReadTx(context.Background(), func(tx *store.Tx) error {
			var err error
			bound, settled, err = store.SnapshotBound(tx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if settled {
			break
		}
	}
	return bound, settled
}

// TestSnapshotBound_HeldByThisDatabaseOnly: a transaction of this database
// that is still running holds the pull bound at its xid (its entries could
// still appear below any later position), until it commits; one of another
// database on the same cluster never holds it. The interleavings are held by
// open transactions, not by timing. Postgres only: SQLite has no bound.
func TestSnapshotBound_HeldByThisDatabaseOnly(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	if b, settled := snapshotBound(t, db); b == 0 || !settled {
		t.Fatalf("idle database: bound %d, settled %v", b, settled)
	}
	w, x := openXid(t, db)
	if b, settled := snapshotBound(t, db); b != x || !settled {
		t.Errorf("with %d running here: bound %d settled %v, want %d true", x, b, settled, x)
	}
	if _, err := store.PullBound(db.Autocommit(context.Background())); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := snapshotBound(t, db); b <= x {
		t.Errorf("after %d committed: bound %d, want above it", x, b)
	}

	// A transaction of another database of the cluster, older than one of
	// this database: both are in the snapshot's running xids once a later
	// transaction completed (before that, the snapshot's xmax itself, one
	// past the last completed xid, bounds the pull, as it does the pull
	// bound function's).
	other := testdb.Open(t, store.Postgres)
	_, y := openXid(t, other)
	z0, z := openXid(t, db)
	later, c := openXid(t, db)
	if err := later.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, settled := snapshotBound(t, db); b != z || !settled {
		t.Errorf("with %d running in another database and %d here: bound %d settled %v, want %d true", y, z, b, settled, z)
	}
	if err := z0.Commit(); err != nil {
		t.Fatal(err)
	}
	// Past every transaction of this database, though y still runs (the
	// cluster's other tests may complete transactions meanwhile: the bound
	// is not pinned to c+1).
	b, settled := snapshotBound(t, db)
	if b <= c || !settled {
		t.Errorf("with %d running in another database only: bound %d settled %v, want above %d", y, b, settled, c)
	}
	// The pull bound function agrees.
	old, err := store.PullBound(db.Autocommit(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	if old <= c {
		t.Errorf("fieldsync_pull_bound() = %d, want above %d", old, c)
	}
}

// TestSnapshotBound_GenericPlans: the statements a pull runs after the bound
// are planned once for all (plan_cache_mode), in that transaction only.
func TestSnapshotBound_GenericPlans(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	var mode string
	err := db.ReadTx(context.Background(), func(tx *store.Tx) error {
		if _, _, err := store.SnapshotBound(tx); err != nil {
			return err
		}
		return tx.Query(&mode, "SELECT current_setting('plan_cache_mode')")
	})
	if err != nil {
		t.Fatal(err)
	}
	if mode != "force_generic_plan" {
		t.Errorf("in the pull's transaction: plan_cache_mode %s", mode)
	}
	if err := db.Autocommit(context.Background()).Query(&mode, "SELECT current_setting('plan_cache_mode')"); err != nil {
		t.Fatal(err)
	}
	if mode != "auto" {
		t.Errorf("after it: plan_cache_mode %s", mode)
	}
}
