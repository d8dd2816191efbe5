package acceptance

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// flaky is a transport that breaks chosen push requests: lose delivers the
// request and throws the answer away (the response was lost on the way back),
// drop fails it before it leaves. Requests are numbered from 1.
type flaky struct {
	base       http.RoundTripper
	mu         sync.Mutex
	n          int
	lose, drop map[int]bool
}

var errNetwork = errors.New("flaky: connection reset")

func (f *flaky) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path != "/v1/sync/push" {
		return f.base.RoundTrip(req)
	}
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	if f.drop[n] {
		return nil, errNetwork
	}
	resp, err := f.base.RoundTrip(req)
	if err != nil || !f.lose[n] {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return nil, errNetwork
}

// serverRow reads one row as the server holds it now (zero version: absent).
func (e *env) serverRow(table, id string, into any) int64 {
	e.t.Helper()
	rows, err := store.FetchRows(e.db.Autocommit(context.Background()), table, []string{id})
	must(e.t, err)
	r, ok := rows[id]
	if !ok {
		return 0
	}
	if into != nil {
		must(e.t, json.Unmarshal(r.JSON, into))
	}
	return r.Version
}

// TestPush_IdempotentReplay: a push whose response was lost is resent byte for
// byte and answered from the stored results: exactly one row, same version.
func TestPush_IdempotentReplay(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		net := &flaky{base: http.DefaultTransport, lose: map[int]bool{1: true}}
		rep1 := e.synced(e.rep1, withTransport(net))
		v, err := rep1.PlanVisit(ctx, e.a1, day)
		must(t, err)
		o, err := rep1.DraftOrder(ctx, e.a1, nil, []domain.OrderLine{{ProductID: e.p1, Quantity: 1}}, "")
		must(t, err)
		_, err = rep1.Sync(ctx)
		if !errors.Is(err, errNetwork) || !device.IsRetryable(err) {
			t.Fatalf("first Sync = %v, want the lost response as a retryable error", err)
		}
		if e.serverRow(domain.TableVisits, v.ID, nil) != 1 {
			t.Fatal("the lost push did not reach the server: the test proves nothing")
		}
		if n, _ := rep1.OutboxLen(ctx); n != 2 {
			t.Fatalf("outbox after the lost response holds %d, want 2", n)
		}
		rep := e.sync(rep1)
		if rep.Applied != 2 {
			t.Errorf("replay answered %+v, want both applied again", rep)
		}
		var count int64
		must(t, e.db.Gorm.Table("visits").Where("account_id = ?", e.a1).Count(&count).Error)
		if count != 1 || e.serverRow(domain.TableVisits, v.ID, nil) != 1 || e.serverRow(domain.TableOrders, o.ID, nil) != 1 {
			t.Errorf("after the replay: %d visits on a1, visit v%d, order v%d; want one of each at version 1",
				count, e.serverRow(domain.TableVisits, v.ID, nil), e.serverRow(domain.TableOrders, o.ID, nil))
		}
		e.converged(rep1)
	})
}

// TestPush_InOrderEachAtomic: mutations apply in order, each on its own; an
// invalid one in the middle changes nothing and stops nothing.
func TestPush_InOrderEachAtomic(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rep1 := e.synced(e.rep1)
		good, bad, note := newID(), newID(), newID()
		must(t, rep1.Mutate(ctx, "visits", "upsert", good, map[string]any{"account_id": e.a1, "planned_at": day}))
		must(t, rep1.Mutate(ctx, "visits", "upsert", bad, map[string]any{"account_id": e.a1, "planned_at": day,
			"status": "completed", "checked_in_at": day.Add(time.Hour), "checked_out_at": day, "report": "time travel"}))
		must(t, rep1.Mutate(ctx, "account_notes", "upsert", note, map[string]any{"account_id": e.a1, "body": "after the bad one"}))
		rep := e.sync(rep1)
		if rep.Applied != 2 || rep.Rejected != 1 {
			t.Errorf("report %+v: want 2 applied, 1 rejected", rep)
		}
		if e.serverRow(domain.TableVisits, bad, nil) != 0 {
			t.Error("the rejected visit was written")
		}
		if e.serverRow(domain.TableVisits, good, nil) != 1 || e.serverRow(domain.TableAccountNotes, note, nil) != 1 {
			t.Error("the valid mutations around the rejected one were not applied")
		}

		// Order matters within one request: the update of a row created earlier
		// in the same batch sees the create.
		tok := e.token(e.rep1, "raw-client")
		v := newID()
		muts := []wire.Mutation{
			rawMut("visits", "upsert", v, 0, map[string]any{"account_id": e.a1, "planned_at": day}),
			rawMut("visits", "upsert", newID(), 0, map[string]any{"account_id": e.a1}), // no planned_at
			rawMut("visits", "upsert", v, 1, map[string]any{"status": "checked_in", "checked_in_at": day}),
			rawMut("visits", "upsert", v, 2, map[string]any{"status": "completed", "checked_out_at": day.Add(time.Hour)}),
		}
		var resp wire.PushResponse
		e.ok(http.MethodPost, "/v1/sync/push", tok, wire.PushRequest{Mutations: muts}, http.StatusOK, &resp)
		want := []string{"applied", "rejected", "applied", "applied"}
		for i, r := range resp.Results {
			if r.MutationID != muts[i].MutationID || r.Status != want[i] {
				t.Errorf("result %d = %s %s, want %s %s", i, r.MutationID, r.Status, muts[i].MutationID, want[i])
			}
		}
		var got domain.Visit
		if e.serverRow(domain.TableVisits, v, &got) != 3 || got.Status != domain.VisitCompleted {
			t.Errorf("visit after the batch: %+v, want completed at version 3", got)
		}
	})
}

