package device_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
)

func TestPush_Outbox(t *testing.T) {
	t.Run("CreationOrderAndPending", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{PushBatch: 2})
		mustSync(t, w.c)
		var ids []string
		for _, body := range []string{"one", "two", "three", "four", "five"} {
			n, err := w.c.AddNote(ctx, w.account, body)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, n.ID)
		}
		rep := mustSync(t, w.c)
		if rep.Pushed != 5 || rep.Applied != 5 {
			t.Fatalf("report %+v", rep)
		}
		pushes := w.f.pushLog()
		var sent []string
		var pending []int64
		for _, p := range pushes {
			if p.req.DeviceID != w.c.DeviceID() {
				t.Fatalf("push from device %q, want %q", p.req.DeviceID, w.c.DeviceID())
			}
			for _, m := range p.req.Mutations {
				sent = append(sent, m.ID)
			}
			pending = append(pending, *p.req.Pending)
		}
		if len(pushes) != 3 || !slices.Equal(sent, ids) || !slices.Equal(pending, []int64{3, 1, 0}) {
			t.Fatalf("%d pushes, rows %v (want %v), pending %v", len(pushes), sent, ids, pending)
		}
		if n, _ := w.c.OutboxLen(ctx); n != 0 {
			t.Fatalf("outbox holds %d after a clean sync", n)
		}
		notes, _ := w.c.Notes(ctx, w.account)
		for _, n := range notes {
			if n.Version != 1 || n.AuthorID != w.repID {
				t.Fatalf("note not taken from the server's answer: %+v", n)
			}
		}
	})
	t.Run("LostResponseResendsIdenticalMutation", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		mustSync(t, w.c)
		note, err := w.c.AddNote(ctx, w.account, "first draft")
		if err != nil {
			t.Fatal(err)
		}
		w.f.losePushes = 1
		_, err = w.c.Sync(ctx)
		if err == nil || !device.IsRetryable(err) {
			t.Fatalf("lost response: err %v, retryable %v", err, device.IsRetryable(err))
		}
		if n, _ := w.c.OutboxLen(ctx); n != 1 {
			t.Fatalf("outbox holds %d after a failed push, want 1", n)
		}
		// An edit made while the create's fate is unknown must not alter it.
		if _, err := w.c.EditNote(ctx, note.ID, "second draft"); err != nil {
			t.Fatal(err)
		}
		mustSync(t, w.c)

		pushes := w.f.pushLog()
		if len(pushes) != 3 {
			t.Fatalf("%d pushes, want 3 (lost, resend, edit)", len(pushes))
		}
		first, again := rawMutations(t, pushes[0].raw), rawMutations(t, pushes[1].raw)
		if len(again) != 1 || string(first[0]) != string(again[0]) {
			t.Fatalf("resend differs:\n%s\n%s", first[0], again)
		}
		edit := pushes[2].req.Mutations[0]
		if edit.BaseVersion != 1 || string(edit.Row) != `{"body":"second draft"}` {
			t.Fatalf("edit after the create: base %d row %s, want base 1 (the create's version)", edit.BaseVersion, edit.Row)
		}
		if got := w.f.row(domain.TableAccountNotes, note.ID)["body"]; got != "second draft" {
			t.Fatalf("server body %v", got)
		}
	})
	t.Run("ServerErrorKeepsOutbox", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		mustSync(t, w.c)
		if _, err := w.c.AddNote(ctx, w.account, "x"); err != nil {
			t.Fatal(err)
		}
		w.f.mu.Lock()
		w.f.tokens = map[string]string{} // revoked
		w.f.mu.Unlock()
		_, err := w.c.Sync(ctx)
		var se *device.ServerError
		if !asServerError(err, &se) || se.Status != http.StatusUnauthorized || device.IsRetryable(err) {
			t.Fatalf("revoked token: %v", err)
		}
		wantCode(t, err, domain.CodeUnauthorized)
		if n, _ := w.c.OutboxLen(ctx); n != 1 {
			t.Fatalf("outbox holds %d, want 1", n)
		}
	})
}

