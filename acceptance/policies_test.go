package acceptance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
)

// pair is one rep's two devices, both synced with the same rows.
type pair struct{ a, b *device.Client }

func (e *env) pair(user string) pair {
	e.t.Helper()
	return pair{a: e.synced(user), b: e.synced(user)}
}

// both syncs a, then b, then a again, so each has the other's outcome.
func (e *env) both(p pair) device.SyncReport {
	e.t.Helper()
	e.sync(p.a)
	rep := e.sync(p.b)
	e.sync(p.a)
	mirrorsEqual(e.t, p.a, p.b)
	e.converged(p.a)
	return rep
}

// plannedVisit plans a visit on a1 from a and brings it to b.
func (e *env) plannedVisit(p pair) domain.Visit {
	e.t.Helper()
	v, err := p.a.PlanVisit(context.Background(), e.a1, day.Add(time.Hour))
	must(e.t, err)
	e.sync(p.a)
	e.sync(p.b)
	return v
}

// conflictView is a conflict as GET /v1/conflicts lists it.
type conflictView struct {
	ID         string          `json:"id"`
	Table      string          `json:"table"`
	RowID      string          `json:"row_id"`
	Status     string          `json:"status"`
	Reason     string          `json:"reason"`
	UserID     string          `json:"user_id"`
	DeviceID   string          `json:"device_id"`
	DeviceRow  json.RawMessage `json:"device_row"`
	ServerRow  json.RawMessage `json:"server_row"`
	Resolution *string         `json:"resolution"`
}

// conflicts lists the conflicts user sees on one row.
func (e *env) conflicts(user, status, rowID string) []conflictView {
	e.t.Helper()
	var page struct {
		Items []conflictView `json:"items"`
	}
	e.ok(http.MethodGet, "/v1/conflicts?status="+status, e.token(user, "office-"+user), nil, http.StatusOK, &page)
	var out []conflictView
	for _, c := range page.Items {
		if c.RowID == rowID {
			out = append(out, c)
		}
	}
	return out
}

// TestPolicy_VisitFieldMerge: fields changed on one side only keep that side's
// value; both-changed check-in and check-out times take the earlier and the
// later (§4.3 visits).
func TestPolicy_VisitFieldMerge(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		p := e.pair(e.rep1)
		v := e.plannedVisit(p)
		replanned := day.Add(30 * time.Minute)
		must(t, p.a.Mutate(ctx, "visits", "upsert", v.ID, map[string]any{"planned_at": replanned}))
		_, err := p.b.CheckIn(ctx, v.ID, day.Add(time.Hour), 52.52, 13.40)
		must(t, err)
		if rep := e.both(p); rep.Merged != 1 {
			t.Errorf("b's check-in: %+v, want merged", rep)
		}
		got, err := p.a.Visit(ctx, v.ID)
		must(t, err)
		if !got.PlannedAt.Equal(replanned) || got.Status != domain.VisitCheckedIn || got.CheckedInAt == nil {
			t.Errorf("merged visit %+v: want a's planned_at and b's check-in", got)
		}

		// Both check out, after both checked in at different times.
		w := e.plannedVisit(p)
		for _, step := range []struct {
			c        *device.Client
			in, out  time.Duration
			outcome  string
			expected string
		}{{p.a, 5 * time.Minute, 30 * time.Minute, "order", ""}, {p.b, 0, 40 * time.Minute, "no_order", ""}} {
			_, err := step.c.CheckIn(ctx, w.ID, day.Add(step.in), 52.52, 13.40)
			must(t, err)
			_, err = step.c.CheckOut(ctx, w.ID, day.Add(step.out), step.outcome, "report of "+step.outcome)
			must(t, err)
		}
		e.both(p)
		got, err = p.b.Visit(ctx, w.ID)
		must(t, err)
		if !got.CheckedInAt.Equal(day) || !got.CheckedOutAt.Equal(day.Add(40*time.Minute)) {
			t.Errorf("merged times in=%v out=%v: want the earlier check-in and the later check-out", got.CheckedInAt, got.CheckedOutAt)
		}
	})
}