func rawMut(table, op, id string, base int64, row map[string]any) wire.Mutation {
	m := wire.Mutation{MutationID: newID(), Table: table, Op: op, ID: id, BaseVersion: base}
	if row != nil {
		m.Row, _ = json.Marshal(row)
	}
	return m
}

// TestPush_ServerOwnedFieldsIgnored: version, updated_at, totals, numbers,
// author_id and rep_id sent by a rep are ignored; the server sets them.
func TestPush_ServerOwnedFieldsIgnored(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rep1 := e.synced(e.rep1)
		// Each table's own server-owned fields; unknown fields are refused.
		forged := map[string]any{"version": 42, "updated_at": "2001-01-01T00:00:00Z"}
		with := func(m map[string]any) map[string]any {
			for k, v := range forged {
				m[k] = v
			}
			return m
		}
		v, o, n := newID(), newID(), newID()
		must(t, rep1.Mutate(ctx, "visits", "upsert", v, with(map[string]any{"account_id": e.a1, "planned_at": day,
			"rep_id": e.rep2, "check_in_distance_m": 0.5})))
		must(t, rep1.Mutate(ctx, "orders", "upsert", o, with(map[string]any{"account_id": e.a1, "number": "FAKE-1", "rep_id": e.rep2,
			"total_cents": 1, "submitted_at": day, "lines": []map[string]any{{"product_id": e.p1, "quantity": 2}}})))
		must(t, rep1.Mutate(ctx, "account_notes", "upsert", n, with(map[string]any{"account_id": e.a1, "body": "hi", "author_id": e.rep2})))
		if rep := e.sync(rep1); rep.Applied != 3 {
			t.Fatalf("report %+v: want 3 applied (%s)", rep, failures(t, rep1))
		}
		var visit domain.Visit
		var order domain.Order
		var note domain.AccountNote
		e.serverRow(domain.TableVisits, v, &visit)
		e.serverRow(domain.TableOrders, o, &order)
		e.serverRow(domain.TableAccountNotes, n, &note)
		old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		if visit.Version != 1 || visit.UpdatedAt.Equal(old) || visit.RepID != e.rep1 || visit.CheckInDistanceM != nil {
			t.Errorf("visit %+v kept a forged server-owned field", visit)
		}
		if order.Version != 1 || order.RepID != e.rep1 || order.Number != nil || order.SubmittedAt != nil || order.TotalCents == 1 {
			t.Errorf("order %+v kept a forged server-owned field", order)
		}
		if note.Version != 1 || note.AuthorID != e.rep1 {
			t.Errorf("note %+v kept a forged server-owned field", note)
		}
		e.converged(rep1)
	})
}