func TestPush_Results(t *testing.T) {
	t.Run("Conflict", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		mustSync(t, w.c)
		w.f.decide = func(m wire.Mutation) *wire.MutationResult {
			row, _ := json.Marshal(w.f.rows[m.Table][m.ID])
			return &wire.MutationResult{Status: wire.StatusConflict, Version: 1, Row: row, ConflictID: "c-1", Reason: "out_of_scope"}
		}
		if _, err := w.c.EditAccountContact(ctx, w.account, ptr("+4500000000"), nil, nil); err != nil {
			t.Fatal(err)
		}
		mutationID := outbox(t, w.c)[0].MutationID
		rep := mustSync(t, w.c)
		if rep.Conflicts != 1 {
			t.Fatalf("report %+v", rep)
		}
		cs, err := w.c.Conflicts(ctx)
		if err != nil || len(cs) != 1 {
			t.Fatalf("conflicts %+v %v", cs, err)
		}
		c := cs[0]
		if c.ConflictID != "c-1" || c.MutationID != mutationID || c.Table != domain.TableAccounts || c.RowID != w.account ||
			c.Reason != "out_of_scope" || string(c.Patch) != `{"phone":"+4500000000"}` {
			t.Fatalf("conflict %+v", c)
		}
		acc, _ := w.c.Account(ctx, w.account)
		if *acc.Phone != "+4512345678" {
			t.Fatalf("local row kept the conflicting change: %v", *acc.Phone)
		}
		if n, _ := w.c.OutboxLen(ctx); n != 0 {
			t.Fatalf("outbox holds %d", n)
		}
	})
	t.Run("Rejected", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		mustSync(t, w.c)
		kept, err := w.c.AddNote(ctx, w.account, "kept")
		if err != nil {
			t.Fatal(err)
		}
		mustSync(t, w.c)
		w.f.decide = func(m wire.Mutation) *wire.MutationResult {
			return &wire.MutationResult{Status: wire.StatusRejected, Error: &wire.ErrorDetail{Code: "forbidden",
				Message: "not allowed", Fields: []domain.FieldError{{Field: "body", Message: "no"}}}}
		}
		if _, err := w.c.EditNote(ctx, kept.ID, "refused edit"); err != nil {
			t.Fatal(err)
		}
		refusedCreate, err := w.c.AddNote(ctx, w.account, "refused create")
		if err != nil {
			t.Fatal(err)
		}
		rep := mustSync(t, w.c)
		if rep.Rejected != 2 {
			t.Fatalf("report %+v", rep)
		}
		failed, err := w.c.Failed(ctx)
		if err != nil || len(failed) != 2 {
			t.Fatalf("failed %+v %v", failed, err)
		}
		if e := failed[0].Err; e == nil || e.Code != domain.CodeForbidden || len(e.Fields) != 1 || failed[0].RowID != kept.ID {
			t.Fatalf("failed[0] %+v", failed[0])
		}
		if n, _ := w.c.Note(ctx, kept.ID); n.Body != "kept" {
			t.Fatalf("rejected edit still shown: %q", n.Body)
		}
		_, err = w.c.Note(ctx, refusedCreate.ID)
		wantCode(t, err, domain.CodeNotFound)

		w.f.decide = nil
		pushesBefore := len(w.f.pushLog())
		mustSync(t, w.c)
		if len(w.f.pushLog()) != pushesBefore {
			t.Fatal("a failed mutation was sent again")
		}
		if err := w.c.DismissFailed(ctx, failed[0].MutationID); err != nil {
			t.Fatal(err)
		}
		if f, _ := w.c.Failed(ctx); len(f) != 1 {
			t.Fatalf("after dismiss: %+v", f)
		}
	})
	t.Run("UnknownTableViaMutate", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		if err := w.c.Mutate(ctx, "invoices", "upsert", "11111111-1111-4111-8111-111111111111", map[string]any{"x": 1}); err != nil {
			t.Fatal(err)
		}
		mustSync(t, w.c)
		failed, _ := w.c.Failed(ctx)
		if len(failed) != 1 || failed[0].Err.Code != domain.CodeUnknownTable {
			t.Fatalf("failed %+v", failed)
		}
	})
}

