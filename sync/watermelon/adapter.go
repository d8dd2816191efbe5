// Package watermelon serves WatermelonDB's sync protocol (synchronize()'s
// pullChanges and pushChanges) over Fieldsync's sync engine: numbers for
// cursors, change sets per table, pushes turned into engine mutations.
// docs/protocol.md, "The WatermelonDB adapter", is its contract.
package watermelon

import (
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/sync/engine"
)

// DefaultMaxChanges bounds one pull answer: WatermelonDB cannot page, so the
// answer is built whole; at about 400 bytes a row this is some 100 MB at
// most, for a scope far past a rep's (18,500 rows for 500 accounts).
const DefaultMaxChanges = 250_000

// MaxPushBytes bounds a push body: WatermelonDB sends every local change at
// once, so it is twice the limit of /v1/sync/push (and within the server's
// default FIELDSYNC_BODY_LIMIT).
const MaxPushBytes = 2 << 20

// Adapter serves WatermelonDB pulls and pushes for one engine.
type Adapter struct {
	eng *engine.Engine
	db  *store.DB
	// MaxChanges is the most records one pull answer may hold; past it the
	// pull is refused (too_large) rather than exhaust memory.
	MaxChanges int
}

// New returns an adapter over the engine and its store.
func New(eng *engine.Engine, db *store.DB) *Adapter {
	return &Adapter{eng: eng, db: db, MaxChanges: DefaultMaxChanges}
}
