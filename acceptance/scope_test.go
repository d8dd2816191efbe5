package acceptance

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
)

// history is what a rep recorded on one account: a completed visit, an order
// and a note.
type history struct{ account, visit, order, note string }

func (h history) keys() []string {
	return []string{"accounts/" + h.account, "visits/" + h.visit, "orders/" + h.order, "account_notes/" + h.note}
}

// record makes c's user record a history on account and syncs it.
func (e *env) record(c *device.Client, account string) history {
	e.t.Helper()
	ctx := context.Background()
	v, err := c.PlanVisit(ctx, account, day)
	must(e.t, err)
	_, err = c.CheckIn(ctx, v.ID, day.Add(time.Minute), 52.52, 13.40)
	must(e.t, err)
	_, err = c.CheckOut(ctx, v.ID, day.Add(30*time.Minute), "order", "Good talk")
	must(e.t, err)
	o, err := c.DraftOrder(ctx, account, &v.ID, []domain.OrderLine{{ProductID: e.p1, Quantity: 2}}, "")
	must(e.t, err)
	n, err := c.AddNote(ctx, account, "Prefers morning deliveries")
	must(e.t, err)
	e.sync(c)
	return history{account: account, visit: v.ID, order: o.ID, note: n.ID}
}

// recorded opens a synced device for user whose later pull pages are kept.
func (e *env) recorded(user string) (*device.Client, *recorder) {
	e.t.Helper()
	rec := newRecorder()
	c := e.synced(user, withTransport(rec))
	rec.take()
	return c, rec
}

// wantLeft fails unless changes delete each key with reason out_of_scope.
func wantLeft(t *testing.T, who string, changes []wire.Change, keys ...string) {
	t.Helper()
	dels := deletesOf(changes)
	for _, k := range keys {
		if dels[k] != "out_of_scope" {
			t.Errorf("%s: want a delete of %s with reason out_of_scope, got %q", who, k, dels[k])
		}
	}
}

// wantEntered fails unless changes upsert each key at its current version.
func (e *env) wantEntered(who, user string, changes []wire.Change, keys ...string) {
	e.t.Helper()
	ups, oracle := upsertsOf(changes), e.serverScope(user)
	for _, k := range keys {
		table, id := splitKey(k)
		want, ok := oracle[table][id]
		if !ok {
			e.t.Fatalf("%s is not in the scope of %s", k, who)
		}
		if ups[k] != want.Version {
			e.t.Errorf("%s: want an upsert of %s at version %d, got version %d", who, k, want.Version, ups[k])
		}
	}
}

func (e *env) opsPatch(path string, body any) {
	e.t.Helper()
	tok := e.token(e.ops, "ops-laptop")
	e.ok(http.MethodPatch, path, tok, body, http.StatusOK, nil)
}

// TestSync_ScopeAccountMoved: an account moved to another territory leaves the
// old territory's devices (deletes with reason out_of_scope, history included)
// and reaches the new territory's devices with its history (§4.1 guarantee 3).
func TestSync_ScopeAccountMoved(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		rep1, rec1 := e.recorded(e.rep1)
		rep2, rec2 := e.recorded(e.rep2)
		h := e.record(rep1, e.a1)
		rec1.take()
		e.opsPatch("/v1/admin/accounts/"+e.a1, map[string]any{"territory_id": e.t2})
		e.sync(rep1)
		e.sync(rep2)
		left := rec1.take()
		wantLeft(t, "rep1", left, h.keys()...)
		e.wantEntered("rep2", e.rep2, rec2.take(), h.keys()...)
		if _, ok := deletesOf(left)["accounts/"+e.a1b]; ok {
			t.Error("a1b did not move but rep1 got a delete for it")
		}
		e.converged(rep1)
		e.converged(rep2)
	})
}

