package store

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// ChangeChannel is the Postgres NOTIFY channel on which every committed write
// names the scope keys it touched (docs/protocol.md §4.5). The payload is the
// keys separated by spaces; never row data.
const ChangeChannel = "fieldsync_changes"

// Keys beside the scope keys that a notification may carry: they wake the
// streams of one device or token so the stream re-checks its token at once.
const (
	DeviceNoteKey = "dev:"
	TokenNoteKey  = "tok:"
)

// Keys that name no scope: they tell every server process that what it
// remembers of pulls may be stale for everyone (the engine's fast answers to
// empty pulls). ScopeNoteKey: users, their territories or the territory tree
// changed, so any user's scope may have; HorizonNoteKey: compaction moved
// the horizon, so a cursor that was current may now need a reset.
const (
	ScopeNoteKey   = "scopes"
	HorizonNoteKey = "horizon"
)

// maxNotifyPayload keeps each pg_notify payload under Postgres's 8000-byte
// limit.
const maxNotifyPayload = 7000

// pendingKeys collects the keys a transaction touched, sent on commit.
type pendingKeys struct {
	mu   gosync.Mutex
	keys map[string]struct{}
}

func (p *pendingKeys) add(keys ...string) {
	p.mu.Lock()
	if p.keys == nil {
		p.keys = make(map[string]struct{}, len(keys))
	}
	for _, k := range keys {
		p.keys[k] = struct{}{}
	}
	p.mu.Unlock()
}

func (p *pendingKeys) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.keys))
	for k := range p.keys {
		out = append(out, k)
	}
	return out
}

// NoteKeys records that the caller's transaction touched rows (or tokens)
// under keys: when the transaction commits, the streams of every device that
// sees one of them are woken. Outside a transaction begun by DB.InTx it does
// nothing; streams then notice at their next periodic check.
func NoteKeys(tx *Tx, keys ...string) {
	if tx == nil || tx.pending == nil {
		return
	}
	tx.pending.add(keys...)
}

// OnCommit sets the function that receives, in this process, the keys of
// every transaction committed through InTx, right after its commit. On
// SQLite, where one process owns the database, that is how streams are
// woken; on Postgres, where ListenChanges delivers every instance's commits
// (this one's too, a moment later), it lets this process forget what a
// commit made stale at once. Call it before serving.
func (db *DB) OnCommit(fn func(keys []string)) { db.onCommit = fn }

// notifyKeys sends the keys with pg_notify inside the transaction: Postgres
// delivers the notification only when (and if) the transaction commits, and
// folds identical payloads of one transaction into one.
func notifyKeys(tx *Tx, keys []string) error {
	for len(keys) > 0 {
		var b strings.Builder
		n := 0
		for n < len(keys) && (b.Len() == 0 || b.Len()+1+len(keys[n]) <= maxNotifyPayload) {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(keys[n])
			n++
		}
		// The writer's xid leads the payload: the listener holds the
		// notification until a pull can see this transaction's entries.
		if err := tx.g.Exec("SELECT pg_notify(?, 'x:' || pg_current_xact_id()::text || ' ' || ?)", ChangeChannel, b.String()).Error; err != nil {
			return fmt.Errorf("notify changes: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}

// ListenHooks is what ListenChanges tells its caller.
type ListenHooks struct {
	// Notify receives the keys of each notification, once a pull can see the
	// transaction that sent it.
	Notify func(keys []string)
	// Connected is called whenever the listener (re)connected and every
	// transaction that committed before it listened is visible to a pull:
	// notifications sent while it was not listening are lost, so whatever
	// relied on them (streams, fast pull answers, cached tokens) must look
	// again.
	Connected func()
	// Lost is called when the listener lost its connection: until the next
	// Connected, notifications are not heard.
	Lost func()
}

// ListenChanges holds one Postgres connection that LISTENs on ChangeChannel
// and hands each notification's keys to h.Notify, until ctx ends. On SQLite it
// returns at once.
func (db *DB) ListenChanges(ctx context.Context, logger *slog.Logger, h ListenHooks) {
	if db.Dialect != Postgres {
		return
	}
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, h)
		if h.Lost != nil {
			h.Lost()
		}
		if ctx.Err() != nil {
			return
		}
		logger.WarnContext(ctx, "change listener lost its connection; reconnecting", "err", err, "in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context, h ListenHooks) error {
	conn, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		return fmt.Errorf("connect listener: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+ChangeChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// A transaction that committed before LISTEN was not heard; one still
	// running below the pull bound would stay invisible to a pull for a
	// while after Connected, and nothing would say so later. So wait until
	// every transaction that had an xid when we started listening finished.
	var xmax string
	if err := conn.QueryRow(ctx, "SELECT pg_snapshot_xmax(pg_current_snapshot())::text").Scan(&xmax); err != nil {
		return fmt.Errorf("listener xmax: %w", err)
	}
	if x, err := strconv.ParseUint(xmax, 10, 64); err == nil && x > 0 {
		if err := awaitBound(ctx, conn, x-1); err != nil {
			return err
		}
	}
	if h.Connected != nil {
		h.Connected()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		keys := strings.Fields(n.Payload)
		if len(keys) > 0 && strings.HasPrefix(keys[0], "x:") {
			xid, err := strconv.ParseUint(keys[0][2:], 10, 64)
			if err == nil {
				if err := awaitBound(ctx, conn, xid); err != nil {
					return err
				}
			}
			keys = keys[1:]
		}
		h.Notify(keys)
	}
}

// awaitBound waits until the pull bound has passed xid. A notification
// arrives once its transaction committed, but a pull only delivers entries
// below the bound (the oldest transaction still running in this database):
// a device told "changes are ready" a moment too early would pull nothing
// and not be told again. The wait is usually none at all. It asks on the
// listener's own connection: the pool may be saturated by pulls, and the
// listener must not queue behind them.
func awaitBound(ctx context.Context, conn *pgx.Conn, xid uint64) error {
	wait := time.Millisecond
	for {
		var s string
		if err := conn.QueryRow(ctx, "SELECT fieldsync_pull_bound()").Scan(&s); err != nil {
			return fmt.Errorf("pull bound: %w", err)
		}
		b, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("pull bound %q: %w", s, err)
		}
		if b > xid {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 100*time.Millisecond)
	}
}
