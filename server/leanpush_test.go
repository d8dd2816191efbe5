package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// TestPush_LeanAndFullResults: applied results are lean by default (fields the
// device did not send, no id or version, no nulls it did not name), whole rows
// when the request asks for "full"; merged results keep the whole row; an
// unknown shape is refused.
func TestPush_LeanAndFullResults(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		push := func(results string, muts ...wire.Mutation) []wire.MutationResult {
			t.Helper()
			body, _ := json.Marshal(wire.PushRequest{Mutations: muts, Results: results})
			var resp wire.PushResponse
			o.as("rep1", "POST", "/v1/sync/push", string(body), 200, &resp)
			return resp.Results
		}
		visit := func() wire.Mutation {
			return mutation("visits", "upsert", uuid.NewString(), 0,
				map[string]any{"account_id": o.acc1, "planned_at": "2026-11-23T08:00:00Z", "status": "planned"})
		}
		lean := push("", visit())[0]
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(lean.Fields, &fields); lean.Status != "applied" || len(lean.Row) != 0 || err != nil {
			t.Fatalf("lean create: %+v", lean)
		}
		for _, k := range []string{"id", "version", "account_id", "planned_at", "status", "checked_in_at", "report"} {
			if _, has := fields[k]; has {
				t.Errorf("lean fields hold %s, which the device has: %s", k, lean.Fields)
			}
		}
		if string(fields["rep_id"]) != fmt.Sprintf("%q", o.rep1) || len(fields["updated_at"]) == 0 {
			t.Errorf("lean fields lack the server-set rep_id or updated_at: %s", lean.Fields)
		}
		full := push(wire.ResultsFull, visit())[0]
		if full.Status != "applied" || len(full.Fields) != 0 || len(full.Row) == 0 {
			t.Fatalf("full create: %+v", full)
		}
		if explicit := push(wire.ResultsLean, visit())[0]; len(explicit.Fields) == 0 || len(explicit.Row) != 0 {
			t.Errorf("results=lean: %+v", explicit)
		}
		// A replay answers from the stored whole row, in the shape asked now.
		m := visit()
		first := push("", m)[0]
		if again := push(wire.ResultsFull, m)[0]; len(again.Row) == 0 || again.Version != first.Version {
			t.Errorf("full replay of a lean answer: %+v", again)
		}
		if again := push("", m)[0]; string(again.Fields) != string(first.Fields) {
			t.Errorf("lean replay %s, first answer %s", again.Fields, first.Fields)
		}
		// Merged: the device cannot know the row, so it comes whole.
		id := uuid.NewString()
		push("", mutation("visits", "upsert", id, 0, map[string]any{"account_id": o.acc1, "planned_at": "2026-11-23T08:00:00Z"}))
		push("", mutation("visits", "upsert", id, 1, map[string]any{"report": "first"}))
		merged := push("", mutation("visits", "upsert", id, 1, map[string]any{"outcome": "ok"}))[0]
		if merged.Status != "merged" || len(merged.Row) == 0 || len(merged.Fields) != 0 {
			t.Errorf("merged: %+v", merged)
		}
		// An applied update answers with the row as stored, to the microsecond:
		// GORM used to restamp updated_at on every update after the answer was
		// made, so the device's copy and a pull's differed.
		for _, table := range []string{"visits", "account_notes"} {
			id := uuid.NewString()
			row := map[string]any{"account_id": o.acc1, "planned_at": "2026-11-23T08:00:00Z"}
			edit := map[string]any{"report": "second"}
			if table == "account_notes" {
				row, edit = map[string]any{"account_id": o.acc1, "body": "first"}, map[string]any{"body": "second"}
			}
			push("", mutation(table, "upsert", id, 0, row))
			upd := push(wire.ResultsFull, mutation(table, "upsert", id, 1, edit))[0]
			stored, err := store.FetchRows(db.Autocommit(context.Background()), table, []string{id})
			if err != nil {
				t.Fatal(err)
			}
			if upd.Status != "applied" || string(upd.Row) != string(stored[id].JSON) {
				t.Errorf("%s update answered %s %s, stored %s", table, upd.Status, upd.Row, stored[id].JSON)
			}
		}
		d := o.failsAs("rep1", "POST", "/v1/sync/push", `{"mutations":[],"results":"some"}`, 422, domain.CodeValidation)
		if len(d.Fields) != 1 || d.Fields[0].Field != "results" {
			t.Errorf("unknown results shape: %+v", d)
		}
	})
}