// TestSync_ScopeOwnerChanged: a key account given to another owner leaves the
// old owner's device and reaches the new owner's, history included; the
// territory's rep keeps it.
func TestSync_ScopeOwnerChanged(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		rep1, rec1 := e.recorded(e.rep1)
		rep3, rec3 := e.recorded(e.rep3)
		rep2, rec2 := e.recorded(e.rep2)
		h := e.record(rep1, e.key)
		rec1.take()
		rec2.take()
		e.opsPatch("/v1/admin/accounts/"+e.key, map[string]any{"owner_id": e.rep3})
		for _, c := range []*device.Client{rep1, rep2, rep3} {
			e.sync(c)
			e.converged(c)
		}
		wantLeft(t, "rep1", rec1.take(), h.keys()...)
		e.wantEntered("rep3", e.rep3, rec3.take(), h.keys()...)
		if d := deletesOf(rec2.take()); len(d) > 0 {
			t.Errorf("rep2 still sees the account through T2 but got deletes %v", d)
		}
	})
}

// TestSync_ScopeTerritoriesReplaced: ops replaces a rep's territories through
// PATCH /v1/admin/users/{id}; the rep's device loses the old territory's
// accounts and their history, keeps the owned key account and gains the new
// territory with its history.
func TestSync_ScopeTerritoriesReplaced(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		rep1, rec1 := e.recorded(e.rep1)
		rep2 := e.synced(e.rep2)
		mine := e.record(rep1, e.a1)
		theirs := e.record(rep2, e.a2)
		e.sync(rep1)
		rec1.take()
		e.opsPatch("/v1/admin/users/"+e.rep1, map[string]any{"territory_ids": []string{e.t2}})
		e.sync(rep1)
		got := rec1.take()
		wantLeft(t, "rep1", got, append(mine.keys(), "accounts/"+e.a1b)...)
		e.wantEntered("rep1", e.rep1, got, theirs.keys()...)
		if _, err := rep1.Account(context.Background(), e.key); err != nil {
			t.Errorf("rep1 owns the key account and must keep it: %v", err)
		}
		e.converged(rep1)
		mirrorsEqual(t, rep1, e.synced(e.rep1))
	})
}

// TestSync_ScopeRepPromoted: a rep promoted to manager of the region gets the
// whole region, history included, and converges. The role change ends the
// rep's token (docs/api.md, "Sessions and deactivation"): the device signs in
// again and keeps its mirror.
func TestSync_ScopeRepPromoted(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		rep1, rec1 := e.recorded(e.rep1)
		rep2 := e.synced(e.rep2)
		theirs := e.record(rep2, e.a2)
		rec1.take()
		e.opsPatch("/v1/admin/users/"+e.rep1, map[string]any{"role": "manager", "territory_ids": []string{e.region}})
		if _, err := rep1.Sync(context.Background()); err == nil {
			t.Fatal("the token issued to the rep still syncs after the role change")
		}
		if _, err := rep1.Login(context.Background(), e.email[e.rep1], password); err != nil {
			t.Fatalf("sign-in after the role change: %v", err)
		}
		rec1.take()
		e.sync(rep1)
		e.wantEntered("rep1", e.rep1, rec1.take(), theirs.keys()...)
		e.converged(rep1)
		mirrorsEqual(t, rep1, e.synced(e.mgr))
	})
}

// TestSync_DeleteReasons: a delete says why the row went: deleted on the
// server, or out of the user's scope while it still exists.
func TestSync_DeleteReasons(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rep1 := e.synced(e.rep1)
		v, err := rep1.PlanVisit(ctx, e.a1, day)
		must(t, err)
		e.sync(rep1)
		rep3, rec3 := e.recorded(e.rep3)
		must(t, rep1.DeleteVisit(ctx, v.ID))
		e.sync(rep1)
		e.opsPatch("/v1/admin/products/"+e.p2, map[string]any{"active": false})
		rep := e.sync(rep3)
		dels := deletesOf(rec3.take())
		if dels["visits/"+v.ID] != "deleted" || dels["products/"+e.p2] != "out_of_scope" {
			t.Errorf("deletes = %v: want the visit deleted and the deactivated product out_of_scope", dels)
		}
		if rep.Deleted != 1 || rep.OutOfScope != 1 {
			t.Errorf("SyncReport counts deleted=%d out_of_scope=%d, want 1 and 1", rep.Deleted, rep.OutOfScope)
		}
		e.converged(rep3)
	})
}