// TestPolicy_VisitFurtherStatusWins: both sides changed the status: the
// further state wins, and a visit that happened beats a cancellation whichever
// side reached the server first.
func TestPolicy_VisitFurtherStatusWins(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		complete := func(c *device.Client, id string) {
			_, err := c.CheckIn(ctx, id, day, 52.52, 13.40)
			must(t, err)
			_, err = c.CheckOut(ctx, id, day.Add(time.Hour), "order", "it happened")
			must(t, err)
		}
		cancel := func(c *device.Client, id string) {
			_, err := c.CancelVisit(ctx, id)
			must(t, err)
		}
		for name, order := range map[string]struct{ first, second func(*device.Client, string) }{
			"completed reaches the server first": {complete, cancel},
			"cancelled reaches the server first": {cancel, complete},
		} {
			p := e.pair(e.rep1)
			v := e.plannedVisit(p)
			order.first(p.a, v.ID)
			order.second(p.b, v.ID)
			e.sync(p.a)
			rep := e.sync(p.b)
			if rep.Merged != 1 {
				t.Errorf("%s: second device got %+v (%s), want merged", name, rep, failures(t, p.b))
			}
			got, err := p.b.Visit(ctx, v.ID)
			must(t, err)
			if got.Status != domain.VisitCompleted {
				t.Errorf("%s: status %s, want completed (a visit that happened beats a cancellation)", name, got.Status)
			}
			e.sync(p.a)
			mirrorsEqual(t, p.a, p.b)
		}

		// Without a concurrent cancellation the state machine still holds: a
		// device that saw the visit cancelled cannot complete it.
		p := e.pair(e.rep1)
		v := e.plannedVisit(p)
		cancel(p.a, v.ID)
		e.sync(p.a)
		must(t, p.a.Mutate(ctx, "visits", "upsert", v.ID, map[string]any{"status": "completed",
			"checked_in_at": day, "checked_out_at": day.Add(time.Hour)}))
		if rep := e.sync(p.a); rep.Rejected != 1 {
			t.Errorf("completing a cancelled visit: %+v, want rejected", rep)
		}
	})
}

// TestPolicy_VisitReportDeviceWins: both wrote the report: the later device's
// report wins and the replaced one is kept in an auto-resolved conflict.
func TestPolicy_VisitReportDeviceWins(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		p := e.pair(e.rep1)
		v := e.plannedVisit(p)
		for _, c := range []*device.Client{p.a, p.b} {
			_, err := c.CheckIn(ctx, v.ID, day, 52.52, 13.40)
			must(t, err)
		}
		_, err := p.a.CheckOut(ctx, v.ID, day.Add(time.Hour), "order", "A: buyer wants samples")
		must(t, err)
		_, err = p.b.CheckOut(ctx, v.ID, day.Add(time.Hour), "follow_up", "B: call back Monday")
		must(t, err)
		if rep := e.both(p); rep.Merged != 1 {
			t.Errorf("b's report: %+v, want merged", rep)
		}
		got, err := p.a.Visit(ctx, v.ID)
		must(t, err)
		if got.Report == nil || *got.Report != "B: call back Monday" || got.Outcome == nil || *got.Outcome != "follow_up" {
			t.Errorf("merged visit report=%v outcome=%v: the device's values win", got.Report, got.Outcome)
		}
		auto := e.conflicts(e.mgr, "resolved", v.ID)
		if len(auto) != 1 || auto[0].Resolution == nil || *auto[0].Resolution != "auto" ||
			!strings.Contains(string(auto[0].ServerRow), "A: buyer wants samples") {
			t.Errorf("conflicts on the visit %+v: want one auto-resolved record keeping A's report", auto)
		}
	})
}

// TestPolicy_OrderConfirmedIsConflict: an order the coordinator confirmed is
// not changed by a stale device: the device's change becomes a conflict the
// coordinator sees, and the device shows the confirmed order again.
func TestPolicy_OrderConfirmedIsConflict(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		p := e.pair(e.rep1)
		o, err := p.a.DraftOrder(ctx, e.a1, nil, []domain.OrderLine{{ProductID: e.p1, Quantity: 2}}, "")
		must(t, err)
		_, err = p.a.SubmitOrder(ctx, o.ID)
		must(t, err)
		e.sync(p.a)
		e.sync(p.b)
		submitted, err := p.b.Order(ctx, o.ID)
		must(t, err)
		var confirmed domain.Order
		e.ok(http.MethodPost, "/v1/orders/"+o.ID+"/transition", e.token(e.coord, "desk-pc"),
			map[string]any{"to": "confirmed", "expected_version": submitted.Version}, http.StatusOK, &confirmed)
		_, err = p.b.CancelOrder(ctx, o.ID)
		must(t, err)
		rep := e.sync(p.b)
		if rep.Conflicts != 1 {
			t.Fatalf("cancel after confirmation: %+v, want a conflict", rep)
		}
		got, err := p.b.Order(ctx, o.ID)
		must(t, err)
		if got.Status != domain.OrderConfirmed || got.Version != confirmed.Version {
			t.Errorf("device order %s v%d, want the confirmed v%d back", got.Status, got.Version, confirmed.Version)
		}
		local, err := p.b.Conflicts(ctx)
		must(t, err)
		if len(local) != 1 || local[0].RowID != o.ID {
			t.Errorf("device conflicts %+v, want the order's", local)
		}
		desk := e.conflicts(e.coord, "open", o.ID)
		if len(desk) != 1 || !strings.Contains(string(desk[0].DeviceRow), domain.OrderCancelled) {
			t.Errorf("coordinator sees %+v, want one open conflict holding the attempted cancel", desk)
		}
		e.both(p)
	})
}

