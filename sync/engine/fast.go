package engine

import (
	"strings"
	gosync "sync"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// The fast path answers an empty pull without a database round trip: a
// device that pulls again with the cursor a database pull just gave back
// unchanged, with nothing in its page, gets the same empty page again as long
// as nothing that could change that answer was heard of since the database
// pull began (issue 13). It never advances a cursor: at worst a change is
// served one pull later, never skipped.
//
// What it hears: the keys of every committed write (store.NoteKeys), from
// this process at commit (store.DB.OnCommit) and, on Postgres, from every
// instance through the change listener once a pull can see the write. It is
// off until the server says the listener is connected (ListenerUp; on
// SQLite, whose writers are in this process, at once), and off again while
// the listener is down: notifications are lost then.

// fastPull is the memory of verified empty answers. Every event increments
// gen; an answer verified by a database pull that began at generation g
// stands while no event after g touched it: no key of its scope changed
// (keyGen), no change at all for an organisation-wide scope (anyGen), and
// nothing made every answer stale (floor: scope or horizon changes, the
// listener's reconnects).
type fastPull struct {
	mu      gosync.Mutex
	live    bool
	gen     uint64
	floor   uint64
	anyGen  uint64
	keyGen  map[string]uint64
	entries map[fastKey]fastEntry
}

// fastKey: one cursor lane of one device (PullTable keeps one per table).
type fastKey struct{ user, device, table string }

type fastEntry struct {
	cursor string
	gen    uint64
	at     time.Time // when the database last confirmed the answer
	all    bool
	keys   []string
}

// Bounds of the fast path's memory: past maxFastEntries answers some are
// forgotten (they cost one database pull each); past maxFastKeys remembered
// key generations, they are dropped and every answer with them.
const (
	maxFastEntries = 100_000
	maxFastKeys    = 200_000
)

// fastMaxAge bounds how long an answer stands without the database being
// asked again, whatever was heard: a writer that notifies no one (another
// process on SQLite, a hand-made SQL fix) is seen within this delay. It is
// long on purpose: a device polling every second reads the database once
// per fastMaxAge, and at 15 s that was 7 % of the polls, enough to make
// the database pull (and its queueing) the p99 of an idle fleet; at 2
// minutes it is under 1 %.
const fastMaxAge = 2 * time.Minute

// begin returns the generation a database pull starting now verifies at, and
// whether an answer may be remembered at all.
func (f *fastPull) begin() (uint64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gen, f.live
}

// hit reports whether an empty answer with cursor unchanged stands for k.
func (f *fastPull) hit(k fastKey, cursor string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.live {
		return false
	}
	e, ok := f.entries[k]
	if !ok || e.cursor != cursor || e.gen < f.floor || now.Sub(e.at) >= fastMaxAge || now.Before(e.at) {
		return false
	}
	if e.all {
		return e.gen >= f.anyGen
	}
	for _, key := range e.keys {
		if f.keyGen[key] > e.gen {
			return false
		}
	}
	return true
}

// remember records that a database pull begun at gen answered k's cursor with
// an empty page and the same cursor, under scope.
func (f *fastPull) remember(k fastKey, cursor string, gen uint64, scope domain.Scope, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.live || gen < f.floor {
		return
	}
	if f.entries == nil {
		f.entries = map[fastKey]fastEntry{}
	}
	if _, ok := f.entries[k]; !ok && len(f.entries) >= maxFastEntries {
		n := 0
		for old := range f.entries { // map order: an arbitrary tenth goes
			delete(f.entries, old)
			if n++; n >= maxFastEntries/10 {
				break
			}
		}
	}
	f.entries[k] = fastEntry{cursor: cursor, gen: gen, at: now, all: scope.All, keys: scope.Keys}
}

// forget drops k's answer (its last pull was not an empty one).
func (f *fastPull) forget(k fastKey) {
	f.mu.Lock()
	delete(f.entries, k)
	f.mu.Unlock()
}

// note takes the keys of a committed write.
func (f *fastPull) note(keys []string) {
	if len(keys) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	for _, k := range keys {
		switch {
		case k == store.ScopeNoteKey || k == store.HorizonNoteKey:
			f.floor = f.gen
		case strings.HasPrefix(k, store.DeviceNoteKey), strings.HasPrefix(k, store.TokenNoteKey):
			// Names a device or token, never a scope key.
		default:
			f.anyGen = f.gen
			if f.keyGen == nil {
				f.keyGen = map[string]uint64{}
			}
			if _, ok := f.keyGen[k]; !ok && len(f.keyGen) >= maxFastKeys {
				f.keyGen = map[string]uint64{}
				f.floor = f.gen
			}
			f.keyGen[k] = f.gen
		}
	}
}

// setLive turns the fast path on or off; either way every answer remembered
// so far is void (notifications may have been missed in between).
func (f *fastPull) setLive(live bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live = live
	f.gen++
	f.floor = f.gen
	f.entries = nil
	f.keyGen = nil
}

// NoteCommitted tells the engine the keys of a committed write (every
// store.NoteKeys of a transaction): from this process at commit, and from
// every instance through the change listener. Answers the write may have made
// stale are dropped.
func (e *Engine) NoteCommitted(keys []string) { e.fast.note(keys) }

// ListenerUp turns the fast path for empty pulls on: from now on every
// committed write reaches NoteCommitted (on Postgres: the change listener is
// connected and every transaction that committed before it listened is
// visible). Until it is called, every pull reads the database.
func (e *Engine) ListenerUp() { e.fast.setLive(true) }

// ListenerDown turns the fast path off: writes may go unheard.
func (e *Engine) ListenerDown() { e.fast.setLive(false) }
