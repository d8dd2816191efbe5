package auth_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"golang.org/x/crypto/bcrypt"
)

// Several instances behind a load balancer share one limit on Postgres: the
// failures an attacker spreads over instances add up. (On SQLite one process
// serves, and the in-memory count is the whole count.)
func TestLoginLimits_SharedAcrossInstances(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	cfg := auth.Config{BcryptCost: bcrypt.MinCost, MaxFailuresPerEmail: 4, MaxFailuresPerAddress: 100, FailureWindow: time.Minute}
	var instances [2]*auth.Service
	for i := range instances {
		svc, err := auth.New(db, cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		instances[i] = svc
	}
	ctx := context.Background()
	login := func(i int, email, addr string) error {
		_, err := instances[i%2].Login(ctx, email, "wrong password", "d", "phone", addr)
		return err
	}
	for i := range 4 {
		if err := login(i, "nobody@example.com", fmt.Sprintf("10.0.0.%d", i)); domain.ErrorCode(err) != domain.CodeUnauthorized {
			t.Fatalf("failure %d on instance %d: %v, want unauthorized", i+1, i%2, err)
		}
	}
	for i := range 2 {
		err := login(i, "nobody@example.com", "10.0.0.9")
		var rl *auth.RateLimitedError
		if domain.ErrorCode(err) != domain.CodeRateLimited || !asRateLimited(err, &rl) || rl.After != time.Minute {
			t.Fatalf("fifth attempt on instance %d: %v, want rate_limited for 1m", i, err)
		}
	}
	// Another email is not limited, and the window ends for both instances.
	if err := login(0, "other@example.com", "10.0.0.9"); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Fatalf("other email: %v", err)
	}
	now = now.Add(time.Minute)
	for i := range 2 {
		if err := login(i, "nobody@example.com", "10.0.0.9"); domain.ErrorCode(err) != domain.CodeUnauthorized {
			t.Fatalf("after the window on instance %d: %v, want unauthorized", i, err)
		}
	}
}

// Two instances counting the same key at the same moment both count: the
// upsert is atomic, so no failure is lost to a read-modify-write race.
func TestLoginLimits_ConcurrentFailuresAllCount(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	done := make(chan error, 20)
	for range 20 {
		go func() { done <- store.RecordLoginFailure(ctx, db, "email\x1fx@example.com", time.Minute, now) }()
	}
	for range 20 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if w, err := store.LoginFailureWait(ctx, db, "email\x1fx@example.com", 20, time.Minute, now.Add(10*time.Second)); err != nil || w != 50*time.Second {
		t.Fatalf("wait = %v, %v; want 50s (all 20 failures counted)", w, err)
	}
	if w, _ := store.LoginFailureWait(ctx, db, "email\x1fx@example.com", 21, time.Minute, now); w != 0 {
		t.Fatalf("wait under the limit = %v", w)
	}
	if n, err := store.SweepLoginFailures(ctx, db, now.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("sweep = %d, %v", n, err)
	}
}

func asRateLimited(err error, target **auth.RateLimitedError) bool {
	return errors.As(err, target)
}
