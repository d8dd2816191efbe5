package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/sync/engine"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// TestPush_LockOrder steps two pushes by hand through the interleaving that
// deadlocked when a push took its locks in mutation order: A is held once it
// has taken its up-front locks; B starts and either waits for A or takes its
// own up-front locks and is held too; A goes on until it finishes or waits for
// B; then B goes on. Taking locks in mutation order, A then waited for a lock
// B held while B waited for one A held, and Postgres aborted one of them. With
// one global order (store/locks.go) the second of the two waits for the first
// in its up-front locks, holding nothing the first needs.
func TestPush_LockOrder(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	o := newOrg(t, db)
	lines := []map[string]any{{"product_id": o.product, "quantity": 1}}
	note := func(acc string) wire.Mutation {
		return mut("account_notes", "upsert", uuid.NewString(), 0, map[string]any{"account_id": acc, "body": "n"})
	}
	contact := func(acc, field, value string) wire.Mutation {
		return mut("accounts", "upsert", acc, 1, map[string]any{field: value})
	}
	submit := func(acc string) wire.Mutation {
		return mut("orders", "upsert", uuid.NewString(), 0, map[string]any{"account_id": acc, "lines": lines, "status": "submitted"})
	}
	cases := []struct {
		name string
		a, b []wire.Mutation
	}{
		// Both share-lock the account for the note, then both raise the lock
		// to edit it: each waits for the other's share lock.
		{"share lock raised to edit the account",
			[]wire.Mutation{note(o.acc1), contact(o.acc1, "phone", "+49 30 1")},
			[]wire.Mutation{note(o.acc1), contact(o.acc1, "email", "b@x.io")}},
		// A takes the order number counter, then waits to edit the account B
		// share-locked; B then waits for the counter.
		{"order number counter between account locks",
			[]wire.Mutation{submit(o.acc1), contact(o.acc1b, "phone", "+49 30 2")},
			[]wire.Mutation{submit(o.acc1b), contact(o.acc1, "phone", "+49 30 3")}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := o.actor(o.rep1), o.actor(o.rep1)
			a.DeviceID, b.DeviceID = fmt.Sprintf("lock-a-%d", i), fmt.Sprintf("lock-b-%d", i)
			retries := stepPair(t, o, a, b, c.a, c.b)
			if retries != 0 {
				t.Errorf("%d pushes ran again after a deadlock", retries)
			}
		})
	}
}

// stepPair runs the interleaving of TestPush_LockOrder and returns how many
// push transactions failed for a transient reason and ran again.
func stepPair(t *testing.T, o *org, a, b domain.Caller, ma, mb []wire.Mutation) int {
	t.Helper()
	ctx := context.Background()
	var retries atomic.Int32
	aAt, bAt := make(chan struct{}), make(chan struct{})
	aGo, bGo := make(chan struct{}), make(chan struct{})
	var aOnce, bOnce gosync.Once
	engine.SetPushHook(o.eng, func(at engine.PushPoint, who domain.Caller, err error) {
		switch {
		case at == engine.PushRetry:
			retries.Add(1)
			t.Logf("%s runs again after: %v", who.DeviceID, err)
		case at != engine.PushLocked:
		case who.DeviceID == a.DeviceID:
			aOnce.Do(func() { close(aAt); <-aGo }) // only the first attempt is held
		case who.DeviceID == b.DeviceID:
			bOnce.Do(func() { close(bAt); <-bGo })
		}
	})
	defer engine.SetPushHook(o.eng, nil)
	releaseA, releaseB := gosync.OnceFunc(func() { close(aGo) }), gosync.OnceFunc(func() { close(bGo) })
	defer releaseB()
	defer releaseA()

	run := func(who domain.Caller, muts []wire.Mutation, done chan<- error) {
		resp, err := o.eng.Push(ctx, who, wire.PushRequest{Mutations: muts})
		for i, r := range resp.Results {
			if err == nil && r.Status != wire.StatusApplied && r.Status != wire.StatusMerged {
				err = fmt.Errorf("mutation %d: %s %+v", i, r.Status, r.Error)
			}
		}
		done <- err
	}
	aDone, bDone := make(chan error, 1), make(chan error, 1)
	go run(a, ma, aDone)
	<-aAt
	base := lockWaiters(t, o)
	go run(b, mb, bDone)
	bHeld := false
	waitFor(t, "B to take its locks or wait for A", func() bool {
		select {
		case <-bAt:
			bHeld = true
			return true
		default:
			return lockWaiters(t, o) > base
		}
	})
	releaseA()
	if bHeld {
		// Both hold their up-front locks: A goes on until it finishes or
		// waits for a lock of B.
		var aErr error
		aFinished := false
		waitFor(t, "A to finish or wait for B", func() bool {
			select {
			case aErr = <-aDone:
				aFinished = true
				return true
			default:
				return lockWaiters(t, o) > base
			}
		})
		if aFinished {
			aDone <- aErr
		}
	}
	releaseB()
	if err := <-aDone; err != nil {
		t.Errorf("push A: %v", err)
	}
	if err := <-bDone; err != nil {
		t.Errorf("push B: %v", err)
	}
	return int(retries.Load())
}

