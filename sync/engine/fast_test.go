package engine_test

import (
	"context"
	"log/slog"
	"slices"
	gosync "sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/sync/engine"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// stageLog records the stages the engine reports, to tell a pull answered
// from memory ("fast") from one that read the database.
type stageLog struct {
	mu     gosync.Mutex
	stages []string
}

func (*stageLog) ChangesServed(int)     {}
func (*stageLog) PushResult(string)     {}
func (*stageLog) ConflictOpened(string) {}
func (s *stageLog) PullStage(stage string, _ bool, _ time.Duration) {
	s.mu.Lock()
	s.stages = append(s.stages, stage)
	s.mu.Unlock()
}

// take returns the stages since the last call.
func (s *stageLog) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stages
	s.stages = nil
	return out
}

// frozenClock stops db's clock, so the fast path's age limit never decides a
// test.
func frozenClock(db *store.DB) {
	now := db.Now()
	db.Now = func() time.Time { return now }
}

// fastPuller pulls as one device through eng and says whether each pull was
// answered from memory.
type fastPuller struct {
	t   *testing.T
	eng *engine.Engine
	obs *stageLog
	a   domain.Caller
	m   *mirror
}

func (p *fastPuller) pull() (wire.PullResponse, bool) {
	p.t.Helper()
	p.obs.take()
	resp, err := p.eng.Pull(context.Background(), p.a, p.m.cursor, 100)
	if err != nil {
		p.t.Fatal(err)
	}
	p.m.apply(resp)
	return resp, slices.Contains(p.obs.take(), "fast")
}

// caughtUp pulls until the database confirmed the cursor (an empty page with
// the cursor unchanged), then checks the next pull is answered from memory.
func (p *fastPuller) caughtUp() {
	p.t.Helper()
	for i := 0; ; i++ {
		before := p.m.cursor
		resp, fast := p.pull()
		if fast {
			p.t.Fatal("a pull was fast before the database confirmed its cursor")
		}
		if len(resp.Changes) == 0 && !resp.HasMore && resp.Cursor == before {
			break
		}
		if i > 100 {
			p.t.Fatal("never caught up")
		}
	}
	if resp, fast := p.pull(); !fast || len(resp.Changes) != 0 {
		p.t.Fatalf("the pull after a confirmed empty one: fast %v, %d changes; want fast and empty", fast, len(resp.Changes))
	}
}

func newFastPuller(t *testing.T, db *store.DB, a domain.Caller) *fastPuller {
	obs := &stageLog{}
	return &fastPuller{t: t, eng: engine.New(db, engine.Config{}, nil, obs), obs: obs, a: a, m: newMirror()}
}

func visitFor(account string) map[string]any {
	return map[string]any{"account_id": account, "planned_at": "2026-11-20T09:00:00Z"}
}

