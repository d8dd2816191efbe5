// Package engine is Fieldsync's sync engine: it resolves a user's scope, serves
// pulls from the change log with cursors that never skip a committed change, and
// applies pushed mutations one by one, idempotently, merging offline edits by the
// conflict policies of the domain package.
package engine

import (
	"log/slog"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// Observer receives counts for metrics; the server wires it to Prometheus.
type Observer interface {
	ChangesServed(n int)
	PushResult(status string)
	ConflictOpened(table string)
	// PullStage reports how long one stage of a pull took: "begin" (a
	// connection from the pool and BEGIN of the snapshot transaction),
	// "bound" (the pull bound, its first statement), "read" (the rest of the
	// snapshot transaction, which builds the page), "stamp" (the device's
	// last-pull stamp), or "fast" (the whole of a pull
	// answered empty from memory, without the database: fast.go); empty tells
	// whether the page had no changes, the idle poll whose tail issue 13
	// chases.
	PullStage(stage string, empty bool, d time.Duration)
}

type nopObserver struct{}

func (nopObserver) ChangesServed(int)                     {}
func (nopObserver) PushResult(string)                     {}
func (nopObserver) ConflictOpened(string)                 {}
func (nopObserver) PullStage(string, bool, time.Duration) {}

// Config tunes the engine.
type Config struct {
	// Currency is the default currency of orders created without one.
	Currency string
	// ScopeGrace is how long after losing an account a rep's writes to it still
	// become conflicts instead of rejections (docs/protocol.md §4.3: 30 days).
	ScopeGrace time.Duration
}

// Engine serves pulls and pushes. It is safe for concurrent use.
type Engine struct {
	db     *store.DB
	cfg    Config
	log    *slog.Logger
	obs    Observer
	cursor cursorCodec
	stamps pullStamps
	fast   fastPull
	// naiveSeq switches pulls to a seq-only cursor; tests use it to show that
	// the concurrency test catches the out-of-order commit trap.
	naiveSeq bool
	// pushHook, when set, is called at points of every push transaction
	// (PushLocked, PushCommit, PushRetry); tests use it to hold pushes at
	// those points and force interleavings.
	pushHook func(point PushPoint, a domain.Caller, err error)
}

// PushPoint names a point of a push transaction where a test hook runs.
type PushPoint int

const (
	// PushLocked: every lock the request takes up front is held.
	PushLocked PushPoint = iota + 1
	// PushCommit: every write is done, the transaction is about to commit.
	PushCommit
	// PushRetry: the transaction failed with err and will run again.
	PushRetry
)

// New returns an engine over db. obs may be nil.
func New(db *store.DB, cfg Config, logger *slog.Logger, obs Observer) *Engine {
	if cfg.Currency == "" {
		cfg.Currency = "EUR"
	}
	if cfg.ScopeGrace == 0 {
		cfg.ScopeGrace = 30 * 24 * time.Hour
	}
	if obs == nil {
		obs = nopObserver{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{db: db, cfg: cfg, log: logger, obs: obs}
}