// TestPolicy_OrderLines: both devices changed a draft's lines: conflict; one
// changed lines and the other the note: merged.
func TestPolicy_OrderLines(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		p := e.pair(e.rep1)
		o, err := p.a.DraftOrder(ctx, e.a1, nil, []domain.OrderLine{{ProductID: e.p1, Quantity: 1}}, "")
		must(t, err)
		e.sync(p.a)
		e.sync(p.b)
		_, err = p.a.EditOrder(ctx, o.ID, []domain.OrderLine{{ProductID: e.p1, Quantity: 5}}, nil)
		must(t, err)
		_, err = p.b.EditOrder(ctx, o.ID, []domain.OrderLine{{ProductID: e.p2, Quantity: 1}}, nil)
		must(t, err)
		if rep := e.both(p); rep.Conflicts != 1 {
			t.Errorf("both changed lines: %+v, want a conflict", rep)
		}
		got, err := p.b.Order(ctx, o.ID)
		must(t, err)
		if len(got.Lines) != 1 || got.Lines[0].ProductID != e.p1 || got.Lines[0].Quantity != 5 {
			t.Errorf("device b shows lines %+v, want the server's (a's)", got.Lines)
		}

		_, err = p.a.EditOrder(ctx, o.ID, []domain.OrderLine{{ProductID: e.p2, Quantity: 3}}, nil)
		must(t, err)
		_, err = p.b.EditOrder(ctx, o.ID, nil, ptr("deliver to the back door"))
		must(t, err)
		if rep := e.both(p); rep.Merged != 1 {
			t.Errorf("lines vs note: %+v, want merged", rep)
		}
		got, err = p.a.Order(ctx, o.ID)
		must(t, err)
		if len(got.Lines) != 1 || got.Lines[0].Quantity != 3 || got.Note == nil || *got.Note != "deliver to the back door" {
			t.Errorf("merged order lines=%+v note=%v: want a's lines and b's note", got.Lines, got.Note)
		}
		if got.TotalCents != 3*500 {
			t.Errorf("total %d, want the server's 3 x 500", got.TotalCents)
		}
	})
}

// TestPolicy_NoteBodyFork: both rewrote a note's body: the server keeps its
// body and the device's becomes a new note with conflict_of, which reaches
// both devices by pull.
func TestPolicy_NoteBodyFork(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		p := e.pair(e.rep1)
		n, err := p.a.AddNote(ctx, e.a1, "original")
		must(t, err)
		e.sync(p.a)
		e.sync(p.b)
		_, err = p.a.EditNote(ctx, n.ID, "A's version")
		must(t, err)
		_, err = p.b.EditNote(ctx, n.ID, "B's version")
		must(t, err)
		if rep := e.both(p); rep.Merged != 1 {
			t.Errorf("both rewrote the body: %+v, want merged", rep)
		}
		for name, c := range map[string]*device.Client{"a": p.a, "b": p.b} {
			notes, err := c.Notes(ctx, e.a1)
			must(t, err)
			var orig, fork *domain.AccountNote
			for i := range notes {
				switch {
				case notes[i].ID == n.ID:
					orig = &notes[i]
				case notes[i].ConflictOf != nil && *notes[i].ConflictOf == n.ID:
					fork = &notes[i]
				}
			}
			if orig == nil || orig.Body != "A's version" {
				t.Errorf("device %s: original note %+v, want the server's body kept", name, orig)
			}
			if fork == nil || fork.Body != "B's version" {
				t.Errorf("device %s: fork %+v, want B's body with conflict_of the original", name, fork)
			}
		}
	})
}

