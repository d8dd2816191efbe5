package engine

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// Pull returns the next page of changes for the actor after cursor (empty: an
// initial sync). It never fails on a bad cursor: an unknown, foreign, compacted or
// malformed cursor gets a reset and the first page of an initial sync.
func (e *Engine) Pull(ctx context.Context, a domain.Caller, cursor string, limit int) (wire.PullResponse, error) {
	return e.pull(ctx, a, "", cursor, limit)
}

// PullTable is Pull restricted to one synced table: the page holds at most
// limit changes, all of that table, and its cursor is a position in that
// table's changes only (the RxDB adapter keeps one per collection). A table
// the actor's role does not receive answers no changes.
func (e *Engine) PullTable(ctx context.Context, a domain.Caller, table, cursor string, limit int) (wire.PullResponse, error) {
	if table == "" {
		return wire.PullResponse{}, errors.New("pull table: no table")
	}
	return e.pull(ctx, a, table, cursor, limit)
}

func (e *Engine) pull(ctx context.Context, a domain.Caller, table, cursor string, limit int) (wire.PullResponse, error) {
	limit = min(max(limit, 1), wire.MaxPullLimit)
	fk := fastKey{user: a.UserID, device: a.DeviceID, table: table}
	if cursor != "" {
		t0 := time.Now()
		if e.fast.hit(fk, cursor, e.db.Now()) {
			e.stampPull(ctx, a)
			e.obs.PullStage("fast", true, time.Since(t0))
			e.obs.ChangesServed(0)
			return wire.PullResponse{Changes: []wire.Change{}, Cursor: cursor}, nil
		}
	}
	gen, live := e.fast.begin()
	var st pullTimes
	resp, err := e.pullPage(ctx, a, table, cursor, limit, &st)
	var missing errNewScope
	if errors.As(err, &missing) {
		// First pull under this scope: store its snapshot (a write, so outside the
		// read-only snapshot) and read again.
		if _, err := store.ScopeID(e.db.Autocommit(ctx), a.UserID, missing.scope); err != nil {
			return wire.PullResponse{}, fmt.Errorf("pull: %w", err)
		}
		resp, err = e.pullPage(ctx, a, table, cursor, limit, &st)
	}
	if err != nil {
		return wire.PullResponse{}, fmt.Errorf("pull: %w", err)
	}
	empty := len(resp.Changes) == 0
	switch {
	case !live:
	case empty && !resp.HasMore && !resp.Reset && cursor != "" && resp.Cursor == cursor:
		// The database confirmed this cursor is caught up: the next pull with
		// it may be answered from memory, until a write says otherwise.
		e.fast.remember(fk, cursor, gen, st.scope, e.db.Now())
	default:
		e.fast.forget(fk)
	}
	t0 := time.Now()
	e.stampPull(ctx, a)
	e.obs.PullStage("begin", empty, st.begin)
	e.obs.PullStage("bound", empty, st.bound)
	e.obs.PullStage("read", empty, st.read)
	e.obs.PullStage("stamp", empty, time.Since(t0))
	e.obs.ChangesServed(len(resp.Changes))
	return resp, nil
}

// stampPull records the device's last pull for the sync-health report, at most
// once per pullStampGranularity per device and process, so an idle poll whose
// stamp is fresh touches no connection for it. Once DeferPullStamps was called
// (the server does), a due stamp is only queued in memory and FlushPullStamps
// writes the queue in one transaction: the writes leave the request path. On a
// freshly started server, 200 devices' first polls each wrote their stamp
// within the same second, holding the pool's connections across four round
// trips each, and the polls queued behind them for up to two seconds: the
// one-per-cent tail of docs/benchmarks.md, "The empty-pull tail".
func (e *Engine) stampPull(ctx context.Context, a domain.Caller) {
	now := e.db.Now()
	if e.stamps.take(a.UserID, a.DeviceID, now) {
		return // fresh, or queued for FlushPullStamps
	}
	if err := e.writeStamps(ctx, map[[2]string]time.Time{{a.UserID, a.DeviceID}: now}); err != nil {
		e.stamps.forget(a.UserID, a.DeviceID)
		e.log.WarnContext(ctx, "record pull", "err", err)
	}
}

// DeferPullStamps makes pulls queue their last-pull stamps for
// FlushPullStamps instead of writing them; whoever calls it must call
// FlushPullStamps every second or so, and once more on shutdown.
func (e *Engine) DeferPullStamps() {
	e.stamps.mu.Lock()
	e.stamps.deferred = true
	e.stamps.mu.Unlock()
}

