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

// deletedRowConflict: a rep deletes a row on one device while another device
// of theirs edits it offline with row; the edit is kept as a conflict.
func (o *office) deletedRowConflict(rep, table string, create, row map[string]any) string {
	o.t.Helper()
	id := uuid.NewString()
	o.pushOne(rep, mutation(table, "upsert", id, 0, create), wire.StatusApplied)
	o.pushOne(rep, mutation(table, "delete", id, 1, nil), wire.StatusApplied)
	r := o.push(rep, "other-device", mutation(table, "upsert", id, 1, row))[0]
	if r.Status != wire.StatusConflict {
		o.t.Fatalf("edit of a deleted %s: %+v", table, r)
	}
	return r.ConflictID
}

// TestConflicts_ResolutionKeepsWritersRules: a resolution writes the original
// writer's change with the resolver's approval, never with the resolver's
// rights: what the rep's device recorded cannot make a note another user's,
// credit a visit to another rep, or move an order through the coordinator's
// transitions; and ops, who resolve nothing, cannot either.
func TestConflicts_ResolutionKeepsWritersRules(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		t.Run("NoteStaysTheWriters", func(t *testing.T) {
			o := o.in(t)
			id := o.deletedRowConflict("rep1", "account_notes", map[string]any{"account_id": o.acc1, "body": "first"},
				map[string]any{"account_id": o.acc1, "author_id": o.mgr2, "body": "signed by someone else"})
			got := o.resolve("mgr", id, map[string]any{"resolution": "take_device"}, 200)
			var row domain.AccountNote
			if err := json.Unmarshal(got.Row, &row); err != nil {
				t.Fatal(err)
			}
			if row.AuthorID != o.rep1 {
				t.Errorf("the resolved note's author is %s, want the rep who wrote it (%s)", row.AuthorID, o.rep1)
			}
		})
		t.Run("VisitStaysTheWriters", func(t *testing.T) {
			o := o.in(t)
			id := o.deletedRowConflict("rep1", "visits", map[string]any{"account_id": o.acc1, "planned_at": "2026-11-25T09:00:00Z"},
				map[string]any{"account_id": o.acc1, "rep_id": o.rep3, "planned_at": "2026-11-25T09:00:00Z", "status": "completed",
					"checked_in_at": "2026-11-25T09:05:00Z", "checked_out_at": "2026-11-25T09:45:00Z", "report": "for rep3's numbers"})
			got := o.resolve("mgr", id, map[string]any{"resolution": "take_device"}, 200)
			var row domain.Visit
			if err := json.Unmarshal(got.Row, &row); err != nil {
				t.Fatal(err)
			}
			if row.RepID != o.rep1 {
				t.Errorf("the resolved visit is credited to %s, want the rep who made it (%s)", row.RepID, o.rep1)
			}
		})
		t.Run("ErrCustomAccountOutsideWritersScope", func(t *testing.T) {
			o := o.in(t)
			// rep1's note, recreated by mgr on rep2's account: rep1 never could.
			id := o.deletedRowConflict("rep1", "account_notes", map[string]any{"account_id": o.acc1, "body": "first"},
				map[string]any{"body": "second"})
			body := `{"resolution":"custom","row":{"account_id":"` + o.acc2 + `","body":"moved"}}`
			o.failsAs("mgr", "POST", "/v1/conflicts/"+id+"/resolve", body, 403, domain.CodeForbidden)
			if s := o.conflictStatus(id); s != "open" {
				t.Errorf("a refused resolution left the conflict %s", s)
			}
		})
		t.Run("ErrManagerMovesOrderThroughDesk", func(t *testing.T) {
			o := o.in(t)
			_, id := o.confirmedConflict("rep1", o.acc1)
			for _, to := range []string{"shipped", "delivered"} {
				body := `{"resolution":"custom","row":{"status":"` + to + `"}}`
				o.failsAs("mgr", "POST", "/v1/conflicts/"+id+"/resolve", body, 403, domain.CodeForbidden)
			}
			// Nor may the coordinator ship through the rep's conflict: the rep
			// could not; the desk is where orders ship.
			o.failsAs("coord1", "POST", "/v1/conflicts/"+id+"/resolve", `{"resolution":"custom","row":{"status":"shipped"}}`, 403, domain.CodeForbidden)
			if s := o.conflictStatus(id); s != "open" {
				t.Errorf("refused resolutions left the conflict %s", s)
			}
		})
		t.Run("ErrOpsResolve", func(t *testing.T) {
			o := o.in(t)
			_, id := o.confirmedConflict("rep1", o.acc1)
			o.failsAs("ops", "POST", "/v1/conflicts/"+id+"/resolve", `{"resolution":"keep_server"}`, 403, domain.CodeForbidden)
		})
	})
}
