package server_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// confirmedConflict: the desk confirms a rep's order, then the rep's offline
// edit of its note arrives. It returns the order and the conflict id.
func (o *office) confirmedConflict(rep, account string) (string, string) {
	o.t.Helper()
	ord := o.submittedOrder(rep, account)
	o.transition("coordAll", ord.ID, map[string]any{"to": "confirmed", "expected_version": 2}, 200)
	r := o.pushOne(rep, mutation("orders", "upsert", ord.ID, 2, map[string]any{"note": "deliver after 10"}), wire.StatusConflict)
	return ord.ID, r.ConflictID
}

// linesConflict: two devices of the rep change the lines of one draft.
func (o *office) linesConflict(rep, account string) (string, string) {
	o.t.Helper()
	id := o.draftOrder(rep, account, 1)
	o.pushOne(rep, mutation("orders", "upsert", id, 1, map[string]any{"lines": []map[string]any{{"product_id": o.product, "quantity": 2}}}), wire.StatusApplied)
	r := o.push(rep, "other-device", mutation("orders", "upsert", id, 1, map[string]any{"lines": []map[string]any{{"product_id": o.product, "quantity": 3}}}))[0]
	if r.Status != wire.StatusConflict {
		o.t.Fatalf("lines on both sides: %+v", r)
	}
	return id, r.ConflictID
}

// visitDeleteConflict: the rep re-plans a visit on one device and deletes it
// offline on another.
func (o *office) visitDeleteConflict(rep, account string) (string, string) {
	o.t.Helper()
	id := uuid.NewString()
	o.pushOne(rep, mutation("visits", "upsert", id, 0, map[string]any{"account_id": account, "planned_at": "2026-11-25T09:00:00Z"}), wire.StatusApplied)
	if r := o.push(rep, "other-device", mutation("visits", "upsert", id, 1, map[string]any{"planned_at": "2026-11-26T09:00:00Z"}))[0]; r.Status != wire.StatusApplied {
		o.t.Fatalf("re-plan: %+v", r)
	}
	r := o.pushOne(rep, mutation("visits", "delete", id, 1, nil), wire.StatusConflict)
	return id, r.ConflictID
}

// vanishedNoteConflict: one device deletes a note, another edits it.
func (o *office) vanishedNoteConflict(rep, account string) (string, string) {
	o.t.Helper()
	id := uuid.NewString()
	o.pushOne(rep, mutation("account_notes", "upsert", id, 0, map[string]any{"account_id": account, "body": "first"}), wire.StatusApplied)
	o.pushOne(rep, mutation("account_notes", "delete", id, 1, nil), wire.StatusApplied)
	r := o.push(rep, "other-device", mutation("account_notes", "upsert", id, 1, map[string]any{"body": "second thoughts"}))[0]
	if r.Status != wire.StatusConflict {
		o.t.Fatalf("edit of a deleted note: %+v", r)
	}
	return id, r.ConflictID
}

// autoResolved: both devices write the report of a visit; the merge keeps the
// replaced text in a resolved record.
func (o *office) autoResolved(rep, account string) string {
	o.t.Helper()
	id := uuid.NewString()
	o.pushOne(rep, mutation("visits", "upsert", id, 0, map[string]any{"account_id": account, "planned_at": "2026-11-25T09:00:00Z"}), wire.StatusApplied)
	o.pushOne(rep, mutation("visits", "upsert", id, 1, map[string]any{"report": "A"}), wire.StatusApplied)
	o.push(rep, "other-device", mutation("visits", "upsert", id, 1, map[string]any{"report": "B"}))
	var c store.ConflictRecord
	if err := o.db.Gorm.Where("row_id = ? AND resolution = ?", id, store.ResolutionAuto).Take(&c).Error; err != nil {
		o.t.Fatalf("auto-resolved record: %v", err)
	}
	return c.ID
}

// conflicts lists every page of GET /v1/conflicts?query as who.
func (o *office) conflicts(who, query string, limit int) []backoffice.Conflict {
	o.t.Helper()
	var out []backoffice.Conflict
	cursor := ""
	for range 100 {
		var page backoffice.ConflictList
		path := fmt.Sprintf("/v1/conflicts?limit=%d&%s", limit, query)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		o.as(who, "GET", path, "", 200, &page)
		if len(page.Items) > limit {
			o.t.Fatalf("page of %d over limit %d", len(page.Items), limit)
		}
		out = append(out, page.Items...)
		if page.NextCursor == nil {
			return out
		}
		cursor = *page.NextCursor
	}
	o.t.Fatal("conflict list never ended")
	return nil
}