// waitFor polls cond until it holds; the deadline only turns a hang into a
// failure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPush_Burst: 20 reps push at once, each from one device, batches that edit
// the contact fields of the accounts they share, submit orders, write notes and
// record visits at them, in random order. Before the locks were taken in one
// order and order numbers came from a sequence, such bursts deadlocked over a
// hundred times a minute and failed pushes after three attempts. No push may
// need a second attempt, none may fail.
//
// FIELDSYNC_BURST_SECONDS=n turns it into the measurement of docs/benchmarks.md:
// the devices push for n seconds instead of 5 rounds, and the test logs the
// database's deadlock count over the run.
func TestPush_Burst(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	o := newOrg(t, db)
	const devices = 20
	reps := make([]string, devices)
	accounts := []string{o.acc1, o.acc1b}
	o.write(t, func(tx *store.Tx, now time.Time) error {
		for i := range reps {
			reps[i] = uuid.NewString()
			u := store.UserRecord{User: domain.User{ID: reps[i], Name: "Rep", Role: domain.RoleRep, TerritoryIDs: []string{o.t1}},
				Email: fmt.Sprintf("burst%d@x.io", i), PasswordHash: "x"}
			if _, err := store.CreateUser(tx, u); err != nil {
				return err
			}
		}
		for range 4 {
			a := domain.Account{ID: uuid.NewString(), Name: "Acc", TerritoryID: o.t1, Class: "B", Status: "active"}
			if _, err := store.CreateAccount(tx, a); err != nil {
				return err
			}
			accounts = append(accounts, a.ID)
		}
		return nil
	})
	rounds, seconds := 5, 0
	if v := os.Getenv("FIELDSYNC_BURST_SECONDS"); v != "" {
		seconds, _ = strconv.Atoi(v)
	}
	var retries, deadlocks atomic.Int64
	engine.SetPushHook(o.eng, func(at engine.PushPoint, _ domain.Caller, err error) {
		if at == engine.PushRetry {
			retries.Add(1)
			if store.IsDeadlock(err) {
				deadlocks.Add(1)
			}
		}
	})
	defer engine.SetPushHook(o.eng, nil)
	before := pgDeadlocks(t, o)
	run := burst(t, o, reps, accounts, rounds, time.Duration(seconds)*time.Second)
	t.Logf("%d devices: %d pushes (%d mutations) in %v; %d failed pushes, %d rejected mutations; "+
		"%d attempts ran again, %d of them after a deadlock",
		devices, run.pushes, run.mutations, run.elapsed.Round(time.Millisecond), run.failed, run.rejected,
		retries.Load(), deadlocks.Load())
	if seconds > 0 {
		// A backend reports its statistics when idle, at most once a second
		// and at the latest after 10 s: wait for every report.
		time.Sleep(11 * time.Second)
		n := pgDeadlocks(t, o) - before
		t.Logf("pg_stat_database.deadlocks: +%d, %.1f per minute", n, float64(n)/run.elapsed.Minutes())
	}
	if run.failed != 0 || run.rejected != 0 {
		t.Errorf("%d pushes failed, %d mutations rejected", run.failed, run.rejected)
	}
	if retries.Load() != 0 {
		t.Errorf("%d push attempts ran again (%d after a deadlock)", retries.Load(), deadlocks.Load())
	}
}