// TestPush_RejectedWithFieldErrors: an invalid mutation is rejected with field
// errors, which the device keeps and shows through Failed(); the local row
// goes back to the server's copy.
func TestPush_RejectedWithFieldErrors(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rep1 := e.synced(e.rep1)
		v, err := rep1.PlanVisit(ctx, e.a1, day)
		must(t, err)
		e.sync(rep1)
		must(t, rep1.Mutate(ctx, "visits", "upsert", v.ID, map[string]any{"status": "completed"}))
		must(t, rep1.Mutate(ctx, "orders", "upsert", newID(), map[string]any{"account_id": e.a1,
			"lines": []map[string]any{{"product_id": e.p1, "quantity": 0, "discount_pct": 150}}}))
		if rep := e.sync(rep1); rep.Rejected != 2 {
			t.Fatalf("report %+v: want 2 rejected", rep)
		}
		failed, err := rep1.Failed(ctx)
		must(t, err)
		if len(failed) != 2 {
			t.Fatalf("Failed() = %+v, want the 2 rejected mutations", failed)
		}
		wantFields := [][]string{{"checked_in_at"}, {"lines[0].quantity", "lines[0].discount_pct"}}
		for i, f := range failed {
			if f.Err == nil || f.Err.Code != domain.CodeValidation {
				t.Errorf("failed[%d].Err = %+v, want validation_failed", i, f.Err)
				continue
			}
			for _, field := range wantFields[i] {
				if !hasField(f.Err.Fields, field) {
					t.Errorf("failed[%d] fields %+v lack %s", i, f.Err.Fields, field)
				}
			}
		}
		if got, err := rep1.Visit(ctx, v.ID); err != nil || got.Status != domain.VisitPlanned {
			t.Errorf("local visit after the rejection = %+v (%v), want the server's planned copy", got, err)
		}
		if n, _ := rep1.OutboxLen(ctx); n != 0 {
			t.Errorf("%d pending mutations: failed ones must not be resent", n)
		}
		e.sync(rep1)
		if again, _ := rep1.Failed(ctx); len(again) != 2 {
			t.Errorf("failed mutations changed on the next Sync: %+v", again)
		}
	})
}

func hasField(fields []domain.FieldError, name string) bool {
	for _, f := range fields {
		if f.Field == name {
			return true
		}
	}
	return false
}

// TestPush_OtherUsersRows: a rep may not change another rep's visit, order or
// note, even one they can see.
func TestPush_OtherUsersRows(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rep1 := e.synced(e.rep1)
		h := e.record(rep1, e.a1)
		rep3 := e.synced(e.rep3)
		if _, err := rep3.Visit(ctx, h.visit); err != nil {
			t.Fatalf("rep3 works T1 and must see rep1's visit: %v", err)
		}
		must(t, rep3.Mutate(ctx, "visits", "upsert", h.visit, map[string]any{"report": "rewritten by rep3"}))
		must(t, rep3.Mutate(ctx, "orders", "upsert", h.order, map[string]any{"note": "rep3 was here"}))
		must(t, rep3.Mutate(ctx, "account_notes", "delete", h.note, nil))
		if rep := e.sync(rep3); rep.Rejected != 3 {
			t.Errorf("report %+v: want 3 rejected", rep)
		}
		failed, err := rep3.Failed(ctx)
		must(t, err)
		for _, f := range failed {
			if f.Err == nil || f.Err.Code != domain.CodeForbidden {
				t.Errorf("%s %s: error %+v, want forbidden", f.Table, f.RowID, f.Err)
			}
		}
		e.converged(rep3)
		e.converged(rep1)
	})
}

// TestPush_UnknownTableOrOp: an unknown table or op is rejected with its code.
func TestPush_UnknownTableOrOp(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rep1 := e.synced(e.rep1)
		must(t, rep1.Mutate(ctx, "widgets", "upsert", newID(), map[string]any{"name": "x"}))
		must(t, rep1.Mutate(ctx, "visits", "merge", newID(), map[string]any{"account_id": e.a1}))
		e.sync(rep1)
		failed, err := rep1.Failed(ctx)
		must(t, err)
		codes := map[string]domain.Code{}
		for _, f := range failed {
			if f.Err != nil {
				codes[f.Table+"/"+f.Op] = f.Err.Code
			}
		}
		if codes["widgets/upsert"] != domain.CodeUnknownTable || codes["visits/merge"] != domain.CodeUnknownOp {
			t.Errorf("rejection codes %v, want unknown_table and unknown_op", codes)
		}
		e.converged(rep1)
	})
}

// TestPush_TooLarge: more than 500 mutations or more than 1 MiB is 413;
// exactly 500 is accepted.
func TestPush_TooLarge(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		tok := e.token(e.rep1, "raw-client")
		batch := func(n int) wire.PushRequest {
			req := wire.PushRequest{}
			for i := 0; i < n; i++ {
				req.Mutations = append(req.Mutations, rawMut("widgets", "upsert", newID(), 0, map[string]any{}))
			}
			return req
		}
		var resp wire.PushResponse
		e.ok(http.MethodPost, "/v1/sync/push", tok, batch(500), http.StatusOK, &resp)
		if len(resp.Results) != 500 {
			t.Errorf("500 mutations answered %d results", len(resp.Results))
		}
		wantTooLarge(t, e, tok, batch(501))
		huge := wire.PushRequest{Mutations: []wire.Mutation{rawMut("account_notes", "upsert", newID(), 0,
			map[string]any{"account_id": e.a1, "body": strings.Repeat("x", 1<<20)})}}
		wantTooLarge(t, e, tok, huge)
		var count int64
		must(t, e.db.Gorm.Table("account_notes").Count(&count).Error)
		if count != 0 {
			t.Errorf("a refused request wrote %d notes", count)
		}
	})
}

