package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

func TestPull_InitialSyncHoldsExactlyTheScope(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		m := newMirror()
		o.syncAll(t, m, o.rep1)
		assertConverged(t, o, m, o.rep1)
		if !m.has("accounts", o.acc1) || m.has("accounts", o.acc2) {
			t.Fatalf("rep1 must see acc1 and not acc2: %v", m.versions()["accounts"])
		}
		if !m.has("territories", o.region) || m.has("territories", o.t2) {
			t.Errorf("rep1 sees its territory's ancestors, not the neighbour territory")
		}
		mgr := newMirror()
		o.syncAll(t, mgr, o.mgr)
		assertConverged(t, o, mgr, o.mgr)
		if !mgr.has("accounts", o.acc1) || !mgr.has("accounts", o.acc2) {
			t.Errorf("the manager of the region sees both territories")
		}
	})
}

func TestPull_IncrementalAndFreshMirrorsAreIdentical(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		inc := newMirror()
		o.syncAll(t, inc, o.rep1)
		visit := uuid.NewString()
		res := o.push(t, o.rep1, mut("visits", "upsert", visit, 0, map[string]any{"account_id": o.acc1, "planned_at": "2026-11-23T09:00:00Z"}))
		if res[0].Status != wire.StatusApplied {
			t.Fatalf("create visit: %+v", res[0])
		}
		o.syncAll(t, inc, o.rep1)
		o.push(t, o.rep1, mut("visits", "upsert", visit, 1, map[string]any{"status": "checked_in", "checked_in_at": "2026-11-23T09:05:00Z"}))
		note := uuid.NewString()
		o.push(t, o.rep1, mut("account_notes", "upsert", note, 0, map[string]any{"account_id": o.acc1, "body": "Call back in spring"}))
		o.syncAll(t, inc, o.rep1)
		o.push(t, o.rep1, mut("account_notes", "delete", note, 1, nil))
		o.syncAll(t, inc, o.rep1)
		fresh := newMirror()
		o.syncAll(t, fresh, o.rep1)
		assertConverged(t, o, inc, o.rep1)
		assertConverged(t, o, fresh, o.rep1)
		if inc.has("account_notes", note) {
			t.Errorf("deleted note still in the incremental mirror")
		}
		if inc.rows["visits"][visit].Version != 2 {
			t.Errorf("visit version %d, want 2", inc.rows["visits"][visit].Version)
		}
	})
}

func TestPull_AccountMoveSendsDeletesAndHistory(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		visit, order := uuid.NewString(), uuid.NewString()
		o.push(t, o.rep1,
			mut("visits", "upsert", visit, 0, map[string]any{"account_id": o.acc1, "planned_at": "2026-11-20T09:00:00Z"}),
			mut("orders", "upsert", order, 0, map[string]any{"account_id": o.acc1, "lines": []map[string]any{{"product_id": o.product, "quantity": 2}}}))
		m1, m2 := newMirror(), newMirror()
		o.syncAll(t, m1, o.rep1)
		o.syncAll(t, m2, o.rep2)
		if !m1.has("visits", visit) || m2.has("visits", visit) {
			t.Fatal("visit must be rep1's only")
		}
		o.write(t, func(tx *store.Tx, now time.Time) error {
			old, fv, err := store.GetAccount(tx, o.acc1, true)
			if err != nil {
				return err
			}
			moved := old
			moved.TerritoryID = o.t2
			_, err = store.UpdateAccount(tx, old, fv, moved)
			return err
		})
		o.syncAll(t, m1, o.rep1)
		o.syncAll(t, m2, o.rep2)
		assertConverged(t, o, m1, o.rep1)
		assertConverged(t, o, m2, o.rep2)
		for _, id := range []string{o.acc1, visit, order} {
			if m1.has("accounts", id) || m1.has("visits", id) || m1.has("orders", id) {
				t.Errorf("rep1 still holds %s after the move", id)
			}
		}
		reasons := map[string]string{}
		for _, d := range m1.deletes {
			reasons[d.ID] = d.Reason
		}
		for _, id := range []string{o.acc1, visit, order} {
			if reasons[id] != "out_of_scope" {
				t.Errorf("delete of %s has reason %q, want out_of_scope", id, reasons[id])
			}
		}
		if !m2.has("accounts", o.acc1) || !m2.has("visits", visit) || !m2.has("orders", order) {
			t.Errorf("rep2 must get the account with its history")
		}
	})
}