// FlushPullStamps writes the queued last-pull stamps in one transaction. A
// stamp that fails to be written is dropped and due again at its device's
// next pull.
func (e *Engine) FlushPullStamps(ctx context.Context) error {
	e.stamps.mu.Lock()
	batch := e.stamps.queued
	e.stamps.queued = nil
	e.stamps.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := e.writeStamps(ctx, batch); err != nil {
		for k := range batch {
			e.stamps.forget(k[0], k[1])
		}
		return err
	}
	return nil
}

// writeStamps writes last-pull stamps, keyed by user and device, in one
// transaction that commits without waiting for its WAL flush
// (synchronous_commit off, for this transaction only): a crash may lose the
// last fraction of a second of stamps, which a "last seen" report can afford,
// and the stamp never waits behind other commits' fsyncs.
func (e *Engine) writeStamps(ctx context.Context, stamps map[[2]string]time.Time) error {
	return e.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CommitWithoutFlush(); err != nil {
			return fmt.Errorf("stamp pulls: %w", err)
		}
		for k, at := range stamps {
			// The stored-stamp condition stays: other server processes stamp too.
			if err := store.TouchDevice(tx, k[0], k[1], store.DeviceTouch{PulledAt: &at, PullGranularity: pullStampGranularity}); err != nil {
				return err
			}
		}
		return nil
	})
}

// pullStamps remembers when this process last stamped each device's pull, and
// the stamps queued for FlushPullStamps.
type pullStamps struct {
	mu       gosync.Mutex
	last     map[[2]string]time.Time
	queued   map[[2]string]time.Time
	deferred bool
}

// maxPullStamps bounds the memory of pullStamps; past it, entries old enough
// to be due anyway are dropped.
const maxPullStamps = 100_000

// take reports whether the caller has nothing to write: the device's stamp
// is fresh, or it was due and is now queued. Otherwise it counts the stamp
// as written now and the caller writes it.
func (s *pullStamps) take(userID, deviceID string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{userID, deviceID}
	if t, ok := s.last[k]; ok && now.Sub(t) < pullStampGranularity && !now.Before(t) {
		return true
	}
	if s.last == nil {
		s.last = map[[2]string]time.Time{}
	}
	if len(s.last) >= maxPullStamps {
		for k, t := range s.last {
			if now.Sub(t) >= pullStampGranularity {
				delete(s.last, k)
			}
		}
	}
	s.last[k] = now
	if !s.deferred {
		return false
	}
	if s.queued == nil {
		s.queued = map[[2]string]time.Time{}
	}
	s.queued[k] = now
	return true
}

// forget makes the device's stamp due again (its write failed).
func (s *pullStamps) forget(userID, deviceID string) {
	s.mu.Lock()
	delete(s.last, [2]string{userID, deviceID})
	s.mu.Unlock()
}

// pullStampGranularity bounds how stale a device's last_pull_at may be in the
// sync-health report, in exchange for not writing on every poll.
const pullStampGranularity = 30 * time.Second

// pullTimes: how long the stages of one pull took, for Observer.PullStage
// (summed over every attempt: the scope snapshot stored first, a bound
// asked again), and the scope the page was built for (what the fast path
// listens to).
type pullTimes struct {
	begin, bound, read time.Duration
	scope              domain.Scope
}

// errNewScope: the user's current scope has no stored snapshot yet.
type errNewScope struct{ scope domain.Scope }

func (errNewScope) Error() string { return "scope snapshot not stored yet" }

// errUnsettled: the pull bound was held back by a transaction that finished
// as it was read (store.SnapshotBound); a new snapshot gets a better one.
var errUnsettled = errors.New("pull bound unsettled")

// boundAttempts bounds how many snapshots a pull takes for a settled bound;
// the last one's bound is used settled or not (it is safe either way).
const boundAttempts = 3

// pullPage builds one page on one snapshot: the bound, the scope, the cursor
// checks, the log entries and the rows all come from the same consistent
// view, in one transaction on one connection. table, when set, narrows the
// page to that table (PullTable).
func (e *Engine) pullPage(ctx context.Context, a domain.Caller, table, cursor string, limit int, times *pullTimes) (wire.PullResponse, error) {
	for attempt := 1; ; attempt++ {
		resp, err := e.pullSnapshot(ctx, a, table, cursor, limit, attempt == boundAttempts, times)
		if errors.Is(err, errUnsettled) {
			continue
		}
		return resp, err
	}
}

