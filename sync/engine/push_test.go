package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

func planVisit(o *org, id string) wire.Mutation {
	return mut("visits", "upsert", id, 0, map[string]any{"account_id": o.acc1, "planned_at": "2026-11-23T09:00:00Z"})
}

func countRows(t testing.TB, db *store.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPush_ReplayReturnsStoredResult(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		m := planVisit(o, uuid.NewString())
		first := o.push(t, o.rep1, m)
		logBefore := countRows(t, db, "change_log")
		again := o.push(t, o.rep1, m, m)
		for _, r := range again {
			if r.Status != first[0].Status || r.Version != first[0].Version || string(r.Row) != string(first[0].Row) {
				t.Errorf("replay = %+v, want %+v", r, first[0])
			}
		}
		if n := countRows(t, db, "visits"); n != 1 {
			t.Errorf("%d visits after replays, want 1", n)
		}
		if countRows(t, db, "change_log") != logBefore {
			t.Errorf("a replay wrote to the change log")
		}
	})
}

func TestPush_Rejections(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		otherVisit := uuid.NewString()
		o.push(t, o.rep2, mut("visits", "upsert", otherVisit, 0, map[string]any{"account_id": o.acc2, "planned_at": "2026-11-23T09:00:00Z"}))
		cases := []struct {
			name  string
			m     wire.Mutation
			code  domain.Code
			field string
		}{
			{"unknown table", mut("invoices", "upsert", uuid.NewString(), 0, map[string]any{"x": 1}), domain.CodeUnknownTable, ""},
			{"unknown op", mut("visits", "merge", uuid.NewString(), 0, map[string]any{"x": 1}), domain.CodeUnknownOp, ""},
			{"bad id", mut("visits", "upsert", "not-a-uuid", 0, map[string]any{"account_id": o.acc1}), domain.CodeValidation, "id"},
			{"missing planned_at", mut("visits", "upsert", uuid.NewString(), 0, map[string]any{"account_id": o.acc1}), domain.CodeValidation, "planned_at"},
			{"wrong type", mut("visits", "upsert", uuid.NewString(), 0, map[string]any{"account_id": o.acc1, "planned_at": 12}), domain.CodeValidation, "planned_at"},
			{"unknown field", mut("visits", "upsert", uuid.NewString(), 0, map[string]any{"account_id": o.acc1, "planned_at": "2026-11-23T09:00:00Z", "colour": "red"}), domain.CodeValidation, "colour"},
			{"account never in scope", mut("visits", "upsert", uuid.NewString(), 0, map[string]any{"account_id": o.acc2, "planned_at": "2026-11-23T09:00:00Z"}), domain.CodeNotFound, "account_id"},
			{"unknown account", mut("visits", "upsert", uuid.NewString(), 0, map[string]any{"account_id": uuid.NewString(), "planned_at": "2026-11-23T09:00:00Z"}), domain.CodeNotFound, "account_id"},
			{"other rep's visit out of scope", mut("visits", "upsert", otherVisit, 1, map[string]any{"status": "cancelled"}), domain.CodeNotFound, ""},
			{"completed without times", mut("visits", "upsert", uuid.NewString(), 0, map[string]any{"account_id": o.acc1, "planned_at": "2026-11-23T09:00:00Z", "status": "completed"}), domain.CodeValidation, "checked_in_at"},
			{"rep edits account name", mut("accounts", "upsert", o.acc1, 1, map[string]any{"name": "Mine now"}), domain.CodeValidation, "name"},
			{"rep writes products", mut("products", "upsert", o.product, 1, map[string]any{"unit_price_cents": 1}), domain.CodeForbidden, ""},
			{"quantity zero", mut("orders", "upsert", uuid.NewString(), 0, map[string]any{"account_id": o.acc1, "lines": []map[string]any{{"product_id": o.product, "quantity": 0}}}), domain.CodeValidation, "lines[0].quantity"},
			{"note too long", mut("account_notes", "upsert", uuid.NewString(), 0, map[string]any{"account_id": o.acc1, "body": strings.Repeat("x", 10001)}), domain.CodeValidation, "body"},
		}
		before := countRows(t, db, "change_log")
		for _, c := range cases {
			r := o.push(t, o.rep1, c.m)[0]
			if r.Status != wire.StatusRejected || r.Error == nil || r.Error.Code != string(c.code) {
				t.Errorf("%s: got %+v %+v, want rejected %s", c.name, r, r.Error, c.code)
				continue
			}
			if c.field != "" {
				found := false
				for _, f := range r.Error.Fields {
					found = found || f.Field == c.field
				}
				if !found {
					t.Errorf("%s: fields %+v lack %q", c.name, r.Error.Fields, c.field)
				}
			}
		}
		if countRows(t, db, "change_log") != before {
			t.Errorf("rejected mutations changed the data")
		}
	})
}

