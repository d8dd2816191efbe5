package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// lastPull reads the device's stored last-pull stamp.
func lastPull(t *testing.T, db *store.DB, a domain.Caller) *time.Time {
	t.Helper()
	ds, err := store.ListDevices(db.Autocommit(context.Background()), a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.DeviceID == a.DeviceID {
			return d.LastPullAt
		}
	}
	t.Fatalf("device %s not found", a.DeviceID)
	return nil
}

// TestPull_StampWrittenOncePerGranularity: an empty poll whose device was
// stamped by this engine less than 30 s ago issues no write (the stored stamp,
// cleared behind the engine's back, stays cleared); 30 s later, by the
// engine's clock, the next poll stamps again.
func TestPull_StampWrittenOncePerGranularity(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		a := o.actor(o.rep1)
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		if err := store.UpsertDevice(db.Autocommit(context.Background()), a.UserID, a.DeviceID, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := o.eng.Pull(ctx, a, "", 10); err != nil {
			t.Fatal(err)
		}
		if got := lastPull(t, db, a); got == nil || !got.Equal(now) {
			t.Fatalf("first pull: last_pull_at %v, want %v", got, now)
		}
		if err := db.Gorm.Exec("UPDATE devices SET last_pull_at = NULL").Error; err != nil {
			t.Fatal(err)
		}
		now = now.Add(29 * time.Second)
		if _, err := o.eng.Pull(ctx, a, "", 10); err != nil {
			t.Fatal(err)
		}
		if got := lastPull(t, db, a); got != nil {
			t.Fatalf("a poll 29 s after the last stamp wrote %v; it must not write", got)
		}
		now = now.Add(time.Second)
		if _, err := o.eng.Pull(ctx, a, "", 10); err != nil {
			t.Fatal(err)
		}
		if got := lastPull(t, db, a); got == nil || !got.Equal(now) {
			t.Fatalf("a poll 30 s after: last_pull_at %v, want %v", got, now)
		}
	})
}

// TestPull_DeferredStampsWaitForFlush: with DeferPullStamps a pull only queues
// its stamp; FlushPullStamps writes every queued stamp, each device's own.
func TestPull_DeferredStampsWaitForFlush(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		o.eng.DeferPullStamps()
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		a1, a2 := o.actor(o.rep1), o.actor(o.rep2)
		for _, a := range []domain.Caller{a1, a2} {
			if err := store.UpsertDevice(db.Autocommit(context.Background()), a.UserID, a.DeviceID, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := o.eng.Pull(ctx, a1, "", 10); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
		if _, err := o.eng.Pull(ctx, a2, "", 10); err != nil {
			t.Fatal(err)
		}
		if got := lastPull(t, db, a1); got != nil {
			t.Fatalf("a deferred stamp was written before the flush: %v", got)
		}
		if err := o.eng.FlushPullStamps(ctx); err != nil {
			t.Fatal(err)
		}
		if got := lastPull(t, db, a1); got == nil || !got.Equal(now.Add(-time.Second)) {
			t.Errorf("rep1's device after the flush: %v, want %v", got, now.Add(-time.Second))
		}
		if got := lastPull(t, db, a2); got == nil || !got.Equal(now) {
			t.Errorf("rep2's device after the flush: %v, want %v", got, now)
		}
		// Nothing queued: a second flush writes nothing and succeeds.
		if err := o.eng.FlushPullStamps(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
