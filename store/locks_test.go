package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
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

// TestLockAccounts_LocksAndReads: LockAccounts returns each account as
// GetAccount reads it and holds its lock until the transaction ends: a share
// lock lets another transaction share-lock the row but not lock it for
// update, a write lock lets it do neither. Asked with NOWAIT, so a missing
// lock fails the test at once instead of by timing.
func TestLockAccounts_LocksAndReads(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	ctx := context.Background()
	_, _, shared := smallOrg(t, db)
	_, _, written := smallOrg(t, db)
	read := map[string]domain.Account{} // before the locks: GetAccount share-locks too
	for _, id := range []string{shared.ID, written.ID} {
		inTx(t, db, func(tx *store.Tx) error {
			a, _, err := store.GetAccount(tx, id, false)
			read[id] = a
			return err
		})
	}
	tx, err := db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	got, err := store.LockAccounts(tx, map[string]store.AccountLock{shared.ID: store.LockShare, written.ID: store.LockWrite})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, read) {
		t.Errorf("LockAccounts read %+v, GetAccount %+v", got, read)
	}
	try := func(id, lock string) error {
		return db.Gorm.Transaction(func(g *gorm.DB) error {
			return g.Exec("SELECT id FROM accounts WHERE id = ? FOR "+lock+" NOWAIT", id).Error
		})
	}
	if err := try(shared.ID, "SHARE"); err != nil {
		t.Errorf("a share-locked account refused another share lock: %v", err)
	}
	if try(shared.ID, "UPDATE") == nil {
		t.Error("a share-locked account could be locked for update")
	}
	if try(written.ID, "SHARE") == nil {
		t.Error("a write-locked account could be share-locked")
	}
}