// pullSnapshot is one attempt of pullPage; last accepts an unsettled bound.
func (e *Engine) pullSnapshot(ctx context.Context, a domain.Caller, table, cursor string, limit int, last bool, times *pullTimes) (wire.PullResponse, error) {
	var resp wire.PullResponse
	t0 := time.Now()
	t1, t2 := t0, t0
	err := e.db.ReadTx(ctx, func(tx *store.Tx) error {
		t1 = time.Now() // a connection from the pool, and BEGIN
		bound, settled, err := store.SnapshotBound(tx)
		t2 = time.Now()
		if err != nil {
			return err
		}
		if !settled && !last {
			return errUnsettled
		}
		scope, err := resolveScope(tx, a.UserID)
		if err != nil {
			return err
		}
		times.scope = scope
		start, err := store.LoadPullStart(tx, a.UserID, scope)
		if err != nil {
			return err
		}
		if !start.Found {
			return errNewScope{scope: scope}
		}
		st, old, reset, err := e.resume(tx, a.UserID, cursor, scope, start)
		if err != nil {
			return err
		}
		if table != "" {
			// Narrowed after the cursor checks: the stored scope snapshot
			// stays the user's whole scope, shared with every other cursor.
			if !scope.HasTable(table) {
				resp = wire.PullResponse{Cursor: e.cursor.encode(st), Reset: reset}
				return nil
			}
			scope.Tables = []string{table}
		}
		p := &page{e: e, tx: tx, scope: scope, old: old, st: st, limit: limit, bound: bound}
		if err := p.fill(); err != nil {
			return err
		}
		resp = wire.PullResponse{Changes: p.changes, Cursor: e.cursor.encode(p.st), HasMore: p.hasMore, Reset: reset}
		return nil
	})
	times.begin += t1.Sub(t0)
	times.bound += t2.Sub(t1)
	times.read += time.Since(t2)
	if resp.Changes == nil {
		resp.Changes = []wire.Change{}
	}
	return resp, err
}

// resume turns the client's cursor into the state to continue from, or into a
// fresh initial-sync state with reset=true when the cursor cannot be continued.
// When the state is in or after a scope transition (O set) it also returns
// the scope before it, loaded once for the whole page.
func (e *Engine) resume(tx *store.Tx, userID, cursor string, scope domain.Scope, start store.PullStart) (cursorState, domain.Scope, bool, error) {
	var none domain.Scope
	horizon, scopeID := start.Horizon, start.ScopeID
	// A fresh sync needs no tombstones, so it starts checked against the
	// horizon as it is: its pages may lie behind it without missing anything.
	fresh := cursorState{U: userID, S: scopeID, HX: horizon.Xid, HQ: horizon.Seq}
	if cursor == "" {
		return fresh, none, false, nil
	}
	c, err := e.cursor.decode(cursor)
	if err != nil || c.U != userID {
		return fresh, none, true, nil
	}
	if horizon.Seq > 0 && horizon != c.horizon() && !horizon.Less(c.pos()) {
		return fresh, none, true, nil // compacted since: it may have missed a tombstone
	}
	c.HX, c.HQ = horizon.Xid, horizon.Seq
	if c.S == scopeID {
		if c.O != 0 {
			old, ok, err := store.LoadScope(tx, userID, c.O)
			if err != nil || !ok {
				return fresh, none, err == nil, err
			}
			return c, old, false, nil
		}
		return c, none, false, nil
	}
	// The scope changed since this cursor was issued.
	if c.P != phaseLog {
		return fresh, none, true, nil // changed again mid-transition: start over
	}
	old, ok, err := store.LoadScope(tx, userID, c.S)
	if err != nil || !ok {
		return fresh, none, err == nil, err
	}
	if old.All || scope.All || !sameTables(old.Tables, scope.Tables) {
		// Organisation-wide scopes and role changes that change the tables a user
		// receives are rare and large: a reset is cheaper than a diff.
		return fresh, none, true, nil
	}
	return cursorState{U: userID, S: scopeID, X: c.X, Q: c.Q, O: c.S, P: phaseLeave, HX: c.HX, HQ: c.HQ}, old, false, nil
}