func wantTooLarge(t *testing.T, e *env, tok string, req wire.PushRequest) {
	t.Helper()
	status, body := e.do(http.MethodPost, "/v1/sync/push", tok, req)
	var env wire.ErrorBody
	if status != http.StatusRequestEntityTooLarge || json.Unmarshal(body, &env) != nil || env.Error.Code != string(domain.CodeTooLarge) {
		t.Errorf("push of %d mutations = %d %.200s, want 413 too_large", len(req.Mutations), status, body)
	}
}

// TestPush_PendingRecorded: the outbox size a device reports with each push is
// kept for the sync-health report.
func TestPush_PendingRecorded(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		net := &flaky{base: http.DefaultTransport, drop: map[int]bool{2: true}}
		rep1 := e.synced(e.rep1, withTransport(net), func(o *device.Options) { o.PushBatch = 2 })
		for i := 0; i < 5; i++ {
			_, err := rep1.PlanVisit(ctx, e.a1, day.Add(time.Duration(i)*time.Hour))
			must(t, err)
		}
		if _, err := rep1.Sync(ctx); !errors.Is(err, errNetwork) {
			t.Fatalf("Sync = %v, want the dropped second push", err)
		}
		if got := e.pending(rep1); got != 3 {
			t.Errorf("pending recorded after the first batch = %d, want 3", got)
		}
		mgr := e.token(e.mgr, "manager-laptop")
		var report struct {
			Items []struct {
				DeviceID string `json:"device_id"`
				Pending  *int64 `json:"pending"`
			} `json:"items"`
		}
		e.ok(http.MethodGet, "/v1/reports/sync-health", mgr, nil, http.StatusOK, &report)
		found := false
		for _, it := range report.Items {
			if it.DeviceID == rep1.DeviceID() {
				found = it.Pending != nil && *it.Pending == 3
			}
		}
		if !found {
			t.Errorf("sync-health %+v does not show pending 3 for rep1's device", report.Items)
		}
		e.sync(rep1)
		if got := e.pending(rep1); got != 0 {
			t.Errorf("pending recorded after the outbox drained = %d, want 0", got)
		}
	})
}

// pending is the outbox size the server recorded for c's device, -1 if none.
func (e *env) pending(c *device.Client) int64 {
	e.t.Helper()
	var got int64 = -1
	e.tx(func(tx *store.Tx) error {
		devices, err := store.ListDevices(tx, c.UserID())
		for _, d := range devices {
			if d.DeviceID == c.DeviceID() && d.Pending != nil {
				got = *d.Pending
			}
		}
		return err
	})
	return got
}

// TestPush_RevokedOrExpiredToken: once ops revokes a device, or its token
// expires, Sync fails with 401 and the outbox stays intact for after the next
// login.
func TestPush_RevokedOrExpiredToken(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rep1 := e.synced(e.rep1)
		ops := e.token(e.ops, "ops-laptop")
		expire := func() {
			must(t, e.db.Gorm.Exec("UPDATE tokens SET expires_at = ? WHERE device_id = ?", day.AddDate(-1, 0, 0), rep1.DeviceID()).Error)
			// A hand-made SQL edit announces nothing: the server's token
			// cache would trust the token for up to its TTL
			// (docs/operations.md). Announce it as a revocation would.
			e.srv.Auth.NoteCommitted([]string{store.DeviceNoteKey + rep1.DeviceID()})
		}
		revoke := func() {
			e.ok(http.MethodDelete, "/v1/admin/devices/"+rep1.DeviceID(), ops, nil, http.StatusNoContent, nil)
		}
		for name, lose := range map[string]func(){"revoked": revoke, "expired": expire} {
			note := offlineNote(t, rep1, e.a1)
			lose()
			_, err := rep1.Sync(ctx)
			if errStatus(err) != http.StatusUnauthorized || device.IsRetryable(err) {
				t.Errorf("%s: Sync = %v, want a non-retryable 401", name, err)
			}
			if n, _ := rep1.OutboxLen(ctx); n != 1 {
				t.Errorf("%s: outbox holds %d after the 401, want 1", name, n)
			}
			if e.serverRow(domain.TableAccountNotes, note.ID, nil) != 0 {
				t.Errorf("%s: the note reached the server with a dead token", name)
			}
			if _, err := rep1.Login(ctx, e.email[e.rep1], password); err != nil {
				t.Fatalf("%s: login again: %v", name, err)
			}
			e.sync(rep1)
			if e.serverRow(domain.TableAccountNotes, note.ID, nil) != 1 {
				t.Errorf("%s: the offline note did not arrive after the new login", name)
			}
		}
		e.converged(rep1)
	})
}