// TestPolicy_NoteDeleteVsEdit: deleting a note edited elsewhere since is not
// applied: the note stays, with the edit.
func TestPolicy_NoteDeleteVsEdit(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		p := e.pair(e.rep1)
		n, err := p.a.AddNote(ctx, e.a1, "original")
		must(t, err)
		e.sync(p.a)
		e.sync(p.b)
		_, err = p.a.EditNote(ctx, n.ID, "still relevant")
		must(t, err)
		must(t, p.b.DeleteNote(ctx, n.ID))
		if rep := e.both(p); rep.Merged != 1 {
			t.Errorf("delete after an edit: %+v, want merged", rep)
		}
		got, err := p.b.Note(ctx, n.ID)
		if err != nil || got.Body != "still relevant" {
			t.Errorf("note on b = %+v (%v), want it kept with the edit", got, err)
		}
	})
}

// TestPolicy_AccountContact: both changed a contact field: the device's value
// wins; a rep's change to a non-contact field is rejected.
func TestPolicy_AccountContact(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		p := e.pair(e.rep1)
		_, err := p.a.EditAccountContact(ctx, e.a1, ptr("+49 111"), nil, nil)
		must(t, err)
		_, err = p.b.EditAccountContact(ctx, e.a1, ptr("+49 222"), ptr("buyer@alpha.example"), nil)
		must(t, err)
		must(t, p.b.Mutate(ctx, "accounts", "upsert", e.a1b, map[string]any{"name": "Renamed by a rep"}))
		rep := e.both(p)
		if rep.Merged != 1 || rep.Rejected != 1 {
			t.Errorf("b's sync %+v: want the contact merged and the rename rejected", rep)
		}
		got, err := p.a.Account(ctx, e.a1)
		must(t, err)
		if got.Phone == nil || *got.Phone != "+49 222" || got.Email == nil || *got.Email != "buyer@alpha.example" {
			t.Errorf("account phone=%v email=%v: the later device's values win", got.Phone, got.Email)
		}
	})
}

// TestPolicy_WriteAfterLosingScope: a rep's offline writes against an account
// reassigned meanwhile become conflicts with reason out_of_scope for the
// account's new managers; writes against accounts never held are rejected.
func TestPolicy_WriteAfterLosingScope(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rep1 := e.synced(e.rep1)
		v, err := rep1.PlanVisit(ctx, e.a1, day)
		must(t, err)
		e.sync(rep1)
		_, err = rep1.CheckIn(ctx, v.ID, day, 52.52, 13.40)
		must(t, err)
		_, err = rep1.CheckOut(ctx, v.ID, day.Add(time.Hour), "order", "recorded in the basement")
		must(t, err)
		n, err := rep1.AddNote(ctx, e.a1, "new buyer: Ms Weber")
		must(t, err)
		_, err = e.admin.UpdateAccount(ctx, e.a1, accountTo(e.t2))
		must(t, err)
		rep := e.sync(rep1)
		if rep.Conflicts != 2 {
			t.Fatalf("writes after the move: %+v (%s), want 2 conflicts", rep, failures(t, rep1))
		}
		local, err := rep1.Conflicts(ctx)
		must(t, err)
		for _, c := range local {
			if c.Reason != "out_of_scope" {
				t.Errorf("device conflict %s %s: reason %q, want out_of_scope", c.Table, c.RowID, c.Reason)
			}
		}
		for _, id := range []string{v.ID, n.ID} {
			seen := e.conflicts(e.mgr, "open", id)
			if len(seen) != 1 || seen[0].Reason != "out_of_scope" || !strings.Contains(string(seen[0].DeviceRow), "Ms Weber") &&
				!strings.Contains(string(seen[0].DeviceRow), "recorded in the basement") {
				t.Errorf("manager sees %+v for %s, want one out_of_scope conflict holding the device's write", seen, id)
			}
		}
		e.converged(rep1)

		rep2 := e.synced(e.rep2)
		must(t, rep2.Mutate(ctx, "visits", "upsert", newID(), map[string]any{"account_id": e.a1b, "planned_at": day}))
		if rep := e.sync(rep2); rep.Rejected != 1 {
			t.Errorf("a visit on an account rep2 never had: %+v, want rejected", rep)
		}
	})
}

func accountTo(territory string) backoffice.AccountPatch {
	return backoffice.AccountPatch{TerritoryID: backoffice.Some(territory)}
}

// failures describes a device's failed mutations for a test message.
func failures(t *testing.T, c *device.Client) string {
	t.Helper()
	failed, err := c.Failed(context.Background())
	must(t, err)
	var out []string
	for _, f := range failed {
		out = append(out, fmt.Sprintf("%s %s %s rejected: %v", f.Table, f.Op, f.RowID, f.Err))
	}
	return "failed: [" + strings.Join(out, "; ") + "]"
}