func conflictIDs(cs []backoffice.Conflict) []string {
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestConflicts_ListScope(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		order1, c1 := o.confirmedConflict("rep1", o.acc1)
		_, c2 := o.confirmedConflict("rep3", o.acc3)
		_, c3 := o.visitDeleteConflict("rep2", o.acc2)
		_, c4 := o.vanishedNoteConflict("rep1", o.acc1)
		a5 := o.autoResolved("rep1", o.acc1)

		all := o.conflicts("director", "", 100)
		if len(all) != 5 {
			t.Fatalf("director sees %d conflicts, want 5", len(all))
		}
		// The list is in (created_at, id) order: select from it to keep that order.
		sel := func(ids ...string) []string {
			out := []string{}
			for _, c := range all {
				if slices.Contains(ids, c.ID) {
					out = append(out, c.ID)
				}
			}
			return out
		}
		cases := []struct {
			name, who, query string
			want             []string
		}{
			{"RepOwn", "rep1", "", sel(c1, c4, a5)},
			{"RepOwnOnly", "rep2", "", sel(c3)},
			{"ManagerSubtreeAndWriterRouted", "mgr", "", sel(c1, c3, c4, a5)},
			{"OtherManager", "mgr2", "", sel(c2)},
			{"CoordinatorOrdersOfTerritory", "coord1", "", sel(c1)},
			{"CoordinatorWithoutTerritories", "coordAll", "", sel(c1, c2)},
			{"Ops", "ops", "", sel(c1, c2, c3, c4, a5)},
			{"StatusOpen", "mgr", "status=open", sel(c1, c3, c4)},
			{"StatusResolved", "mgr", "status=resolved", sel(a5)},
			{"Table", "director", "table=orders", sel(c1, c2)},
			{"TableAndStatus", "rep1", "table=visits&status=resolved", sel(a5)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				o := o.in(t)
				for _, limit := range []int{1, 2, 100} {
					if got := conflictIDs(o.conflicts(tc.who, tc.query, limit)); !slices.Equal(got, tc.want) {
						t.Errorf("limit %d: %v, want %v", limit, got, tc.want)
					}
				}
			})
		}
		t.Run("Item", func(t *testing.T) {
			o := o.in(t)
			var got backoffice.Conflict
			for _, c := range all {
				if c.ID == c1 {
					got = c
				}
			}
			var dev, srv domain.Order
			if err := json.Unmarshal(got.DeviceRow, &dev); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got.ServerRow, &srv); err != nil {
				t.Fatal(err)
			}
			if got.Table != "orders" || got.RowID != order1 || got.Status != "open" || got.Reason != "order already confirmed" ||
				got.UserID != o.rep1 || got.DeviceID != "dev-rep1" || got.CreatedAt.IsZero() || got.Resolution != nil {
				t.Errorf("conflict %+v", got)
			}
			if dev.Note == nil || *dev.Note != "deliver after 10" || srv.Status != domain.OrderConfirmed {
				t.Errorf("device row %+v, server row %+v", dev, srv)
			}
		})
		t.Run("ErrBadParams", func(t *testing.T) {
			o := o.in(t)
			o.failsAs("mgr", "GET", "/v1/conflicts?status=closed", "", 400, domain.CodeBadRequest)
			o.failsAs("mgr", "GET", "/v1/conflicts?table=invoices", "", 400, domain.CodeBadRequest)
			o.failsAs("mgr", "GET", "/v1/conflicts?cursor=abc", "", 400, domain.CodeBadRequest)
			if d := o.fails("GET", "/v1/conflicts", "", "", 401); d.Code != string(domain.CodeUnauthorized) {
				t.Errorf("code = %s", d.Code)
			}
		})
	})
}

// resolve posts a resolution as who and decodes the answer.
func (o *office) resolve(who, id string, body map[string]any, status int) backoffice.Resolved {
	o.t.Helper()
	b, _ := json.Marshal(body)
	var out backoffice.Resolved
	o.as(who, "POST", "/v1/conflicts/"+id+"/resolve", string(b), status, &out)
	return out
}

func (o *office) conflictStatus(id string) string {
	o.t.Helper()
	var c store.ConflictRecord
	if err := o.db.Gorm.Where("id = ?", id).Take(&c).Error; err != nil {
		o.t.Fatal(err)
	}
	return c.Status
}

