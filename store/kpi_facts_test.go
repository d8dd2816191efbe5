package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// TestKPIFacts_FirstDayRaces forces the two interleavings of an order that
// stops counting (its account's first counted day is re-read from the facts)
// and an earlier order of the same account written at the same time (the day
// is lowered with least()), on Postgres where they really run at once. Each
// time one transaction holds its change open until the other is seen waiting
// for a lock; either way the account's first day must end up the earlier
// order's (migration 00023, fieldsync_kpi_first_recompute).
func TestKPIFacts_FirstDayRaces(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	ctx := context.Background()
	w := buildAggWorld(t, db)
	day := func(d int) *time.Time { return new(time.Date(2026, 3, d, 10, 0, 0, 0, time.UTC)) }
	order := func(acc string, submitted *time.Time) domain.Order {
		id := uuid.NewString()
		return domain.Order{ID: id, Number: new("SO-" + id[:8]), AccountID: acc, RepID: w.reps[0],
			Status: domain.OrderSubmitted, TotalCents: 100, Currency: "EUR", SubmittedAt: submitted}
	}
	create := func(tx *store.Tx, o domain.Order) error {
		acc, _, err := store.GetAccount(tx, o.AccountID, false)
		if err != nil {
			return err
		}
		_, err = store.CreateOrder(tx, acc, o)
		return err
	}
	cancel := func(tx *store.Tx, id string) error {
		old, fv, err := store.GetOrder(tx, id, true)
		if err != nil {
			return err
		}
		acc, _, err := store.GetAccount(tx, old.AccountID, false)
		if err != nil {
			return err
		}
		o := old
		o.Status = domain.OrderCancelled
		_, err = store.UpdateOrder(tx, acc, old, fv, o)
		return err
	}
	waitForLock := func() {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			var waiting int
			if err := db.Gorm.Raw(`SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting).Error; err != nil {
				t.Fatal(err)
			}
			if waiting == 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d transactions wait for a lock, want 1", waiting)
			}
		}
	}
	firstDay := func(acc string) string {
		var d *time.Time
		if err := db.Gorm.Raw("SELECT first_day FROM report_kpi_accounts WHERE account_id = ?", acc).Scan(&d).Error; err != nil {
			t.Fatal(err)
		}
		if d == nil {
			return "none"
		}
		return d.Format(time.DateOnly)
	}
	for _, c := range []struct {
		name  string
		first bool // the cancellation holds its transaction open, the earlier order waits
	}{{"cancellation waits", false}, {"earlier order waits", true}} {
		t.Run(c.name, func(t *testing.T) {
			acc := w.accounts[0]
			if c.first {
				acc = w.accounts[1]
			}
			late, early := order(acc, day(10)), order(acc, day(5))
			if err := db.InTx(ctx, func(tx *store.Tx) error { return create(tx, late) }); err != nil {
				t.Fatal(err)
			}
			held, err := db.BeginTx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = held.Rollback() }()
			waiter := func(tx *store.Tx) error { return cancel(tx, late.ID) }
			if c.first {
				err = cancel(held, late.ID)
				waiter = func(tx *store.Tx) error { return create(tx, early) }
			} else {
				err = create(held, early)
			}
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- db.InTx(ctx, waiter) }()
			waitForLock()
			if err := held.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := firstDay(acc); got != "2026-03-05" {
				t.Errorf("first counted day %s, want 2026-03-05", got)
			}
			requireNoDrift(t, db, c.name)
		})
	}
}