// On one instance (the writes committed in process reach the engine at
// commit): a caught-up device's empty pull is answered from memory and costs
// no statement; a write under its scope keys, a scope change of its user or
// the listener going down sends the next pull to the database, which serves
// the change; a write under keys it does not see leaves the answer standing.
func TestPull_FastPath(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		frozenClock(db)
		p := newFastPuller(t, db, o.actor(o.rep1))
		o.eng = p.eng
		db.OnCommit(p.eng.NoteCommitted)

		o.syncAll(t, p.m, o.rep1)
		for i := 0; i < 3; i++ {
			if _, fast := p.pull(); fast {
				t.Fatal("fast before ListenerUp")
			}
		}
		p.eng.ListenerUp()
		p.caughtUp()
		n := countStatements(t, db)
		if resp, fast := p.pull(); !fast || n.Load() != 0 || resp.Cursor != p.m.cursor {
			t.Fatalf("fast pull: fast %v, %d statements; want fast, 0 statements, cursor unchanged", fast, n.Load())
		}

		// Another user's write under keys rep1 does not see: still fast.
		visit2 := uuid.NewString()
		if r := o.push(t, o.rep2, mut(domain.TableVisits, "upsert", visit2, 0, visitFor(o.acc2))); r[0].Status != "applied" {
			t.Fatalf("push: %+v", r)
		}
		if _, fast := p.pull(); !fast {
			t.Error("a write outside rep1's scope ended rep1's fast answer")
		}

		// A write in rep1's territory: the next pull reads it.
		note1 := uuid.NewString()
		if r := o.push(t, o.rep1, mut(domain.TableAccountNotes, "upsert", note1, 0,
			map[string]any{"account_id": o.acc1, "body": "seen by rep1"})); r[0].Status != "applied" {
			t.Fatalf("push: %+v", r)
		}
		resp, fast := p.pull()
		if fast || !p.m.has(domain.TableAccountNotes, note1) {
			t.Fatalf("after a write in scope: fast %v, %d changes; want the note from the database", fast, len(resp.Changes))
		}
		p.caughtUp()

		// A scope change: rep1 moves to T2. Not fast; the move is served.
		o.write(t, func(tx *store.Tx, _ time.Time) error {
			old, err := store.GetUser(tx, o.rep1, true)
			if err != nil {
				return err
			}
			u := old
			u.TerritoryIDs = []string{o.t2}
			_, err = store.UpdateUser(tx, old, u)
			return err
		})
		if _, fast := p.pull(); fast {
			t.Fatal("the pull after a scope change was fast")
		}
		p.caughtUp()
		if !p.m.has(domain.TableAccounts, o.acc2) || p.m.has(domain.TableAccounts, o.acc1) {
			t.Error("the scope change was not served")
		}

		// Listener down: every pull reads the database.
		p.eng.ListenerDown()
		if _, fast := p.pull(); fast {
			t.Fatal("fast while the listener is down")
		}
		if _, fast := p.pull(); fast {
			t.Fatal("fast while the listener is down")
		}
		assertConverged(t, o, p.m, o.rep1)
	})
}

// Two instances on one Postgres: B answers a caught-up device from memory; A
// commits a change in the device's scope. Until B's listener delivered A's
// notification (held here by the test), B may keep answering empty with the
// cursor unchanged — never a cursor past the change; once delivered, B's next
// pull serves it. With B's listener gone, B reads the database again.
func TestPull_FastPathHearsOtherInstance(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	o := newOrg(t, db) // o.eng is instance A; db.OnCommit is not wired to B
	frozenClock(db)
	b := newFastPuller(t, db, o.actor(o.rep1))

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	up, lost := make(chan struct{}, 4), make(chan struct{}, 4)
	notes := make(chan []string, 64)
	release := make(chan struct{})
	var holdMu gosync.Mutex
	hold := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.ListenChanges(ctx, slog.New(slog.DiscardHandler), store.ListenHooks{
			Notify: func(keys []string) {
				holdMu.Lock()
				h := hold
				holdMu.Unlock()
				if h {
					<-release
				}
				b.eng.NoteCommitted(keys)
				notes <- keys
			},
			Connected: func() { b.eng.ListenerUp(); up <- struct{}{} },
			Lost:      func() { b.eng.ListenerDown(); lost <- struct{}{} },
		})
	}()
	<-up
	b.caughtUp()

	holdMu.Lock()
	hold = true
	holdMu.Unlock()
	note := uuid.NewString()
	o.push(t, o.rep1, mut(domain.TableAccountNotes, "upsert", note, 0, map[string]any{"account_id": o.acc1, "body": "from A"}))
	before := b.m.cursor
	if resp, fast := b.pull(); fast && (len(resp.Changes) != 0 || resp.Cursor != before) {
		t.Fatal("a fast answer moved the cursor or carried changes")
	}
	close(release)
	for keys := range notes {
		if slices.Contains(keys, domain.TerritoryKey(o.t1)) {
			break
		}
	}
	resp, fast := b.pull()
	if fast || !b.m.has(domain.TableAccountNotes, note) {
		t.Fatalf("after A's notification: fast %v, %d changes; want A's note from the database", fast, len(resp.Changes))
	}
	b.caughtUp()

	stop()
	<-lost
	<-done
	if _, fast := b.pull(); fast {
		t.Fatal("fast after the listener stopped")
	}
	note2 := uuid.NewString()
	o.push(t, o.rep1, mut(domain.TableAccountNotes, "upsert", note2, 0, map[string]any{"account_id": o.acc1, "body": "unheard"}))
	if _, fast := b.pull(); fast || !b.m.has(domain.TableAccountNotes, note2) {
		t.Fatal("without a listener, B must read the database and serve A's write")
	}
}
