package engine_test

import (
	"context"
	"fmt"
	gosync "sync"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// TestPush_DeadlockRetried: two devices of one rep complete visits of the same
// two accounts in opposite orders, in one request each, at the same time. Each
// completion updates its account's report row (migration 00004), so the two
// transactions can deadlock; Postgres aborts one, and the engine must run that
// request again instead of failing it.
func TestPush_DeadlockRetried(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	o := newOrg(t, db)
	ctx := context.Background()
	planned := func(a domain.Caller, account string) string {
		id := uuid.NewString()
		resp, err := o.eng.Push(ctx, a, wire.PushRequest{Mutations: []wire.Mutation{mut("visits", "upsert", id, 0,
			map[string]any{"account_id": account, "planned_at": "2026-11-23T09:00:00Z"})}})
		if err != nil || resp.Results[0].Status != wire.StatusApplied {
			t.Fatalf("plan a visit: %v %+v", err, resp)
		}
		return id
	}
	complete := func(id string, minute int) wire.Mutation {
		at := fmt.Sprintf("2026-11-23T10:%02d:00Z", minute)
		return mut("visits", "upsert", id, 1, map[string]any{"status": "completed",
			"checked_in_at": at, "checked_out_at": at})
	}
	devA, devB := o.actor(o.rep1), o.actor(o.rep1)
	devA.DeviceID, devB.DeviceID = "dev-a", "dev-b"
	// Almost every round deadlocks (a round without retries fails at once), and
	// Postgres takes deadlock_timeout (1 s) to notice: a few rounds suffice.
	for round := 0; round < 4; round++ {
		a1, a2 := planned(devA, o.acc1), planned(devA, o.acc1b)
		b1, b2 := planned(devB, o.acc1b), planned(devB, o.acc1)
		var wg gosync.WaitGroup
		errs := make([]error, 2)
		for i, req := range []struct {
			a    domain.Caller
			muts []wire.Mutation
		}{
			{devA, []wire.Mutation{complete(a1, round), complete(a2, round)}},
			{devB, []wire.Mutation{complete(b1, round), complete(b2, round)}},
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := o.eng.Push(ctx, req.a, wire.PushRequest{Mutations: req.muts})
				if err == nil {
					for _, r := range resp.Results {
						if r.Status != wire.StatusApplied {
							err = fmt.Errorf("result %s %+v", r.Status, r.Error)
						}
					}
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, device %d: %v", round, i, err)
			}
		}
	}
}