type burstRun struct {
	pushes, mutations, failed, rejected int64
	elapsed                             time.Duration
}

// burst has one device per rep push batches at once: rounds batches each, or
// for d when d > 0.
func burst(t *testing.T, o *org, reps, accounts []string, rounds int, d time.Duration) burstRun {
	t.Helper()
	ctx := context.Background()
	var pushes, mutations, failed, rejected atomic.Int64
	start := make(chan struct{})
	var wg gosync.WaitGroup
	var stop time.Time
	for i, rep := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			a := domain.Caller{UserID: rep, Role: domain.RoleRep, DeviceID: fmt.Sprintf("burst-%d", i)}
			<-start
			for n := 0; d > 0 && time.Now().Before(stop) || d == 0 && n < rounds; n++ {
				muts := burstBatch(rng, o, accounts, n)
				resp, err := o.eng.Push(ctx, a, wire.PushRequest{Mutations: muts})
				pushes.Add(1)
				if err != nil {
					if failed.Add(1) <= 3 {
						t.Logf("device %d: %v", i, err)
					}
					continue
				}
				mutations.Add(int64(len(muts)))
				for _, r := range resp.Results {
					if r.Status == wire.StatusRejected {
						if rejected.Add(1) <= 3 {
							t.Logf("device %d: rejected %+v", i, r.Error)
						}
					}
				}
			}
		}()
	}
	began := time.Now()
	stop = began.Add(d)
	close(start)
	wg.Wait()
	return burstRun{pushes: pushes.Load(), mutations: mutations.Load(), failed: failed.Load(),
		rejected: rejected.Load(), elapsed: time.Since(began)}
}

// burstBatch: two contact edits, an order submitted, a note, a completed and a
// planned visit, at random accounts of the shared ones, in random order.
func burstBatch(rng *rand.Rand, o *org, accounts []string, n int) []wire.Mutation {
	pick := func() string { return accounts[rng.IntN(len(accounts))] }
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute).Format(time.RFC3339)
	muts := []wire.Mutation{
		mut("accounts", "upsert", pick(), 1, map[string]any{"phone": fmt.Sprintf("+49 30 %d", rng.IntN(1e6))}),
		mut("accounts", "upsert", pick(), 1, map[string]any{"email": fmt.Sprintf("a%d@x.io", rng.IntN(1e6))}),
		mut("orders", "upsert", uuid.NewString(), 0, map[string]any{"account_id": pick(), "status": "submitted",
			"lines": []map[string]any{{"product_id": o.product, "quantity": 1 + rng.IntN(5)}}}),
		mut("account_notes", "upsert", uuid.NewString(), 0, map[string]any{"account_id": pick(), "body": "burst"}),
		mut("visits", "upsert", uuid.NewString(), 0, map[string]any{"account_id": pick(), "planned_at": at,
			"status": "completed", "checked_in_at": at, "checked_out_at": at}),
		mut("visits", "upsert", uuid.NewString(), 0, map[string]any{"account_id": pick(), "planned_at": at}),
	}
	rng.Shuffle(len(muts), func(i, j int) { muts[i], muts[j] = muts[j], muts[i] })
	return muts
}