func sameTables(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// page builds one pull response.
type page struct {
	e       *Engine
	tx      *store.Tx
	scope   domain.Scope
	old     domain.Scope // the scope before the transition, when st.O is set
	st      cursorState
	limit   int
	bound   uint64 // Postgres: deliver only entries of transactions below this xid
	read    int    // entries consumed, the page's budget
	changes []wire.Change
	hasMore bool
}

func (p *page) fill() error {
	old := p.old // resume loaded it, in this same snapshot
	lost := domain.KeyDiff(old.Keys, p.scope.Keys)
	if p.st.P == phaseLeave {
		done, err := p.phase(lost, false)
		if err != nil || !done {
			return err
		}
		p.st.P, p.st.PX, p.st.PQ = phaseEnter, 0, 0
	}
	if p.st.P == phaseEnter {
		done, err := p.phase(domain.KeyDiff(p.scope.Keys, old.Keys), true)
		if err != nil || !done {
			return err
		}
		p.st.P, p.st.PX, p.st.PQ = phaseLog, 0, 0
	}
	return p.log(lost)
}

// phase walks the live entries of keys up to the cursor's position: the rows the
// device may hold through a lost key (enter=false: delete what is no longer
// visible) or the rows it never got through a gained key (enter=true: send what
// is visible). It reports whether the phase is finished.
func (p *page) phase(keys []string, enter bool) (bool, error) {
	room := p.limit - p.read
	if room <= 0 {
		p.hasMore = true
		return false, nil
	}
	if len(keys) == 0 || (p.st.X == 0 && p.st.Q == 0) {
		return true, nil
	}
	upto := p.st.pos()
	entries, err := store.ReadLog(p.tx, store.LogQuery{After: p.st.phasePos(), Upto: &upto, Keys: keys,
		Tables: p.scope.Tables, Limit: room, Bound: p.bound})
	if err != nil {
		return false, err
	}
	p.read += len(entries)
	if len(entries) > 0 {
		last := entries[len(entries)-1].Pos()
		p.st.PX, p.st.PQ = last.Xid, last.Seq
	}
	mode := emitDeletes
	if enter {
		mode = emitUpserts
	}
	if err := p.emit(entries, mode); err != nil {
		return false, err
	}
	if len(entries) == room {
		p.hasMore = true
		return false, nil
	}
	return true, nil
}

// log reads the change log after the cursor. Keys lost in a recent scope change
// are read too, so a row that left through one of them while the transition was
// being sent still gets its delete.
func (p *page) log(lost []string) error {
	room := p.limit - p.read
	if room <= 0 {
		p.hasMore = true
		return nil
	}
	q := store.LogQuery{After: p.st.pos(), All: p.scope.All, SkipOutOfScope: p.scope.All,
		Tables: p.scope.Tables, Limit: room + 1, NaiveSeq: p.e.naiveSeq, Bound: p.bound}
	if !p.scope.All {
		q.Keys = append(append([]string{}, p.scope.Keys...), lost...)
	}
	entries, err := store.ReadLog(p.tx, q)
	if err != nil {
		return err
	}
	if len(entries) > room {
		entries, p.hasMore = entries[:room], true
	}
	p.read += len(entries)
	if len(entries) > 0 {
		last := entries[len(entries)-1].Pos()
		p.st.X, p.st.Q = last.Xid, last.Seq
	}
	if !p.hasMore {
		p.st.O = 0 // caught up: the lost keys can hold nothing this device has
	}
	return p.emit(entries, emitBoth)
}

type emitMode int

const (
	emitBoth emitMode = iota
	emitDeletes
	emitUpserts
)

// emit turns entries into changes by looking at each row as it is now: a visible
// row is sent as an upsert of its current version, anything else as a delete.
// Entries are only pointers: the log need not hold row data, and a row that
// changed again is sent once, current.
func (p *page) emit(entries []store.ChangeEntry, mode emitMode) error {
	if len(entries) == 0 {
		return nil
	}
	ids := map[string][]string{}
	for _, en := range entries {
		ids[en.Tbl] = append(ids[en.Tbl], en.RowID)
	}
	rows := make(map[string]map[string]store.CurrentRow, len(ids))
	for table, list := range ids {
		r, err := store.FetchRows(p.tx, table, list)
		if err != nil {
			return err
		}
		rows[table] = r
	}
	seen := make(map[string]bool, len(entries))
	for _, en := range entries {
		k := en.Tbl + "/" + en.RowID
		if seen[k] {
			continue
		}
		seen[k] = true
		row, exists := rows[en.Tbl][en.RowID]
		visible := exists && p.scope.Sees(en.Tbl, row.Keys)
		switch {
		case visible && mode != emitDeletes:
			p.changes = append(p.changes, wire.Change{Table: en.Tbl, Op: store.OpUpsert, ID: en.RowID,
				Version: row.Version, Row: row.JSON})
		case !visible && mode != emitUpserts:
			reason := store.ReasonOutOfScope
			if !exists {
				reason = store.ReasonDeleted
			}
			p.changes = append(p.changes, wire.Change{Table: en.Tbl, Op: store.OpDelete, ID: en.RowID,
				Version: en.Version, Reason: reason})
		}
	}
	return nil
}