func TestPull_UserTerritoriesReplaced(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		visit := uuid.NewString()
		o.push(t, o.rep2, mut("visits", "upsert", visit, 0, map[string]any{"account_id": o.acc2, "planned_at": "2026-11-20T09:00:00Z"}))
		m := newMirror()
		o.syncAll(t, m, o.rep1)
		o.write(t, func(tx *store.Tx, now time.Time) error {
			old, err := store.GetUser(tx, o.rep1, true)
			if err != nil {
				return err
			}
			u := old
			u.TerritoryIDs = []string{o.t2}
			_, err = store.UpdateUser(tx, old, u)
			return err
		})
		o.syncAll(t, m, o.rep1)
		assertConverged(t, o, m, o.rep1)
		if m.resets != 0 {
			t.Errorf("a territory swap must arrive as changes, not a reset")
		}
		if m.has("accounts", o.acc1) || !m.has("accounts", o.acc2) || !m.has("visits", visit) {
			t.Errorf("after the swap rep1 must hold T2's accounts with history and not T1's")
		}
		var gotDelete bool
		for _, d := range m.deletes {
			if d.ID == o.acc1 && d.Reason == "out_of_scope" {
				gotDelete = true
			}
		}
		if !gotDelete {
			t.Errorf("no out_of_scope delete for the account rep1 lost")
		}
	})
}

func TestPull_RoleChangeRepToManager(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		m := newMirror()
		o.syncAll(t, m, o.rep1)
		o.write(t, func(tx *store.Tx, now time.Time) error {
			old, err := store.GetUser(tx, o.rep1, true)
			if err != nil {
				return err
			}
			u := old
			u.Role, u.TerritoryIDs = domain.RoleManager, []string{o.region}
			_, err = store.UpdateUser(tx, old, u)
			return err
		})
		o.syncAll(t, m, o.rep1)
		assertConverged(t, o, m, o.rep1)
		if !m.has("accounts", o.acc2) {
			t.Errorf("as manager of the region the user now sees T2's accounts")
		}
	})
}

func TestPull_BadCursorsReset(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		m := newMirror()
		o.syncAll(t, m, o.rep1)
		other := newMirror()
		o.syncAll(t, other, o.rep2)
		for name, cursor := range map[string]string{
			"malformed":    "!!not-a-cursor!!",
			"garbage b64":  "eyJ2IjoxfQ",
			"foreign user": other.cursor,
			"huge":         string(make([]byte, 5000)),
		} {
			resp, err := o.eng.Pull(context.Background(), o.actor(o.rep1), cursor, 1000)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !resp.Reset {
				t.Errorf("%s: want reset", name)
			}
			fresh := newMirror()
			fresh.apply(resp)
			if !resp.HasMore {
				assertConverged(t, o, fresh, o.rep1)
			}
		}
	})
}

func TestPull_CompactedCursorResets(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		m := newMirror()
		o.syncAll(t, m, o.rep1)
		note := uuid.NewString()
		o.push(t, o.rep1, mut("account_notes", "upsert", note, 0, map[string]any{"account_id": o.acc1, "body": "x"}))
		o.push(t, o.rep1, mut("account_notes", "delete", note, 1, nil))
		var removed int64
		o.write(t, func(tx *store.Tx, now time.Time) error {
			var err error
			removed, err = store.Compact(tx, now.Add(time.Hour))
			return err
		})
		if removed == 0 {
			t.Fatal("compaction removed no tombstone")
		}
		resp, err := o.eng.Pull(context.Background(), o.actor(o.rep1), m.cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !resp.Reset {
			t.Fatal("a cursor behind the compaction horizon must reset")
		}
	})
}
