package engine_test

import (
	"context"
	"fmt"
	gosync "sync"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/sync/engine"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// concurrentRun has 8 devices push batches of visit creates, batches each,
// while 3 devices pull until the writers are done. It returns the ids of every
// applied write and the ids each puller missed. The load is a count, not a
// duration, so a slow machine runs it longer instead of testing less.
func concurrentRun(t *testing.T, o *org, batches int) (applied map[string]bool, missed [3][]string) {
	t.Helper()
	ctx := context.Background()
	applied = map[string]bool{}
	var mu gosync.Mutex
	var writers, pullers gosync.WaitGroup
	for w := 0; w < 8; w++ {
		writers.Add(1)
		go func(w int) {
			defer writers.Done()
			a := o.actor(o.rep1)
			a.DeviceID = fmt.Sprintf("writer-%d", w)
			for b := 0; b < batches; b++ {
				var muts []wire.Mutation
				for i := 0; i < 5; i++ {
					// One planning day per writer: writers of one rep and day
					// would queue on that day's report counter row
					// (store migration 00004) and commit in turn.
					muts = append(muts, mut("visits", "upsert", uuid.NewString(), 0,
						map[string]any{"account_id": o.acc1, "planned_at": fmt.Sprintf("2026-11-%02dT09:00:00Z", 1+w)}))
				}
				resp, err := o.eng.Push(ctx, a, wire.PushRequest{Mutations: muts})
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				for i, r := range resp.Results {
					if r.Status == wire.StatusApplied {
						applied[muts[i].ID] = true
					}
				}
				mu.Unlock()
			}
		}(w)
	}
	mirrors := [3]*mirror{newMirror(), newMirror(), newMirror()}
	users := [3]string{o.rep1, o.mgr, o.rep1}
	done := make(chan struct{})
	for p := 0; p < 3; p++ {
		pullers.Add(1)
		go func(p int) {
			defer pullers.Done()
			a := o.actor(users[p])
			a.DeviceID = fmt.Sprintf("puller-%d", p)
			for {
				select {
				case <-done:
					return
				default:
				}
				resp, err := o.eng.Pull(ctx, a, mirrors[p].cursor, 50)
				if err != nil {
					t.Errorf("puller %d: %v", p, err)
					return
				}
				mirrors[p].apply(resp)
			}
		}(p)
	}
	writers.Wait()
	close(done)
	pullers.Wait()
	for p, m := range mirrors {
		o.syncAll(t, m, users[p])
		for id := range applied {
			if !m.has("visits", id) {
				missed[p] = append(missed[p], id)
			}
		}
	}
	return applied, missed
}

// TestPull_ConcurrentWritersNothingSkipped is guarantee 2 of docs/protocol.md §4.1 under
// load: every write applied by 8 concurrent pushers reaches all 3 pullers that
// pulled while the writes committed in any order. TestPull_OutOfOrderCommit
// below forces the interleaving this load only makes likely.
func TestPull_ConcurrentWritersNothingSkipped(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		applied, missed := concurrentRun(t, o, 20)
		if len(applied) != 8*20*5 {
			t.Fatalf("%d of %d writes applied", len(applied), 8*20*5)
		}
		for p, ids := range missed {
			if len(ids) > 0 {
				t.Errorf("puller %d missed %d of %d applied writes, e.g. %s", p, len(ids), len(applied), ids[0])
			}
		}
	})
}

// TestPull_OutOfOrderCommit forces the interleaving that a plain sequence
// cursor gets wrong on Postgres: push A takes its log position, push B takes a
// later one and commits, a device pulls, and only then A commits. The pull
// cursor must still deliver A. SQLite's single writer cannot interleave this
// way, so the test is Postgres-only.
func TestPull_OutOfOrderCommit(t *testing.T) { outOfOrderCommit(t, false) }

// TestPull_NaiveSeqCursorSkips is the negative control of the test above: the
// same forced interleaving against a seq-only cursor must lose A, which shows
// the test can see the defect. The interleaving is held by the push hook (A
// waits, uncommitted, on a channel until the pull is done), never by timing,
// so a busy machine only makes it slower.
func TestPull_NaiveSeqCursorSkips(t *testing.T) { outOfOrderCommit(t, true) }

func outOfOrderCommit(t *testing.T, naive bool) {
	o := newOrg(t, testdb.Open(t, store.Postgres))
	if naive {
		engine.SetNaiveSeqCursor(o.eng)
	}
	ctx := context.Background()
	puller := o.actor(o.rep1)
	puller.DeviceID = "puller"
	m := newMirror()
	o.syncAll(t, m, o.rep1)

	entered, release := make(chan struct{}), make(chan struct{})
	var once gosync.Once // a retried commit must not close entered twice
	engine.SetPushHook(o.eng, func(at engine.PushPoint, a domain.Caller, _ error) {
		if at == engine.PushCommit && a.DeviceID == "device-a" {
			once.Do(func() { close(entered) })
			<-release
		}
	})
	defer engine.SetPushHook(o.eng, nil)
	push := func(device, id, day string) error {
		a := o.actor(o.rep1)
		a.DeviceID = device
		_, err := o.eng.Push(ctx, a, wire.PushRequest{Mutations: []wire.Mutation{
			mut("visits", "upsert", id, 0, map[string]any{"account_id": o.acc1, "planned_at": day + "T09:00:00Z"})}})
		return err
	}
	idA, idB := uuid.NewString(), uuid.NewString()
	doneA := make(chan error, 1)
	go func() { doneA <- push("device-a", idA, "2026-11-02") }()
	<-entered // A holds its log position, uncommitted
	if err := push("device-b", idB, "2026-11-03"); err != nil {
		close(release)
		t.Fatalf("push B: %v", err)
	}
	for {
		resp, err := o.eng.Pull(ctx, puller, m.cursor, 50)
		if err != nil {
			close(release)
			t.Fatalf("pull while A is open: %v", err)
		}
		m.apply(resp)
		if !resp.HasMore {
			break
		}
	}
	close(release)
	if err := <-doneA; err != nil {
		t.Fatalf("push A: %v", err)
	}
	o.syncAll(t, m, o.rep1)
	if !m.has("visits", idB) {
		t.Fatalf("B never arrived")
	}
	if got := m.has("visits", idA); got == naive {
		t.Fatalf("naive=%v: A arrived = %v; the cursor must deliver a change that committed after a later one, and the naive cursor must not", naive, got)
	}
}