func TestPush_InOrderEachAtomic(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		v := uuid.NewString()
		res := o.push(t, o.rep1,
			planVisit(o, v),
			mut("visits", "upsert", v, 1, map[string]any{"status": "completed"}), // invalid: no times
			mut("visits", "upsert", v, 1, map[string]any{"status": "completed", "checked_in_at": "2026-11-23T09:00:00Z",
				"checked_out_at": "2026-11-23T09:40:00Z", "outcome": "order", "report": "Good visit", "check_in_lat": 52.5201, "check_in_lng": 13.4005}),
		)
		got := []string{res[0].Status, res[1].Status, res[2].Status}
		if got[0] != "applied" || got[1] != "rejected" || got[2] != "applied" {
			t.Fatalf("statuses %v", got)
		}
		var visit domain.Visit
		if err := json.Unmarshal(res[2].Row, &visit); err != nil {
			t.Fatal(err)
		}
		if visit.Version != 2 || visit.Status != "completed" {
			t.Errorf("visit %+v: planned -> completed in one mutation must be version 2", visit)
		}
		if visit.CheckInDistanceM == nil || *visit.CheckInDistanceM <= 0 || *visit.CheckInDistanceM > 200 {
			t.Errorf("check_in_distance_m = %v, want a few dozen metres", visit.CheckInDistanceM)
		}
		noop := o.push(t, o.rep1, mut("visits", "upsert", v, 2, map[string]any{"report": "Good visit"}))[0]
		if noop.Status != "applied" || noop.Version != 2 {
			t.Errorf("a no-op must be applied at the current version: %+v", noop)
		}
	})
}

func TestPush_ServerOwnedFieldsIgnored(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		id := uuid.NewString()
		r := o.push(t, o.rep1, mut("orders", "upsert", id, 0, map[string]any{"account_id": o.acc1, "rep_id": o.rep2,
			"total_cents": 1, "version": 99, "number": "HACK", "lines": []map[string]any{{"product_id": o.product, "quantity": 3, "unit_price_cents": 1, "discount_pct": 10}}}))[0]
		var ord domain.Order
		if err := json.Unmarshal(r.Row, &ord); err != nil {
			t.Fatal(err)
		}
		if ord.RepID != o.rep1 || ord.Version != 1 || ord.Number != nil {
			t.Errorf("server-owned fields taken from the device: %+v", ord)
		}
		// 3 × 1999 × 0.9 = 5397.3 -> 5397; priced from the catalogue, not the device.
		if ord.Lines[0].UnitPriceCents != 1999 || ord.TotalCents != 5397 {
			t.Errorf("lines %+v total %d, want catalogue price 1999 and total 5397", ord.Lines, ord.TotalCents)
		}
		sub := o.push(t, o.rep1, mut("orders", "upsert", id, 1, map[string]any{"status": "submitted"}))[0]
		if err := json.Unmarshal(sub.Row, &ord); err != nil {
			t.Fatal(err)
		}
		if ord.Number == nil || ord.SubmittedAt == nil || ord.Status != "submitted" {
			t.Errorf("submit must number and stamp the order: %+v", ord)
		}
	})
}

func TestPush_OutOfScopeWithinGraceIsConflict(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
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
		r := o.push(t, o.rep1, planVisit(o, uuid.NewString()))[0]
		if r.Status != wire.StatusConflict || r.Reason != "out_of_scope" || r.ConflictID == "" {
			t.Fatalf("write against a recently lost account: %+v", r)
		}
		var c store.ConflictRecord
		if err := db.Gorm.Where("id = ?", r.ConflictID).Take(&c).Error; err != nil {
			t.Fatal(err)
		}
		if c.TerritoryID == nil || *c.TerritoryID != o.t2 || c.Status != "open" || !strings.Contains(c.DeviceRow, o.acc1) {
			t.Errorf("conflict must be routed to the account's new territory with the device row: %+v", c)
		}
	})
}

func TestPush_VisitMergeFurtherStatusWins(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		v := uuid.NewString()
		o.push(t, o.rep1, planVisit(o, v))
		// Device A completes the visit; device B (same rep, offline) cancels it
		// from base version 1 and writes a report.
		o.push(t, o.rep1, mut("visits", "upsert", v, 1, map[string]any{"status": "completed",
			"checked_in_at": "2026-11-23T09:00:00Z", "checked_out_at": "2026-11-23T09:30:00Z", "report": "A's report"}))
		r := o.push(t, o.rep1, mut("visits", "upsert", v, 1, map[string]any{"status": "cancelled", "report": "B's report"}))[0]
		if r.Status != wire.StatusMerged {
			t.Fatalf("want merged, got %+v", r)
		}
		var got domain.Visit
		_ = json.Unmarshal(r.Row, &got)
		if got.Status != "completed" || got.Report == nil || *got.Report != "B's report" {
			t.Errorf("merged visit %+v: completed beats cancelled, device report wins", got)
		}
		var auto []store.ConflictRecord
		db.Gorm.Where("row_id = ? AND resolution = 'auto'", v).Find(&auto)
		if len(auto) != 1 || !strings.Contains(*auto[0].ServerRow, "A's report") {
			t.Errorf("the replaced server report must be kept in an auto-resolved conflict: %+v", auto)
		}
	})
}

