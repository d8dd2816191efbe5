package engine_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// FuzzPush drives the push path with arbitrary mutations: whatever a device
// sends, the engine answers with a result per mutation and never an internal
// error, and a rejected mutation leaves the change log as it was.
func FuzzPush(f *testing.F) {
	db := testdb.Open(f, store.SQLite)
	o := newOrgTB(f, db)
	seeds := []struct{ table, op, id, row string }{
		{"visits", "upsert", "11111111-1111-4111-8111-111111111111", `{"account_id":"` + o.acc1 + `","planned_at":"2026-11-23T09:00:00Z"}`},
		{"visits", "upsert", "11111111-1111-4111-8111-111111111111", `{"status":"completed","checked_in_at":"x"}`},
		{"orders", "upsert", "22222222-2222-4222-8222-222222222222", `{"account_id":"` + o.acc1 + `","lines":[{"product_id":"` + o.product + `","quantity":1,"discount_pct":12.5}]}`},
		{"orders", "upsert", "22222222-2222-4222-8222-222222222222", `{"lines":[{"quantity":-1,"discount_pct":"a"}]}`},
		{"account_notes", "upsert", "33333333-3333-4333-8333-333333333333", `{"account_id":"` + o.acc1 + `","body":"hi"}`},
		{"account_notes", "delete", "33333333-3333-4333-8333-333333333333", ``},
		{"accounts", "upsert", o.acc1, `{"phone":"+49 30 1234"}`},
		{"accounts", "upsert", o.acc1, `{"name":null}`},
		{"nope", "upsert", "x", `[]`},
		{"visits", "zap", "", `null`},
		{"orders", "upsert", "44444444-4444-4444-8444-444444444444", `{"lines":{"a":1}}`},
	}
	for _, s := range seeds {
		f.Add(s.table, s.op, s.id, int64(0), s.row)
	}
	f.Fuzz(func(t *testing.T, table, op, id string, base int64, row string) {
		m := wire.Mutation{MutationID: "55555555-5555-4555-8555-555555555555", Table: table, Op: op, ID: id, BaseVersion: base}
		if row != "" {
			m.Row = json.RawMessage(row)
		}
		// A fresh mutation id each run, or the replay answer would mask the path.
		m.MutationID = uuidFrom(table + op + id + row)
		before := countRows(t, db, "change_log")
		resp, err := o.eng.Push(context.Background(), o.actor(o.rep1), wire.PushRequest{Mutations: []wire.Mutation{m}})
		if err != nil {
			t.Fatalf("internal error for %+v: %v", m, err)
		}
		if len(resp.Results) != 1 {
			t.Fatalf("%d results for one mutation", len(resp.Results))
		}
		if r := resp.Results[0]; r.Status == wire.StatusRejected && countRows(t, db, "change_log") != before {
			t.Fatalf("rejected mutation %+v changed the data", m)
		}
	})
}
