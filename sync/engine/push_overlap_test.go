package engine_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/sync/engine"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// TestPush_OverlappingResendReplays: a device gives up on a push and resends it
// while the first attempt is still running. The first attempt is held open
// just before its commit (after every write); the resend starts, reaches the
// point where it waits for the first, and only then is the first let go. The
// resend must answer exactly what the first stored, for each kind of mutation
// whose re-execution answers differently: a create ("already exists"), an edit
// whose replay would conflict with itself, a batch of visit creates (a
// duplicate key failed the whole request), a delete (answered with the base
// version instead of the tombstone's).
func TestPush_OverlappingResendReplays(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		dev := o.actor(o.rep1)
		lines := []map[string]any{{"product_id": o.product, "quantity": 2}}

		order := uuid.NewString()
		o.push(t, o.rep1, mut("orders", "upsert", order, 0, map[string]any{"account_id": o.acc1, "lines": lines}))
		visit := uuid.NewString()
		o.push(t, o.rep1, mut("visits", "upsert", visit, 0, map[string]any{"account_id": o.acc1, "planned_at": "2026-11-23T09:00:00Z"}))

		var batch []wire.Mutation
		for range 3 {
			batch = append(batch, mut("visits", "upsert", uuid.NewString(), 0,
				map[string]any{"account_id": o.acc1, "planned_at": "2026-11-24T09:00:00Z"}))
		}
		cases := []struct {
			name string
			muts []wire.Mutation
		}{
			{"create", []wire.Mutation{mut("account_notes", "upsert", uuid.NewString(), 0,
				map[string]any{"account_id": o.acc1, "body": "Call back in spring"})}},
			{"edit", []wire.Mutation{mut("orders", "upsert", order, 1,
				map[string]any{"lines": []map[string]any{{"product_id": o.product, "quantity": 3}}})}},
			{"visit batch creates", batch},
			{"delete", []wire.Mutation{mut("visits", "delete", visit, 1, nil)}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				req := wire.PushRequest{Mutations: c.muts}
				before := countConflicts(t, o)
				first, second := overlap(t, o, dev, req)
				if len(second) != len(first) {
					t.Fatalf("resend answered %d results, first %d", len(second), len(first))
				}
				for i := range first {
					f, s := string(first[i].AppendJSON(nil)), string(second[i].AppendJSON(nil))
					if f != s {
						t.Errorf("mutation %d: resend answered\n  %s\nfirst stored\n  %s", i, s, f)
					}
				}
				opened := 0
				for _, r := range first {
					if r.ConflictID != "" {
						opened++
					}
				}
				if n := countConflicts(t, o) - before; n != opened {
					t.Errorf("%d conflict records, the first push opened %d", n, opened)
				}
			})
		}
	})
}

// overlap runs req as a device's push, holds it open before its commit, runs
// the same request again from the same device and, once the resend waits for
// the first (Postgres: one more backend of the test database waits on a lock),
// lets the first commit. On SQLite the first holds the single write lock, so
// the resend queues in its BEGIN IMMEDIATE or has not begun yet: either way it
// starts after the commit. It returns both answers.
func overlap(t *testing.T, o *org, a domain.Caller, req wire.PushRequest) (first, second []wire.MutationResult) {
	t.Helper()
	ctx := context.Background()
	var armed atomic.Bool
	armed.Store(true)
	entered, release := make(chan struct{}), make(chan struct{})
	engine.SetPushHook(o.eng, func(at engine.PushPoint, _ domain.Caller, _ error) {
		if at == engine.PushCommit && armed.CompareAndSwap(true, false) {
			close(entered)
			<-release
		}
	})
	defer engine.SetPushHook(o.eng, nil)

	type answer struct {
		resp wire.PushResponse
		err  error
	}
	firstDone, secondDone := make(chan answer, 1), make(chan answer, 1)
	go func() {
		resp, err := o.eng.Push(ctx, a, req)
		firstDone <- answer{resp, err}
	}()
	select {
	case <-entered:
	case r := <-firstDone:
		t.Fatalf("first push finished without reaching its commit: %v", r.err)
	}
	waiting := lockWaiters(t, o)
	go func() {
		resp, err := o.eng.Push(ctx, a, req)
		secondDone <- answer{resp, err}
	}()
	if o.db.Dialect == store.Postgres {
		deadline := time.Now().Add(30 * time.Second)
		for lockWaiters(t, o) <= waiting {
			if time.Now().After(deadline) {
				close(release)
				t.Fatal("the resend never waited for the first push")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	close(release)
	r1, r2 := <-firstDone, <-secondDone
	if r1.err != nil {
		t.Fatalf("first push: %v", r1.err)
	}
	if r2.err != nil {
		t.Fatalf("resend: %v", r2.err)
	}
	return r1.resp.Results, r2.resp.Results
}

// lockWaiters counts the backends of the test database waiting for a lock
// (always 0 on SQLite).
func lockWaiters(t *testing.T, o *org) int {
	t.Helper()
	if o.db.Dialect != store.Postgres {
		return 0
	}
	var n int
	if err := o.db.Gorm.Raw("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").
		Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func countConflicts(t *testing.T, o *org) int {
	t.Helper()
	var n int
	if err := o.db.Gorm.Raw("SELECT count(*) FROM conflicts").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