func TestPush_NoteBodyBothChangedForks(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		n := uuid.NewString()
		o.push(t, o.rep1, mut("account_notes", "upsert", n, 0, map[string]any{"account_id": o.acc1, "body": "v1"}))
		o.push(t, o.rep1, mut("account_notes", "upsert", n, 1, map[string]any{"body": "server edit"}))
		r := o.push(t, o.rep1, mut("account_notes", "upsert", n, 1, map[string]any{"body": "device edit"}))[0]
		var orig domain.AccountNote
		_ = json.Unmarshal(r.Row, &orig)
		if r.Status != wire.StatusMerged || orig.Body != "server edit" {
			t.Fatalf("want merged keeping the server body: %+v %+v", r, orig)
		}
		var fork []store.ConflictRecord
		var copies int64
		db.Gorm.Table("account_notes").Where("conflict_of = ? AND body = ?", n, "device edit").Count(&copies)
		if copies != 1 {
			t.Errorf("the device body must be saved as a new note with conflict_of: %d copies, %v", copies, fork)
		}
		del := o.push(t, o.rep1, mut("account_notes", "delete", n, 1, nil))[0]
		if del.Status != wire.StatusMerged || countNote(t, db, n) != 1 {
			t.Errorf("deleting a note changed since base must keep it: %+v", del)
		}
	})
}

func countNote(t *testing.T, db *store.DB, id string) int64 {
	var n int64
	db.Gorm.Table("account_notes").Where("id = ?", id).Count(&n)
	return n
}

func TestPush_OrderPastSubmittedIsConflict(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		id := uuid.NewString()
		o.push(t, o.rep1, mut("orders", "upsert", id, 0, map[string]any{"account_id": o.acc1,
			"status": "submitted", "lines": []map[string]any{{"product_id": o.product, "quantity": 1}}}))
		o.write(t, func(tx *store.Tx, now time.Time) error { // the desk confirms it
			cur, fv, err := store.GetOrder(tx, id, true)
			if err != nil {
				return err
			}
			acc, _, _ := store.GetAccount(tx, cur.AccountID, false)
			next := cur
			next.Status = "confirmed"
			_, err = store.UpdateOrder(tx, acc, cur, fv, next)
			return err
		})
		r := o.push(t, o.rep1, mut("orders", "upsert", id, 1, map[string]any{"note": "deliver Monday"}))[0]
		if r.Status != wire.StatusConflict || r.ConflictID == "" || !strings.Contains(r.Reason, "confirmed") {
			t.Fatalf("edit of a confirmed order must be a conflict: %+v", r)
		}
		var ord domain.Order
		_ = json.Unmarshal(r.Row, &ord)
		if ord.Status != "confirmed" || ord.Note != nil {
			t.Errorf("conflict must answer the server row untouched: %+v", ord)
		}
	})
}

func TestPush_DeleteRules(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		planned, done, ord := uuid.NewString(), uuid.NewString(), uuid.NewString()
		o.push(t, o.rep1, planVisit(o, planned), planVisit(o, done),
			mut("orders", "upsert", ord, 0, map[string]any{"account_id": o.acc1, "status": "submitted",
				"lines": []map[string]any{{"product_id": o.product, "quantity": 1}}}))
		o.push(t, o.rep1, mut("visits", "upsert", done, 1, map[string]any{"status": "completed",
			"checked_in_at": "2026-11-23T09:00:00Z", "checked_out_at": "2026-11-23T09:30:00Z"}))
		res := o.push(t, o.rep1, mut("visits", "delete", planned, 1, nil), mut("visits", "delete", done, 2, nil),
			mut("orders", "delete", ord, 1, nil))
		if res[0].Status != "applied" || res[1].Status != "rejected" || res[2].Status != "rejected" {
			t.Errorf("planned visit deletable, completed visit and submitted order not: %+v", res)
		}
		m := newMirror()
		o.syncAll(t, m, o.rep1)
		if m.has("visits", planned) || !m.has("visits", done) {
			t.Errorf("deleted visit must be gone, completed one kept")
		}
	})
}

func TestPush_PendingRecordedForSyncHealth(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		a := o.actor(o.rep1)
		if err := db.Gorm.Exec("INSERT INTO devices (user_id, device_id, created_at) VALUES (?, ?, ?)", a.UserID, a.DeviceID, db.Now()).Error; err != nil {
			t.Fatal(err)
		}
		pending := int64(12)
		if _, err := o.eng.Push(context.Background(), a, wire.PushRequest{Mutations: []wire.Mutation{planVisit(o, uuid.NewString())}, Pending: &pending}); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Pending    *int64
			LastPushAt *time.Time
		}
		db.Gorm.Table("devices").Select("pending, last_push_at").Where("device_id = ?", a.DeviceID).Scan(&got)
		if got.Pending == nil || *got.Pending != 12 || got.LastPushAt == nil {
			t.Errorf("device sync health not recorded: %+v", got)
		}
	})
}
