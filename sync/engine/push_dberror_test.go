package engine_test

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// refuseNoteBody makes the database itself refuse a note body that passes
// every domain rule: a stand-in for any error a mutation's data causes in the
// database (a value out of range, a broken constraint), which the push engine
// cannot foresee.
func refuseNoteBody(t *testing.T, db *store.DB, body string) {
	t.Helper()
	ddl := "ALTER TABLE account_notes ADD CONSTRAINT test_refused_body CHECK (body <> '" + body + "')"
	if db.Dialect == store.SQLite {
		ddl = "CREATE TRIGGER test_refused_body BEFORE INSERT ON account_notes WHEN NEW.body = '" + body +
			"' BEGIN SELECT RAISE(ABORT, 'refused'); END"
	}
	if err := db.Gorm.Exec(ddl).Error; err != nil {
		t.Fatal(err)
	}
}

// TestPush_DatabaseErrorRejectsOnlyItsMutation: a database error caused by one
// mutation's data rolls back that mutation alone and rejects it with a safe
// message; the rest of the batch applies. Before, the whole request failed
// (500) at every retry and the device's outbox was stuck for good.
func TestPush_DatabaseErrorRejectsOnlyItsMutation(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		refuseNoteBody(t, db, "refused by the database")
		note := func(body string) wire.Mutation {
			return wire.Mutation{MutationID: uuid.NewString(), Table: "account_notes", Op: "upsert", ID: uuid.NewString(),
				Row: []byte(`{"account_id":"` + o.acc1 + `","body":"` + body + `"}`)}
		}
		muts := []wire.Mutation{note("first"), note("refused by the database"), planVisit(o, uuid.NewString()), note("last")}
		resp, err := o.eng.Push(context.Background(), o.actor(o.rep1), wire.PushRequest{Mutations: muts})
		if err != nil {
			t.Fatalf("push failed as a whole: %v", err)
		}
		want := []string{wire.StatusApplied, wire.StatusRejected, wire.StatusApplied, wire.StatusApplied}
		for i, r := range resp.Results {
			if r.Status != want[i] {
				t.Errorf("result %d = %+v, want %s", i, r, want[i])
			}
		}
		if e := resp.Results[1].Error; e == nil || e.Code != string(domain.CodeValidation) || e.Message != "a value cannot be stored" {
			t.Errorf("rejection = %+v, want validation_failed with the generic message", e)
		}
		if n := countRows(t, db, "account_notes"); n != 2 {
			t.Errorf("%d notes stored, want 2", n)
		}
		// Replayed, the batch answers the same.
		again, err := o.eng.Push(context.Background(), o.actor(o.rep1), wire.PushRequest{Mutations: muts})
		if err != nil || again.Results[1].Status != wire.StatusRejected {
			t.Fatalf("replay: %+v %v", again.Results, err)
		}
	})
}