func pgDeadlocks(t *testing.T, o *org) int64 {
	t.Helper()
	var n int64
	if err := o.db.Gorm.Raw("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOrderDesk_LocksAccountBeforeOrder: a desk transition must wait for the
// order's account before it locks the order, as push does. It locked the order
// first: with a push holding the account to edit its contact fields and then
// waiting for the order, the two deadlocked. Here a transaction holds the
// account as such a push would; while the desk waits for it, the order must be
// free to lock.
func TestOrderDesk_LocksAccountBeforeOrder(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	o := newOrg(t, db)
	ctx := context.Background()
	coord := domain.Caller{UserID: uuid.NewString(), Role: domain.RoleCoordinator}
	o.write(t, func(tx *store.Tx, now time.Time) error {
		_, err := store.CreateUser(tx, store.UserRecord{Email: "desk@x.io", PasswordHash: "x",
			User: domain.User{ID: coord.UserID, Name: "Desk", Role: domain.RoleCoordinator}})
		return err
	})
	order := uuid.NewString()
	if r := o.push(t, o.rep1, mut("orders", "upsert", order, 0, map[string]any{"account_id": o.acc1, "status": "submitted",
		"lines": []map[string]any{{"product_id": o.product, "quantity": 1}}})); r[0].Status != wire.StatusApplied {
		t.Fatalf("submit: %+v", r[0])
	}

	holder := db.Gorm.WithContext(ctx).Begin()
	defer holder.Rollback()
	if err := holder.Exec("SELECT id FROM accounts WHERE id = ? FOR NO KEY UPDATE", o.acc1).Error; err != nil {
		t.Fatal(err)
	}
	base := lockWaiters(t, o)
	done := make(chan error, 1)
	go func() {
		_, err := backoffice.NewOrderDesk(db).Transition(ctx, coord, order,
			backoffice.TransitionInput{To: domain.OrderConfirmed, ExpectedVersion: ptrTo(int64(1))})
		done <- err
	}()
	waitFor(t, "the desk to wait for the account", func() bool { return lockWaiters(t, o) > base })
	if err := holder.Exec("SELECT id FROM orders WHERE id = ? FOR UPDATE NOWAIT", order).Error; err != nil {
		t.Errorf("the desk holds the order while it waits for the account: %v", err)
	}
	holder.Rollback()
	if err := <-done; err != nil {
		t.Fatalf("transition: %v", err)
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestResolve_LocksAccountBeforeRow: resolving a conflict on a visit waits for
// the visit's account before it locks the visit (see the order desk's test).
func TestResolve_LocksAccountBeforeRow(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	o := newOrg(t, db)
	ctx := context.Background()
	visit := uuid.NewString()
	o.push(t, o.rep1, mut("visits", "upsert", visit, 0, map[string]any{"account_id": o.acc1, "planned_at": "2026-11-23T09:00:00Z"}))
	o.push(t, o.rep1, mut("visits", "upsert", visit, 1, map[string]any{"planned_at": "2026-11-23T10:00:00Z"}))
	other := o.actor(o.rep1)
	other.DeviceID = "other"
	resp, err := o.eng.Push(ctx, other, wire.PushRequest{Mutations: []wire.Mutation{mut("visits", "delete", visit, 1, nil)}})
	if err != nil || resp.Results[0].Status != wire.StatusConflict {
		t.Fatalf("delete of a changed visit: %v %+v", err, resp)
	}

	holder := db.Gorm.WithContext(ctx).Begin()
	defer holder.Rollback()
	if err := holder.Exec("SELECT id FROM accounts WHERE id = ? FOR NO KEY UPDATE", o.acc1).Error; err != nil {
		t.Fatal(err)
	}
	base := lockWaiters(t, o)
	done := make(chan error, 1)
	go func() {
		_, err := backoffice.NewConflicts(db, "EUR").Resolve(ctx, domain.Caller{UserID: o.mgr, Role: domain.RoleManager},
			resp.Results[0].ConflictID, backoffice.ResolveInput{Resolution: backoffice.TakeDevice})
		done <- err
	}()
	waitFor(t, "the resolution to wait for the account", func() bool { return lockWaiters(t, o) > base })
	if err := holder.Exec("SELECT id FROM visits WHERE id = ? FOR UPDATE NOWAIT", visit).Error; err != nil {
		t.Errorf("the resolution holds the visit while it waits for the account: %v", err)
	}
	holder.Rollback()
	if err := <-done; err != nil {
		t.Fatalf("resolve: %v", err)
	}
}