func TestConflicts_Resolve(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)

		t.Run("KeepServer", func(t *testing.T) {
			o := o.in(t)
			orderID, id := o.confirmedConflict("rep1", o.acc1)
			got := o.resolve("coord1", id, map[string]any{"resolution": "keep_server"}, 200)
			var row domain.Order
			_ = json.Unmarshal(got.Row, &row)
			c := got.Conflict
			if c.ID != id || c.Status != "resolved" || *c.Resolution != "keep_server" || *c.ResolvedBy != o.coord1 || c.ResolvedAt == nil {
				t.Errorf("conflict %+v", c)
			}
			if row.ID != orderID || row.Status != domain.OrderConfirmed || row.Version != 3 || row.Note != nil {
				t.Errorf("row %+v", row)
			}
			t.Run("ErrAlreadyResolved", func(t *testing.T) {
				o := o.in(t)
				o.failsAs("coord1", "POST", "/v1/conflicts/"+id+"/resolve", `{"resolution":"take_device"}`, 409, domain.CodeAlreadyResolved)
			})
		})
		t.Run("TakeDeviceLines", func(t *testing.T) {
			o := o.in(t)
			orderID, id := o.linesConflict("rep1", o.acc1)
			m := o.mirror("rep1")
			m.hasVersion("orders", orderID, 2)
			got := o.resolve("coord1", id, map[string]any{"resolution": "take_device"}, 200)
			var row domain.Order
			_ = json.Unmarshal(got.Row, &row)
			if row.Version != 3 || row.Lines[0].Quantity != 3 || row.TotalCents != 3*1999 || row.Status != domain.OrderDraft {
				t.Errorf("row %+v", row)
			}
			var pulled domain.Order
			_ = json.Unmarshal(m.hasVersion("orders", orderID, 3).Row, &pulled)
			if pulled.Lines[0].Quantity != 3 {
				t.Errorf("the rep pulled %+v", pulled)
			}
		})
		t.Run("ErrTakeDeviceOnConfirmedOrder", func(t *testing.T) {
			o := o.in(t)
			_, id := o.confirmedConflict("rep1", o.acc1)
			o.failsAs("coord1", "POST", "/v1/conflicts/"+id+"/resolve", `{"resolution":"take_device"}`, 422, domain.CodeIllegalTransition)
			if s := o.conflictStatus(id); s != "open" {
				t.Errorf("a refused resolution left the conflict %s", s)
			}
		})
		t.Run("CustomVisit", func(t *testing.T) {
			o := o.in(t)
			visitID, id := o.visitDeleteConflict("rep2", o.acc2)
			got := o.resolve("mgr", id, map[string]any{"resolution": "custom", "row": map[string]any{"planned_at": "2026-12-01T09:00:00Z"}}, 200)
			var row domain.Visit
			_ = json.Unmarshal(got.Row, &row)
			if row.Version != 3 || !row.PlannedAt.Equal(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) {
				t.Errorf("row %+v", row)
			}
			o.mirror("rep2").hasVersion("visits", visitID, 3)
		})
		t.Run("ErrCustomInvalid", func(t *testing.T) {
			o := o.in(t)
			_, id := o.visitDeleteConflict("rep2", o.acc2)
			d := o.failsAs("mgr", "POST", "/v1/conflicts/"+id+"/resolve", `{"resolution":"custom","row":{"status":"lost"}}`, 422, domain.CodeValidation)
			if got := fieldNames(d); !slices.Equal(got, []string{"status"}) {
				t.Errorf("fields = %v", got)
			}
			d = o.failsAs("mgr", "POST", "/v1/conflicts/"+id+"/resolve", `{"resolution":"custom"}`, 422, domain.CodeValidation)
			if got := fieldNames(d); !slices.Equal(got, []string{"row"}) {
				t.Errorf("fields = %v", got)
			}
			d = o.failsAs("mgr", "POST", "/v1/conflicts/"+id+"/resolve", `{"resolution":"both"}`, 422, domain.CodeValidation)
			if got := fieldNames(d); !slices.Equal(got, []string{"resolution"}) {
				t.Errorf("fields = %v", got)
			}
		})
		t.Run("TakeDeviceDelete", func(t *testing.T) {
			o := o.in(t)
			visitID, id := o.visitDeleteConflict("rep2", o.acc2)
			m := o.mirror("rep2")
			m.hasVersion("visits", visitID, 2)
			got := o.resolve("mgr", id, map[string]any{"resolution": "take_device"}, 200)
			if string(got.Row) != "null" {
				t.Errorf("row of a deleted visit = %s", got.Row)
			}
			m.lacks("visits", visitID)
		})
		t.Run("VanishedRowRecreated", func(t *testing.T) {
			o := o.in(t)
			noteID, id := o.vanishedNoteConflict("rep1", o.acc1)
			// The device sent only the body: recreating needs the rest.
			d := o.failsAs("mgr", "POST", "/v1/conflicts/"+id+"/resolve", `{"resolution":"take_device"}`, 422, domain.CodeValidation)
			if !slices.Contains(fieldNames(d), "account_id") {
				t.Errorf("fields = %v", fieldNames(d))
			}
			got := o.resolve("mgr", id, map[string]any{"resolution": "custom",
				"row": map[string]any{"account_id": o.acc1, "author_id": o.rep1, "body": "second thoughts"}}, 200)
			var row domain.AccountNote
			_ = json.Unmarshal(got.Row, &row)
			if row.ID != noteID || row.Body != "second thoughts" || row.AuthorID != o.rep1 || row.Version != 3 {
				t.Errorf("row %+v", row)
			}
			o.mirror("rep1").hasVersion("account_notes", noteID, 3) // past the tombstone at 2
		})
		t.Run("TakeDeviceOutOfScopeCreate", func(t *testing.T) {
			o := o.in(t)
			acc := o.movedAccount(o.t1, o.t3)
			visitID := uuid.NewString()
			r := o.pushOne("rep1", mutation("visits", "upsert", visitID, 0, map[string]any{"account_id": acc, "planned_at": "2026-11-25T09:00:00Z",
				"status": "completed", "checked_in_at": "2026-11-25T09:05:00Z", "checked_out_at": "2026-11-25T09:45:00Z", "report": "met the buyer"}), wire.StatusConflict)
			o.failsAs("mgr", "POST", "/v1/conflicts/"+r.ConflictID+"/resolve", `{"resolution":"take_device"}`, 404, domain.CodeNotFound)
			got := o.resolve("mgr2", r.ConflictID, map[string]any{"resolution": "take_device"}, 200)
			var row domain.Visit
			_ = json.Unmarshal(got.Row, &row)
			if row.ID != visitID || row.RepID != o.rep1 || row.Status != domain.VisitCompleted || *row.Report != "met the buyer" {
				t.Errorf("row %+v", row)
			}
			o.mirror("mgr2").hasVersion("visits", visitID, 1) // the account's new managers get the visit
		})
		t.Run("TakeDeviceOutOfScopeUpdate", func(t *testing.T) {
			o := o.in(t)
			acc := uuid.NewString()
			o.write(func(tx *store.Tx, now time.Time) error {
				_, err := store.CreateAccount(tx, domain.Account{ID: acc, Name: "Soon moved", TerritoryID: o.t1,
					Class: domain.ClassC, Status: domain.AccountActive})
				return err
			})
			visitID := uuid.NewString()
			o.pushOne("rep1", mutation("visits", "upsert", visitID, 0, map[string]any{"account_id": acc, "planned_at": "2026-11-25T09:00:00Z"}), wire.StatusApplied)
			o.write(func(tx *store.Tx, now time.Time) error {
				old, fv, err := store.GetAccount(tx, acc, true)
				if err != nil {
					return err
				}
				moved := old
				moved.TerritoryID = o.t3
				_, err = store.UpdateAccount(tx, old, fv, moved)
				return err
			})
			r := o.pushOne("rep1", mutation("visits", "upsert", visitID, 1, map[string]any{"report": "written before the move"}), wire.StatusConflict)
			got := o.resolve("mgr2", r.ConflictID, map[string]any{"resolution": "take_device"}, 200)
			var row domain.Visit
			_ = json.Unmarshal(got.Row, &row)
			if row.Version != 2 || row.Report == nil || *row.Report != "written before the move" {
				t.Errorf("row %+v", row)
			}
		})
		t.Run("ErrNotFoundOrForbidden", func(t *testing.T) {
			o := o.in(t)
			_, onT1 := o.confirmedConflict("rep1", o.acc1)
			_, onT2 := o.visitDeleteConflict("rep2", o.acc2)
			body := `{"resolution":"keep_server"}`
			path := func(id string) string { return "/v1/conflicts/" + id + "/resolve" }
			o.failsAs("mgr2", "POST", path(onT1), body, 404, domain.CodeNotFound)
			o.failsAs("coord1", "POST", path(onT2), body, 404, domain.CodeNotFound)
			o.failsAs("mgr", "POST", path(uuid.NewString()), body, 404, domain.CodeNotFound)
			o.failsAs("mgr", "POST", path("42"), body, 404, domain.CodeNotFound)
			for _, who := range []string{"rep1", "director", "ops"} {
				o.failsAs(who, "POST", path(onT1), body, 403, domain.CodeForbidden)
			}
			if s := o.conflictStatus(onT1); s != "open" {
				t.Errorf("conflict %s after refused resolutions", s)
			}
			o.resolve("coord1", onT1, map[string]any{"resolution": "keep_server"}, 200)
		})
	})
}

// movedAccount creates an account in from, then moves it to to (ops'
// reassignment), and returns its id.
func (o *office) movedAccount(from, to string) string {
	o.t.Helper()
	id := uuid.NewString()
	o.write(func(tx *store.Tx, now time.Time) error {
		acc, err := store.CreateAccount(tx, domain.Account{ID: id, Name: "Moving", TerritoryID: from,
			Class: domain.ClassB, Status: domain.AccountActive})
		if err != nil {
			return err
		}
		_, fv, err := store.GetAccount(tx, id, true)
		if err != nil {
			return err
		}
		moved := acc
		moved.TerritoryID = to
		_, err = store.UpdateAccount(tx, acc, fv, moved)
		return err
	})
	return id
}
