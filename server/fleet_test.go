package server_test

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// TestServer_FoldHasOneLeader: two server instances on one Postgres never fold
// at once. While another holds the fold's leader lock (here the test, standing
// in for an instance in the middle of its fold) both skip their round and the
// deltas stay; once it is released, one round folds them all and the next
// finds nothing. The lock decides, not timing.
func TestServer_FoldHasOneLeader(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	ctx := context.Background()
	deltas := seedVisitDeltas(t, db)
	before := deltas()
	a, b := newSrvEnv(t, db).s, newSrvEnv(t, db).s
	led, err := store.WithLeader(ctx, db, store.LeaderReportFold, func(ctx context.Context) error {
		for name, s := range map[string]interface {
			FoldReportDeltasOnce(context.Context) (int64, bool, error)
		}{"a": a, "b": b} {
			n, led, err := s.FoldReportDeltasOnce(ctx)
			if err != nil || led || n != 0 {
				t.Errorf("instance %s while another leads: folded %d, led %v, err %v; want a skipped round", name, n, led, err)
			}
		}
		if got := deltas(); got != before {
			t.Errorf("%d deltas left while another leads, want all %d", got, before)
		}
		return nil
	})
	if err != nil || !led {
		t.Fatalf("the test could not take the lead: %v, %v", led, err)
	}
	n, led, err := a.FoldReportDeltasOnce(ctx)
	if err != nil || !led || n != before {
		t.Fatalf("a after the release: folded %d, led %v, err %v; want %d", n, led, err, before)
	}
	if n, led, err := b.FoldReportDeltasOnce(ctx); err != nil || !led || n != 0 {
		t.Fatalf("b after a: folded %d, led %v, err %v; want the lead and nothing left", n, led, err)
	}
}

// TestWithLeader: one lead per name at a time across connections, released
// when fn returns, even when fn fails; other names are independent. SQLite,
// served by one process, always leads.
func TestWithLeader(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		inner := map[string]bool{}
		_, err := store.WithLeader(ctx, db, store.LeaderCompact, func(ctx context.Context) error {
			for _, name := range []string{store.LeaderCompact, store.LeaderReportFold} {
				led, err := store.WithLeader(ctx, db, name, func(context.Context) error { return nil })
				if err != nil {
					return err
				}
				inner[name] = led
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wantNested := db.Dialect == store.SQLite
		if inner[store.LeaderCompact] != wantNested || !inner[store.LeaderReportFold] {
			t.Errorf("nested leads = %v; want compact %v (held), report-fold true", inner, wantNested)
		}
		if led, err := store.WithLeader(ctx, db, store.LeaderCompact, func(context.Context) error { return context.Canceled }); !led || err != context.Canceled {
			t.Fatalf("after the release: led %v, err %v", led, err)
		}
		if led, err := store.WithLeader(ctx, db, store.LeaderCompact, func(context.Context) error { return nil }); !led || err != nil {
			t.Fatalf("after a failed fn: led %v, err %v; the lock must be released", led, err)
		}
	})
}
