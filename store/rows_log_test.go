package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// txFn is the transaction type the store's functions take: one alias, so a
// change of that type touches one line of these tests.
type txFn = func(tx *store.Tx) error

func inTx(t *testing.T, db *store.DB, fn txFn) {
	t.Helper()
	if err := db.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// smallOrg creates a territory, a rep in it and an account, and returns them.
func smallOrg(t *testing.T, db *store.DB) (territory, rep string, acc domain.Account) {
	t.Helper()
	territory, rep = uuid.NewString(), uuid.NewString()
	inTx(t, db, func(tx *store.Tx) error {
		now := db.Now()
		if _, err := store.CreateTerritory(tx.At(now), domain.Territory{ID: territory, Name: "North"}); err != nil {
			return err
		}
		if _, err := store.CreateUser(tx.At(now), store.UserRecord{User: domain.User{ID: rep, Name: "Rita", Role: domain.RoleRep,
			TerritoryIDs: []string{territory}}, Email: rep + "@x.io", PasswordHash: "x"}); err != nil {
			return err
		}
		var err error
		acc, err = store.CreateAccount(tx.At(now), domain.Account{ID: uuid.NewString(), Name: "Acme", TerritoryID: territory, Class: "A", Status: "active"})
		return err
	})
	return territory, rep, acc
}

// TestLogChange_OneLiveEntryPerKeyAndTombstones: a row's entries are replaced
// on every write (one per scope key), a key it loses leaves an out_of_scope
// tombstone, and a delete turns its entries into "deleted" tombstones that
// DeletedRowKeys finds.
func TestLogChange_OneLiveEntryPerKeyAndTombstones(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		id := uuid.NewString()
		log := func(c store.Change) {
			c.Table, c.RowID = domain.TableVisits, id
			inTx(t, db, func(tx *store.Tx) error { return store.LogChange(tx, c) })
		}
		log(store.Change{Version: 1, Keys: []string{"t:a", "t:b"}, Created: true})
		if got, want := entries(t, db, id), []string{"upsert t:a", "upsert t:b"}; !slices.Equal(got, want) {
			t.Fatalf("after create: %v, want %v", got, want)
		}
		log(store.Change{Version: 2, Keys: []string{"t:b", "t:c"}})
		if got, want := entries(t, db, id), []string{"delete t:a out_of_scope", "upsert t:b", "upsert t:c"}; !slices.Equal(got, want) {
			t.Fatalf("after a key change: %v, want %v", got, want)
		}
		log(store.Change{Version: 3, Keys: []string{"t:b", "t:c"}})
		if got := entries(t, db, id); len(got) != 3 {
			t.Fatalf("a rewrite under the same keys must replace, not add: %v", got)
		}
		log(store.Change{Version: 4, Keys: []string{"t:b", "t:c"}, Deleted: true})
		got := entries(t, db, id)
		for _, e := range got {
			if strings.HasPrefix(e, "upsert") {
				t.Fatalf("a live upsert survived the delete: %v", got)
			}
		}
		var keys []string
		inTx(t, db, func(tx *store.Tx) error {
			var err error
			keys, err = store.DeletedRowKeys(tx, domain.TableVisits, id)
			return err
		})
		slices.Sort(keys)
		if want := []string{"t:b", "t:c"}; !slices.Equal(keys, want) {
			t.Fatalf("DeletedRowKeys = %v, want %v (entries %v)", keys, want, got)
		}
		inTx(t, db, func(tx *store.Tx) error {
			var err error
			keys, err = store.DeletedRowKeys(tx, domain.TableVisits, uuid.NewString())
			return err
		})
		if len(keys) != 0 {
			t.Fatalf("DeletedRowKeys of an id never used = %v", keys)
		}
	})
}

// TestRecreate_VersionContinuesAfterDelete: re-creating a deleted visit's id
// takes the version after its tombstone, never 1 again, and replaces the
// tombstone with a live entry.
func TestRecreate_VersionContinuesAfterDelete(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		_, rep, acc := smallOrg(t, db)
		v := domain.Visit{ID: uuid.NewString(), AccountID: acc.ID, RepID: rep, Status: domain.VisitPlanned, PlannedAt: db.Now()}
		inTx(t, db, func(tx *store.Tx) error {
			created, err := store.CreateVisit(tx, acc, v)
			if err != nil {
				return err
			}
			return store.DeleteVisit(tx, acc, created)
		})
		var logged map[string]bool
		var again domain.Visit
		inTx(t, db, func(tx *store.Tx) error {
			var err error
			if logged, err = store.LoggedIDs(tx, domain.TableVisits, []string{v.ID, uuid.NewString()}); err != nil {
				return err
			}
			again, err = store.CreateVisit(tx, acc, v)
			return err
		})
		if len(logged) != 1 || !logged[v.ID] {
			t.Fatalf("LoggedIDs = %v, want only the deleted visit", logged)
		}
		if again.Version <= 1 {
			t.Fatalf("re-created visit has version %d; a device holding the tombstone would ignore it", again.Version)
		}
		if got, want := entries(t, db, v.ID), []string{"upsert t:" + acc.TerritoryID}; !slices.Equal(got, want) {
			t.Fatalf("entries after re-create: %v, want %v", got, want)
		}
		inTx(t, db, func(tx *store.Tx) error {
			got, _, err := store.GetVisit(tx, v.ID, false)
			if err == nil && got.Version != again.Version {
				t.Errorf("stored version %d, returned %d", got.Version, again.Version)
			}
			return err
		})
	})
}

// TestTranslate_RealConstraintErrors: errors raised by the databases themselves
// (not built by hand) come out as the contract's codes, on both dialects: a
// duplicate is a conflict, a missing row not_found, and neither is internal.
func TestTranslate_RealConstraintErrors(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		territory, rep, _ := smallOrg(t, db)
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := store.CreateUser(tx, store.UserRecord{User: domain.User{ID: uuid.NewString(), Name: "Twin",
				Role: domain.RoleRep, TerritoryIDs: []string{territory}}, Email: rep + "@x.io", PasswordHash: "x"})
			return err
		})
		if code := domain.ErrorCode(err); code != domain.CodeConflict {
			t.Errorf("duplicate email: %v (code %s), want conflict", err, code)
		}
		err = db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := store.CreateTerritory(tx, domain.Territory{ID: territory, Name: "Again"})
			return err
		})
		if code := domain.ErrorCode(err); code != domain.CodeConflict {
			t.Errorf("duplicate territory id: %v (code %s), want conflict", err, code)
		}
		err = db.InTx(context.Background(), func(tx *store.Tx) error {
			_, _, err := store.GetVisit(tx, uuid.NewString(), false)
			return err
		})
		if code := domain.ErrorCode(err); code != domain.CodeNotFound {
			t.Errorf("unknown visit: %v (code %s), want not_found", err, code)
		}
		if store.IsRetryable(err) || store.IsRetryable(errors.New("plain")) {
			t.Error("not_found and plain errors are not retryable")
		}
	})
}
