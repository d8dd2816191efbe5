package store_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// TestLoadOwnPart_SameAsTwoStatements: the one-statement load a pull uses
// gives the viewer and territory nodes the two-statement load gives, for a
// rep with two territories, a manager, a director, a user with no territory
// and an unknown user, on both databases.
func TestLoadOwnPart_SameAsTwoStatements(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		r, t1, t1a, t2, s := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
		mgr, rep, dir, none := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			for _, tr := range []domain.Territory{{ID: r, Name: "R"}, {ID: s, Name: "S"}, {ID: t1, Name: "T1", ParentID: &r},
				{ID: t1a, Name: "T1a", ParentID: &t1}, {ID: t2, Name: "T2", ParentID: &r}} {
				if _, err := store.CreateTerritory(tx, tr); err != nil {
					return err
				}
			}
			for _, u := range []domain.User{{ID: mgr, Name: "M", Role: domain.RoleManager, TerritoryIDs: []string{r}},
				{ID: rep, Name: "R", Role: domain.RoleRep, TerritoryIDs: []string{t1a, t2}},
				{ID: dir, Name: "D", Role: domain.RoleDirector, TerritoryIDs: []string{s}},
				{ID: none, Name: "N", Role: domain.RoleRep}} {
				if _, err := store.CreateUser(tx, store.UserRecord{User: u, Email: u.ID + "@x.io", PasswordHash: "x"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		tx := db.Autocommit(context.Background())
		byID := func(n []domain.TerritoryNode) []domain.TerritoryNode {
			slices.SortFunc(n, func(a, b domain.TerritoryNode) int {
				if a.ID < b.ID {
					return -1
				}
				return 1
			})
			return n
		}
		for _, id := range []string{mgr, rep, dir, none, uuid.NewString(), "not-a-uuid"} {
			v1, nodes1, err := store.LoadOwnPart(tx, id)
			if err != nil {
				t.Fatal(err)
			}
			v2, err := store.LoadViewer(tx, id)
			if err != nil {
				t.Fatal(err)
			}
			var roots []string
			if v2.Found && v2.Role != domain.RoleDirector && v2.Role != domain.RoleOps {
				roots = v2.Assigned
			}
			nodes2, err := store.TerritoryNodes(tx, roots, false)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v1, v2) {
				t.Errorf("user %s: viewer %+v, want %+v", id, v1, v2)
			}
			if (len(nodes1) > 0 || len(nodes2) > 0) && !reflect.DeepEqual(byID(nodes1), byID(nodes2)) {
				t.Errorf("user %s: nodes %+v, want %+v", id, nodes1, nodes2)
			}
		}
	})
}
