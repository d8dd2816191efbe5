package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"
)

// Several server instances may share one Postgres database (docs/operations.md,
// "Deployment"). What must count across all of them (failed logins) lives in
// tables; what must happen once at a time (the report fold, compaction) runs
// under a leader lock. SQLite is served by one process only, so there both are
// trivially true.

// LeaderKey is the text whose 64-bit hash names the advisory lock of the
// leader of name: tests take it to stand in for another instance.
func LeaderKey(name string) string { return "fieldsync.leader\x1f" + name }

// Leader names.
const (
	LeaderReportFold = "report-fold"
	LeaderCompact    = "compact"
)

// WithLeader runs fn if no other process (or connection) leads name, holding
// the lead until fn returns, and reports whether fn ran. On Postgres the lead
// is a session advisory lock taken with pg_try_advisory_lock on a connection
// of its own, so it never waits and is released when the connection ends, even
// if this process dies. fn may use the pool freely. On SQLite fn always runs.
func WithLeader(ctx context.Context, db *DB, name string, fn func(ctx context.Context) error) (bool, error) {
	if db.Dialect != Postgres {
		return true, fn(ctx)
	}
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		return false, fmt.Errorf("lead %s: %w", name, err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("lead %s: %w", name, err)
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", LeaderKey(name)).Scan(&got); err != nil {
		return false, fmt.Errorf("lead %s: %w", name, err)
	}
	if !got {
		return false, nil
	}
	defer func() {
		// A context that ended must not keep the lock on a pooled connection:
		// unlock without it, and drop the connection if even that fails.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtextextended($1, 0))", LeaderKey(name)); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return true, fn(ctx)
}

// FoldReportDeltasAsLeader is FoldReportDeltas under the report fold's leader
// lock: with several instances, one folds and the others skip the round
// (led false). Folding concurrently would be correct too (see the SQL
// function), but N instances each folding every few seconds makes N times the
// deletes and upserts, and they contend on the same day rows.
func FoldReportDeltasAsLeader(ctx context.Context, db *DB) (n int64, led bool, err error) {
	led, err = WithLeader(ctx, db, LeaderReportFold, func(ctx context.Context) error {
		n, err = FoldReportDeltas(ctx, db)
		return err
	})
	return n, led, err
}

// LoginFailureWait returns how long key must wait before its next login
// attempt on Postgres: 0 unless it failed max times in the window that began
// at its first counted failure.
func LoginFailureWait(ctx context.Context, db *DB, key string, max int, window time.Duration, now time.Time) (time.Duration, error) {
	var row struct {
		FirstAt  time.Time
		Failures int
	}
	res := db.Gorm.WithContext(ctx).Raw("SELECT first_at, failures FROM login_failures WHERE key = ?", key).Scan(&row)
	if res.Error != nil {
		return 0, classify(res.Error, res.Error)
	}
	if res.RowsAffected == 0 || row.Failures < max {
		return 0, nil
	}
	return max0(row.FirstAt.Add(window).Sub(now)), nil
}

func max0(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

// RecordLoginFailure counts one failed login of key at now, in one atomic
// upsert: two instances counting the same key at once both count. A window
// that has passed starts again at this failure.
func RecordLoginFailure(ctx context.Context, db *DB, key string, window time.Duration, now time.Time) error {
	// Every right-hand side of SET reads the row as it was before the update.
	err := db.Gorm.WithContext(ctx).Exec(`INSERT INTO login_failures AS l (key, first_at, failures) VALUES (?, ?, 1)
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN l.first_at + ? * interval '1 microsecond' <= EXCLUDED.first_at THEN 1 ELSE l.failures + 1 END,
    first_at = CASE WHEN l.first_at + ? * interval '1 microsecond' <= EXCLUDED.first_at THEN EXCLUDED.first_at ELSE l.first_at END`,
		key, now, window.Microseconds(), window.Microseconds()).Error
	if err != nil {
		return classify(err, err)
	}
	return nil
}

// SweepLoginFailures deletes the counts whose window began before before, so
// guessing many emails cannot grow the table without bound.
func SweepLoginFailures(ctx context.Context, db *DB, before time.Time) (int64, error) {
	res := db.Gorm.WithContext(ctx).Exec("DELETE FROM login_failures WHERE first_at < ?", before)
	if res.Error != nil {
		return 0, classify(res.Error, res.Error)
	}
	return res.RowsAffected, nil
}

// OpenReplica opens a Postgres hot standby for reads only. It is not
// migrated (a standby is read-only; it follows the primary's schema).
func OpenReplica(ctx context.Context, dsn string, opt Options) (*DB, error) {
	if !IsPostgresURL(dsn) {
		return nil, fmt.Errorf("replica URL must be a postgres:// URL")
	}
	db, err := Open(ctx, dsn, opt)
	if err != nil {
		return nil, fmt.Errorf("replica: %w", err)
	}
	return db, nil
}

// ReplicaLag measures how far replica trails primary: 0 once it has replayed
// everything the primary had written when asked (an idle primary writes
// nothing, so an idle standby is 0 behind, not "seconds since the last
// commit"), else the age of the last transaction it replayed. An error says
// the replica cannot be used (unreachable, or not a standby at all).
func ReplicaLag(ctx context.Context, primary, replica *DB) (time.Duration, error) {
	var lsn string
	if err := primary.Gorm.WithContext(ctx).Raw("SELECT pg_current_wal_lsn()::text").Scan(&lsn).Error; err != nil {
		return 0, fmt.Errorf("primary WAL position: %w", err)
	}
	var st struct {
		InRecovery bool
		CaughtUp   *bool
		AgeSeconds *float64
	}
	err := replica.Gorm.WithContext(ctx).Raw(`SELECT pg_is_in_recovery() AS in_recovery,
    pg_last_wal_replay_lsn() >= ?::pg_lsn AS caught_up,
    EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 AS age_seconds`, lsn).Scan(&st).Error
	switch {
	case err != nil:
		return 0, fmt.Errorf("replica replay position: %w", err)
	case !st.InRecovery:
		return 0, fmt.Errorf("replica is not a hot standby (pg_is_in_recovery() is false)")
	case st.CaughtUp != nil && *st.CaughtUp:
		return 0, nil
	case st.AgeSeconds == nil:
		return 0, fmt.Errorf("replica has not replayed a transaction yet")
	}
	return max0(time.Duration(*st.AgeSeconds * float64(time.Second))), nil
}
