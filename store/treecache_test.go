package store_test

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// TestTreeCache: the whole territory tree is loaded once and answered from
// memory until a territory is created, renamed, moved or deleted, which
// territory_tree_version (migration 00024) tells in the writing transaction;
// the next load then reads the tree as written, on both databases.
func TestTreeCache(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx, now := context.Background(), db.Now()
		r, t1, dir := uuid.NewString(), uuid.NewString(), uuid.NewString()
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := store.CreateTerritory(tx.At(now), domain.Territory{ID: r, Name: "R"}); err != nil {
				return err
			}
			u := domain.User{ID: dir, Name: "D", Role: domain.RoleDirector}
			_, err := store.CreateUser(tx.At(now), store.UserRecord{User: u, Email: dir + "@x.io", PasswordHash: "x"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		trees := &store.TreeCache{}
		load := func() domain.TerritoryTree {
			t.Helper()
			var v domain.Visibility
			err := db.ReadTx(ctx, func(tx *store.Tx) error {
				var err error
				v, err = store.LoadVisibility(tx, store.VisibilityQuery{UserID: dir, WholeTree: true, Trees: trees})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if !v.All {
				t.Fatalf("director does not see everything: %+v", v)
			}
			return v.Tree
		}
		write := func(fn func(tx *store.Tx) error) {
			t.Helper()
			if err := db.InTx(ctx, func(tx *store.Tx) error { return fn(tx.At(now)) }); err != nil {
				t.Fatal(err)
			}
		}

		if tr := load(); tr.Len() != 1 || trees.Loads() != 1 {
			t.Fatalf("first load: %d territories, %d loads", tr.Len(), trees.Loads())
		}
		load()
		if trees.Loads() != 1 {
			t.Errorf("unchanged tree loaded again: %d loads", trees.Loads())
		}
		write(func(tx *store.Tx) error {
			_, err := store.CreateTerritory(tx, domain.Territory{ID: t1, Name: "T1", ParentID: &r})
			return err
		})
		if tr := load(); tr.Len() != 2 || tr.Parent(t1) == nil || trees.Loads() != 2 {
			t.Errorf("after a create: %d territories, %d loads", tr.Len(), trees.Loads())
		}
		write(func(tx *store.Tx) error {
			old, err := store.GetTerritory(tx, t1, true)
			if err != nil {
				return err
			}
			nw := old
			nw.Name, nw.ParentID = "T1 renamed", nil
			_, err = store.UpdateTerritory(tx, old, nw)
			return err
		})
		if tr := load(); tr.Name(t1) != "T1 renamed" || tr.Parent(t1) != nil || trees.Loads() != 3 {
			t.Errorf("after a rename and move: %q under %v, %d loads", tr.Name(t1), tr.Parent(t1), trees.Loads())
		}
		if err := db.Gorm.Exec("DELETE FROM territories WHERE id = ?", t1).Error; err != nil {
			t.Fatal(err)
		}
		if tr := load(); tr.Has(t1) || trees.Loads() != 4 {
			t.Errorf("after a delete: still holds it (%v), %d loads", tr.Has(t1), trees.Loads())
		}
		load()
		if trees.Loads() != 4 {
			t.Errorf("unchanged tree loaded again: %d loads", trees.Loads())
		}
	})
}
