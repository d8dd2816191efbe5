package server_test

import (
	"encoding/json"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// pushHTTP sends mutations from the named user's device through POST
// /v1/sync/push and returns the results.
func (o *office) pushHTTP(who string, muts ...wire.Mutation) []wire.MutationResult {
	o.t.Helper()
	body, err := json.Marshal(wire.PushRequest{Mutations: muts})
	if err != nil {
		o.t.Fatal(err)
	}
	var resp wire.PushResponse
	o.as(who, "POST", "/v1/sync/push", string(body), 200, &resp)
	if len(resp.Results) != len(muts) {
		o.t.Fatalf("push: %d results for %d mutations", len(resp.Results), len(muts))
	}
	return resp.Results
}

// TestRecreate_VersionsNeverGoBackwards: a row re-created under the id of a
// deleted one, on every path that can, continues from the tombstone's version
// instead of starting again at 1, so a device that saw the delete (or the old
// row) takes the new row as newer. Before, push creates of visits were logged
// at version 1 behind their tombstone (devices never got them), orders and
// notes failed their batch, and planning answered 500.
func TestRecreate_VersionsNeverGoBackwards(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		rows := map[string]map[string]any{
			"visits":        {"account_id": o.acc1, "planned_at": "2026-11-25T09:00:00Z"},
			"orders":        {"account_id": o.acc1},
			"account_notes": {"account_id": o.acc1, "body": "call back"},
		}
		for table, row := range rows {
			t.Run(table+"/AcrossPushes", func(t *testing.T) {
				o := o.in(t)
				id := uuid.NewString()
				device := o.mirror("rep1")
				if r := o.pushHTTP("rep1", mutation(table, "upsert", id, 0, row))[0]; r.Status != wire.StatusApplied || r.Version != 1 {
					t.Fatalf("create: %+v", r)
				}
				device.hasVersion(table, id, 1)
				if r := o.pushHTTP("rep1", mutation(table, "delete", id, 1, nil))[0]; r.Status != wire.StatusApplied || r.Version != 2 {
					t.Fatalf("delete: %+v", r)
				}
				device.lacks(table, id)
				r := o.pushHTTP("rep1", mutation(table, "upsert", id, 0, row))[0]
				if r.Status != wire.StatusApplied || r.Version != 3 {
					t.Fatalf("re-create: %+v, want applied at version 3", r)
				}
				device.hasVersion(table, id, 3)
				o.mirror("rep1").hasVersion(table, id, 3) // and a device syncing from scratch
			})
			t.Run(table+"/InOneBatch", func(t *testing.T) {
				o := o.in(t)
				id := uuid.NewString()
				res := o.pushHTTP("rep1", mutation(table, "upsert", id, 0, row), mutation(table, "delete", id, 1, nil),
					mutation(table, "upsert", id, 0, row))
				if res[0].Version != 1 || res[1].Version != 2 || res[2].Status != wire.StatusApplied || res[2].Version != 3 {
					t.Fatalf("create, delete, re-create in one batch: %+v", res)
				}
				o.mirror("rep1").hasVersion(table, id, 3)
			})
		}
		t.Run("Planning", func(t *testing.T) {
			o := o.in(t)
			id := uuid.NewString()
			o.pushHTTP("rep1", mutation("visits", "upsert", id, 0, rows["visits"]))
			o.pushHTTP("rep1", mutation("visits", "delete", id, 1, nil))
			var v domain.Visit
			o.as("mgr", "POST", "/v1/visits", planBody(map[string]any{"id": id, "account_id": o.acc1, "rep_id": o.rep1,
				"planned_at": "2026-11-27T09:00:00Z"}), 201, &v)
			if v.Version != 3 {
				t.Errorf("planned under a deleted id at version %d, want 3", v.Version)
			}
			o.mirror("rep1").hasVersion("visits", id, 3)
			// The id is taken again: planning it once more is a conflict, not a 500.
			o.failsAs("mgr", "POST", "/v1/visits", planBody(map[string]any{"id": id, "account_id": o.acc1, "rep_id": o.rep1,
				"planned_at": "2026-11-27T09:00:00Z"}), 409, domain.CodeConflict)
		})
		t.Run("ManagerPush", func(t *testing.T) {
			o := o.in(t)
			id := uuid.NewString()
			o.pushHTTP("rep1", mutation("visits", "upsert", id, 0, rows["visits"]))
			o.pushHTTP("rep1", mutation("visits", "delete", id, 1, nil))
			r := o.pushHTTP("mgr", mutation("visits", "upsert", id, 0, map[string]any{"account_id": o.acc1, "rep_id": o.rep1,
				"planned_at": "2026-11-28T09:00:00Z"}))[0]
			if r.Status != wire.StatusApplied || r.Version != 3 {
				t.Fatalf("manager re-plans a deleted visit: %+v", r)
			}
		})
	})
}
