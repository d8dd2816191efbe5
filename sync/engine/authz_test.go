package engine_test

import (
	"reflect"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// sameAnswer compares two results, ignoring what always differs between any two answers (the mutation id).
func sameAnswer(a, b wire.MutationResult) bool {
	a.MutationID, b.MutationID = "", ""
	return reflect.DeepEqual(a, b)
}

// TestPush_OutOfScopeAnswersAsUnknown: an edit or delete of a row outside the
// pusher's scope is answered exactly as the same mutation of an id that names
// no row, so a push cannot probe for rows the user may not see. An edit of a
// row that never existed is not found (not a conflict a resolver could be
// made to write).
func TestPush_OutOfScopeAnswersAsUnknown(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		visit, order, note := uuid.NewString(), uuid.NewString(), uuid.NewString()
		for _, r := range o.push(t, o.rep2,
			mut("visits", "upsert", visit, 0, map[string]any{"account_id": o.acc2, "planned_at": "2026-11-23T09:00:00Z"}),
			mut("orders", "upsert", order, 0, map[string]any{"account_id": o.acc2}),
			mut("account_notes", "upsert", note, 0, map[string]any{"account_id": o.acc2, "body": "rep2's"}),
		) {
			if r.Status != wire.StatusApplied {
				t.Fatalf("setup: %+v", r)
			}
		}
		conflictsBefore := countRows(t, db, "conflicts")
		logBefore := countRows(t, db, "change_log")
		for table, id := range map[string]string{"visits": visit, "orders": order, "account_notes": note} {
			edit := map[string]any{"body": "mine now"}
			if table != "account_notes" {
				edit = map[string]any{"status": "cancelled"}
			}
			for _, op := range []string{"upsert", "delete"} {
				row := edit
				if op == "delete" {
					row = nil
				}
				hidden := o.push(t, o.rep1, mut(table, op, id, 1, row))[0]
				unknown := o.push(t, o.rep1, mut(table, op, uuid.NewString(), 1, row))[0]
				if !sameAnswer(hidden, unknown) {
					t.Errorf("%s %s: out of scope %+v %+v, unknown id %+v %+v", table, op, hidden, hidden.Error, unknown, unknown.Error)
				}
				if op == "upsert" && (unknown.Status != wire.StatusRejected || unknown.Error.Code != string(domain.CodeNotFound)) {
					t.Errorf("%s: an edit of a row that never existed = %+v, want rejected not_found", table, unknown)
				}
			}
		}
		// A create reusing the id of a row out of scope cannot look like a
		// create of a free id; it is refused as an id in use.
		if r := o.push(t, o.rep1, mut("visits", "upsert", visit, 0, map[string]any{"account_id": o.acc1,
			"planned_at": "2026-11-23T09:00:00Z"}))[0]; r.Status != wire.StatusRejected || r.Error.Code != string(domain.CodeConflict) {
			t.Errorf("create over an out-of-scope id = %+v %+v, want rejected conflict", r, r.Error)
		}
		if n := countRows(t, db, "conflicts"); n != conflictsBefore {
			t.Errorf("%d conflicts recorded for edits of rows that never existed or are out of scope", n-conflictsBefore)
		}
		if n := countRows(t, db, "change_log"); n != logBefore {
			t.Error("a mutation out of scope changed data")
		}

		// A row that did exist and was deleted since the device's copy is a
		// conflict, so no write is lost.
		mine := uuid.NewString()
		o.push(t, o.rep1, mut("account_notes", "upsert", mine, 0, map[string]any{"account_id": o.acc1, "body": "first"}))
		o.push(t, o.rep1, mut("account_notes", "delete", mine, 1, nil))
		if r := o.push(t, o.rep1, mut("account_notes", "upsert", mine, 1, map[string]any{"body": "second"}))[0]; r.Status != wire.StatusConflict {
			t.Errorf("edit of a deleted note = %+v, want conflict", r)
		}
		// ... but another user's deleted row outside the scope is not found.
		theirs := uuid.NewString()
		o.push(t, o.rep2, mut("account_notes", "upsert", theirs, 0, map[string]any{"account_id": o.acc2, "body": "first"}))
		o.push(t, o.rep2, mut("account_notes", "delete", theirs, 1, nil))
		if r := o.push(t, o.rep1, mut("account_notes", "upsert", theirs, 1, map[string]any{"body": "x"}))[0]; r.Status != wire.StatusRejected || r.Error.Code != string(domain.CodeNotFound) {
			t.Errorf("edit of a deleted note out of scope = %+v, want rejected not_found", r)
		}
	})
}

// TestPush_ManagerPlansOnly: a manager's device may plan visits for the reps
// of their territories and nothing else (docs/protocol.md §2).
func TestPush_ManagerPlansOnly(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		repVisit, repNote := uuid.NewString(), uuid.NewString()
		o.push(t, o.rep1, planVisit(o, repVisit),
			mut("account_notes", "upsert", repNote, 0, map[string]any{"account_id": o.acc1, "body": "rep's"}))
		planned := uuid.NewString()
		if r := o.push(t, o.mgr, mut("visits", "upsert", planned, 0, map[string]any{"account_id": o.acc1,
			"rep_id": o.rep1, "planned_at": "2026-11-24T09:00:00Z"}))[0]; r.Status != wire.StatusApplied {
			t.Fatalf("manager plans a visit: %+v %+v", r, r.Error)
		}
		before := countRows(t, db, "change_log")
		cases := []struct {
			name string
			m    wire.Mutation
		}{
			{"completed visit with a report", mut("visits", "upsert", uuid.NewString(), 0, map[string]any{"account_id": o.acc1,
				"rep_id": o.rep1, "planned_at": "2026-11-24T09:00:00Z", "status": "completed",
				"checked_in_at": "2026-11-24T09:00:00Z", "checked_out_at": "2026-11-24T09:30:00Z", "report": "invented"})},
			{"planned visit with a report", mut("visits", "upsert", uuid.NewString(), 0, map[string]any{"account_id": o.acc1,
				"rep_id": o.rep1, "planned_at": "2026-11-24T09:00:00Z", "report": "invented"})},
			{"edit of a rep's visit", mut("visits", "upsert", repVisit, 1, map[string]any{"report": "rewritten"})},
			{"re-send over a rep's visit", mut("visits", "upsert", repVisit, 0, map[string]any{"report": "rewritten"})},
			{"delete of a rep's visit", mut("visits", "delete", repVisit, 1, nil)},
			{"edit of own planned visit", mut("visits", "upsert", planned, 1, map[string]any{"planned_at": "2026-11-25T09:00:00Z"})},
			{"edit of a rep's note", mut("account_notes", "upsert", repNote, 1, map[string]any{"body": "rewritten"})},
			{"note", mut("account_notes", "upsert", uuid.NewString(), 0, map[string]any{"account_id": o.acc1, "body": "mine"})},
			{"order", mut("orders", "upsert", uuid.NewString(), 0, map[string]any{"account_id": o.acc1})},
			{"account contact", mut("accounts", "upsert", o.acc1, 1, map[string]any{"phone": "+49 30 1"})},
		}
		for _, c := range cases {
			r := o.push(t, o.mgr, c.m)[0]
			if r.Status != wire.StatusRejected || r.Error.Code != string(domain.CodeForbidden) {
				t.Errorf("%s: %+v %+v, want rejected forbidden", c.name, r, r.Error)
			}
		}
		if countRows(t, db, "change_log") != before {
			t.Error("a refused manager push changed data")
		}
	})
}
