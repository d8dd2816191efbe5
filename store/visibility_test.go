package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// TestLoadVisibility: the store loads the user's role and territories and the
// part of the tree the rule needs (below the assigned territories and above
// them, and a named focus), on both databases.
func TestLoadVisibility(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx, now := context.Background(), db.Now()
		// R → T1 → T1a, R → T2; S → T3.
		r, t1, t1a, t2, s, t3 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
		mgr, rep, dir := uuid.NewString(), uuid.NewString(), uuid.NewString()
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, tr := range []domain.Territory{{ID: r, Name: "R"}, {ID: s, Name: "S"}, {ID: t1, Name: "T1", ParentID: &r},
				{ID: t1a, Name: "T1a", ParentID: &t1}, {ID: t2, Name: "T2", ParentID: &r}, {ID: t3, Name: "T3", ParentID: &s}} {
				if _, err := store.CreateTerritory(tx.At(now), tr); err != nil {
					return err
				}
			}
			for _, u := range []domain.User{{ID: mgr, Name: "M", Role: domain.RoleManager, TerritoryIDs: []string{t1}},
				{ID: rep, Name: "R", Role: domain.RoleRep, TerritoryIDs: []string{t1a, t2}},
				{ID: dir, Name: "D", Role: domain.RoleDirector}} {
				if _, err := store.CreateUser(tx.At(now), store.UserRecord{User: u, Email: u.ID + "@x.io", PasswordHash: "x"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		load := func(q store.VisibilityQuery) domain.Visibility {
			t.Helper()
			v, err := store.LoadVisibility(db.Autocommit(context.Background()), q)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		sorted := func(ids ...string) []string { slices.Sort(ids); return ids }

		m := load(store.VisibilityQuery{UserID: mgr})
		if !m.Found || m.Role != domain.RoleManager || !slices.Equal(m.Territories, sorted(t1, t1a)) {
			t.Errorf("manager: %+v", m)
		}
		if got := m.Tree.IDs(); !slices.Equal(got, sorted(r, t1, t1a)) {
			t.Errorf("manager's tree = %v, want the subtree and the region above it", got)
		}
		if m.Tree.Name(t1a) != "T1a" || m.Tree.Parent(t1a) == nil || *m.Tree.Parent(t1a) != t1 {
			t.Errorf("manager's tree lacks names or parents")
		}
		if got := domain.ScopeFor(m).Keys; !slices.Contains(got, domain.TerritoryRowKey(r)) || slices.Contains(got, domain.TerritoryKey(r)) {
			t.Errorf("manager's sync keys = %v: want the region's row, not its rows", got)
		}

		rp := load(store.VisibilityQuery{UserID: rep})
		if !slices.Equal(rp.Territories, sorted(t1a, t2)) {
			t.Errorf("rep: %+v", rp)
		}

		d := load(store.VisibilityQuery{UserID: dir, Focus: s})
		if !d.All || !slices.Equal(d.Tree.IDs(), sorted(s, t3)) {
			t.Errorf("director with a focus: all %v, tree %v; want the focus's subtree only", d.All, d.Tree.IDs())
		}
		if in, err := d.Within(s); err != nil || !slices.Equal(in.Territories, sorted(s, t3)) {
			t.Errorf("director within S: %v, %v", in.Territories, err)
		}
		if _, err := load(store.VisibilityQuery{UserID: dir, Focus: uuid.NewString()}).Within(uuid.NewString()); domain.ErrorCode(err) != domain.CodeNotFound {
			t.Errorf("director within an unknown territory: %v", err)
		}
		if whole := load(store.VisibilityQuery{UserID: mgr, WholeTree: true}); len(whole.Tree.IDs()) < 6 ||
			!slices.Equal(whole.Territories, sorted(t1, t1a)) {
			t.Errorf("whole tree: %v, territories %v", whole.Tree.IDs(), whole.Territories)
		}

		for _, id := range []string{uuid.NewString(), "not-a-uuid", ""} {
			if v := load(store.VisibilityQuery{UserID: id, Focus: "nope"}); v.Found || !v.Empty() {
				t.Errorf("user %q: %+v, want nothing", id, v)
			}
		}
	})
}
