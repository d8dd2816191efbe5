package store_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// TestLockDevicePush_SerialisesOneDevice: while one transaction holds a
// device's push lock, another device of the same user takes its own at once,
// and a second push of the same device waits until the first ends. The wait is
// observed in pg_locks (an ungranted advisory lock), never by timing. Postgres
// only: on SQLite the database's single write lock serialises every push.
func TestLockDevicePush_SerialisesOneDevice(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	ctx := context.Background()
	user := uuid.NewString()
	first, err := db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Rollback() }()
	if err := store.LockDevicePush(first, user, "phone"); err != nil {
		t.Fatal(err)
	}
	// Another device: not blocked (if it were, this would hang until the test
	// timeout, which fails the test).
	inTx(t, db, func(tx *store.Tx) error { return store.LockDevicePush(tx, user, "tablet") })

	done := make(chan error, 1)
	go func() {
		done <- db.InTx(ctx, func(tx *store.Tx) error { return store.LockDevicePush(tx, user, "phone") })
	}()
	for waiting := int64(0); waiting == 0; {
		select {
		case err := <-done:
			t.Fatalf("the second push of the device took the lock while the first held it (err %v)", err)
		default:
		}
		if err := db.Gorm.Raw(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the waiting push failed once the lock was free: %v", err)
	}
}