func TestClient_Concurrency(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, device.Options{PushBatch: 3})
	mustSync(t, w.c)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				if _, err := w.c.AddNote(ctx, w.account, "note"); err != nil {
					errs <- err
				}
				if g == 0 && i%3 == 0 {
					if _, err := w.c.Sync(ctx); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mustSync(t, w.c)
	local, _ := w.c.RowVersions(ctx, domain.TableAccountNotes)
	if len(local) != 40 || len(w.f.rows[domain.TableAccountNotes]) != 40 {
		t.Fatalf("local %d notes, server %d, want 40 each", len(local), len(w.f.rows[domain.TableAccountNotes]))
	}
	for id, v := range local {
		if v != 1 {
			t.Fatalf("note %s at version %d", id, v)
		}
	}
}

func rawMutations(t *testing.T, body []byte) []json.RawMessage {
	t.Helper()
	var req struct {
		Mutations []json.RawMessage `json:"mutations"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	return req.Mutations
}

func asServerError(err error, target **device.ServerError) bool {
	return errors.As(err, target)
}

func TestPush_Mutate(t *testing.T) {
	t.Run("SecondEditOfARowWaitsAndRebases", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		mustSync(t, w.c)
		for _, phone := range []string{"+451", "+452"} {
			if err := w.c.Mutate(ctx, domain.TableAccounts, "upsert", w.account, map[string]any{"phone": phone}); err != nil {
				t.Fatal(err)
			}
		}
		ob := outbox(t, w.c)
		if len(ob) != 2 || ob[0].BaseVersion != 1 || ob[1].BaseVersion != 1 {
			t.Fatalf("outbox %+v", ob)
		}
		rep := mustSync(t, w.c)
		pushes := w.f.pushLog()
		last := pushes[len(pushes)-2:]
		if rep.Applied != 2 || len(last[0].req.Mutations) != 1 || last[1].req.Mutations[0].BaseVersion != 2 {
			t.Fatalf("report %+v; second edit sent as %+v", rep, last[1].req.Mutations)
		}
		if got := w.f.row(domain.TableAccounts, w.account)["phone"]; got != "+452" {
			t.Fatalf("server phone %v", got)
		}
	})
}

// TestPush_OutboxReadsPerBatchConstant: draining an outbox reads a bounded
// number of outbox rows per push request, however long the outbox is. Reading
// the whole outbox for every batch made a long outbox cost O(N²) reads.
func TestPush_OutboxReadsPerBatchConstant(t *testing.T) {
	const batch = 10
	perPush := map[int]float64{}
	for _, size := range []int{40, 400} {
		ctx := context.Background()
		w := newWorld(t, device.Options{PushBatch: batch})
		mustSync(t, w.c)
		for i := range size {
			if _, err := w.c.AddNote(ctx, w.account, fmt.Sprintf("note %d", i)); err != nil {
				t.Fatal(err)
			}
		}
		before := len(w.f.pushLog())
		reads := device.CountOutboxReads(w.c)
		rep := mustSync(t, w.c)
		pushes := len(w.f.pushLog()) - before
		if rep.Pushed != size || pushes != size/batch {
			t.Fatalf("outbox of %d: report %+v, %d pushes", size, rep, pushes)
		}
		perPush[size] = float64(reads.Load()) / float64(pushes)
		// A page of batch+1 rows for the batch, and at most one row per
		// mutation when its result is applied.
		if perPush[size] > 2*batch+1 {
			t.Errorf("outbox of %d: %.1f outbox rows read per push, want at most %d", size, perPush[size], 2*batch+1)
		}
	}
	if perPush[400] > perPush[40]+1 {
		t.Errorf("rows read per push grow with the outbox: %v", perPush)
	}
}
