package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/fieldsync/fieldsync/store"
)

// failureLimits is where failed logins are counted: in process memory on
// SQLite (one process serves it), in Postgres otherwise, so that N instances
// behind a load balancer enforce one limit and not N.
type failureLimits interface {
	wait(ctx context.Context, key string, now time.Time) (time.Duration, error)
	fail(ctx context.Context, key string, now time.Time) error
}

// memoryLimits adapts the in-memory limiter.
type memoryLimits struct{ l *limiter }

func (m memoryLimits) wait(_ context.Context, key string, now time.Time) (time.Duration, error) {
	return m.l.wait(key, now), nil
}

func (m memoryLimits) fail(_ context.Context, key string, now time.Time) error {
	m.l.fail(key, now)
	return nil
}

// sharedLimits counts in the login_failures table. Its window is fixed from a
// key's first counted failure rather than sliding: an attacker gets at most
// max attempts per window, the same bound as in memory.
type sharedLimits struct {
	db     *store.DB
	kind   string // keeps an email and an address that spell alike apart
	max    int
	window time.Duration

	mu        sync.Mutex
	lastSweep time.Time
}

func (s *sharedLimits) wait(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	if key == "" {
		return 0, nil
	}
	return store.LoginFailureWait(ctx, s.db, s.rowKey(key), s.max, s.window, now)
}

func (s *sharedLimits) fail(ctx context.Context, key string, now time.Time) error {
	if key == "" {
		return nil
	}
	if err := store.RecordLoginFailure(ctx, s.db, s.rowKey(key), s.window, now); err != nil {
		return err
	}
	s.mu.Lock()
	sweep := now.Sub(s.lastSweep) > s.window
	if sweep {
		s.lastSweep = now
	}
	s.mu.Unlock()
	if sweep {
		_, err := store.SweepLoginFailures(ctx, s.db, now.Add(-s.window))
		return err
	}
	return nil
}

// rowKey is the table's key of key: a hash, so that any text an attacker
// sends as an email (a NUL byte, which Postgres text refuses; megabytes)
// becomes a short valid key.
func (s *sharedLimits) rowKey(key string) string {
	sum := sha256.Sum256([]byte(s.kind + "\x1f" + key))
	return s.kind + ":" + hex.EncodeToString(sum[:])
}

func newFailureLimits(db *store.DB, kind string, max int, window time.Duration) failureLimits {
	if db.Dialect == store.Postgres {
		return &sharedLimits{db: db, kind: kind, max: max, window: window}
	}
	return memoryLimits{newLimiter(max, window)}
}
