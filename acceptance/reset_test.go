package acceptance

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// setCursor overwrites the pull cursor stored in a device file, the way a
// corrupted file or a restored backup of another user's phone would.
func setCursor(t *testing.T, path, cursor string) {
	t.Helper()
	db, err := gorm.Open(sqlite.Open(path+"?_busy_timeout=10000"), &gorm.Config{Logger: logger.Discard})
	must(t, err)
	sqlDB, err := db.DB()
	must(t, err)
	defer sqlDB.Close()
	res := db.Exec(`UPDATE meta SET value = ? WHERE key = 'cursor'`, cursor)
	must(t, res.Error)
	if res.RowsAffected != 1 {
		t.Fatal("the device file holds no cursor to overwrite")
	}
}

// offlineNote queues a note on c without syncing and returns it.
func offlineNote(t *testing.T, c *device.Client, account string) domain.AccountNote {
	t.Helper()
	n, err := c.AddNote(context.Background(), account, "Written in the basement, no signal")
	must(t, err)
	return n
}

// wantResetKeepsOutbox pulls (without pushing) and checks the reset contract:
// the mirror is rebuilt, the outbox survives with the offline note still shown;
// then a full Sync delivers the note and the device converges.
func (e *env) wantResetKeepsOutbox(c *device.Client, note domain.AccountNote) {
	e.t.Helper()
	ctx := context.Background()
	e.settle()
	rep, err := c.Pull(ctx)
	must(e.t, err)
	if !rep.Reset {
		e.t.Fatal("the server did not reset the cursor")
	}
	if n, err := c.OutboxLen(ctx); err != nil || n != 1 {
		e.t.Fatalf("outbox after the reset holds %d mutations (%v), want the 1 offline edit", n, err)
	}
	if _, err := c.Note(ctx, note.ID); err != nil {
		e.t.Errorf("the offline note vanished from the device with the reset: %v", err)
	}
	e.sync(c)
	if n, _ := c.OutboxLen(ctx); n != 0 {
		e.t.Errorf("outbox holds %d mutations after Sync", n)
	}
	if got := e.serverScope(c.UserID())[domain.TableAccountNotes][note.ID]; got.Version != 1 {
		e.t.Errorf("the offline note is not on the server after the reset: %+v", got)
	}
	e.converged(c)
}

// TestSync_ResetMalformedCursor: a cursor the server cannot read gets a reset,
// never a 500; the device keeps its outbox (§4.1 guarantee 4).
func TestSync_ResetMalformedCursor(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		path := filepath.Join(t.TempDir(), "dev.db")
		rep1 := e.deviceAt(path, e.rep1)
		e.sync(rep1)
		note := offlineNote(t, rep1, e.a1)
		setCursor(t, path, "not%a~cursor!!")
		e.wantResetKeepsOutbox(rep1, note)

		tok := e.token(e.rep1, "raw-client")
		for _, bad := range []string{"%%%", "eyJ2IjoxfQ", "AAAA", "x"} {
			var page wire.PullResponse
			e.ok(http.MethodGet, "/v1/sync/pull?cursor="+url.QueryEscape(bad), tok, nil, http.StatusOK, &page)
			if !page.Reset {
				t.Errorf("cursor %q: want a reset, got %+v", bad, page)
			}
		}
	})
}

// TestSync_ResetForeignCursor: a cursor issued to another user gets a reset and
// only the caller's own scope (§4.1 guarantee 6); cursors are URL-safe.
func TestSync_ResetForeignCursor(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rep1 := e.synced(e.rep1)
		path := filepath.Join(t.TempDir(), "dev.db")
		rep2 := e.deviceAt(path, e.rep2)
		e.sync(rep2)
		foreign, err := rep1.Cursor(ctx)
		must(t, err)
		if foreign == "" || url.QueryEscape(foreign) != foreign {
			t.Errorf("cursor %q is not URL-safe", foreign)
		}
		note := offlineNote(t, rep2, e.a2)
		setCursor(t, path, foreign)
		e.wantResetKeepsOutbox(rep2, note)
		if _, err := rep2.Account(ctx, e.a1); err == nil {
			t.Error("rep2 holds rep1's account a1 after using rep1's cursor")
		}

		// The same over raw HTTP: rep2's token with rep1's cursor.
		tok := e.token(e.rep2, "raw-client")
		var page wire.PullResponse
		e.ok(http.MethodGet, "/v1/sync/pull?cursor="+foreign, tok, nil, http.StatusOK, &page)
		if !page.Reset {
			t.Fatal("rep2 continued from rep1's cursor without a reset")
		}
		for _, ch := range page.Changes {
			if ch.ID == e.a1 || ch.ID == e.a1b {
				t.Errorf("rep2 received rep1's account %s", ch.ID)
			}
		}
	})
}

// TestSync_ResetCompacted: a cursor older than a compacted tombstone gets a
// reset; the device keeps its outbox and converges.
func TestSync_ResetCompacted(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rep1 := e.synced(e.rep1)
		other := e.synced(e.rep1, withTransport(&pullGuard{base: http.DefaultTransport, max: 200}))
		v, err := rep1.PlanVisit(ctx, e.a1, day)
		must(t, err)
		e.sync(rep1)
		must(t, rep1.DeleteVisit(ctx, v.ID))
		e.sync(rep1)
		var removed int64
		e.tx(func(tx *store.Tx) (err error) {
			removed, err = store.Compact(tx, e.db.Now().Add(time.Hour))
			return err
		})
		if removed == 0 {
			t.Fatal("compaction removed nothing: the test proves nothing")
		}
		note := offlineNote(t, other, e.a1)
		e.wantResetKeepsOutbox(other, note)
		if _, err := other.Visit(ctx, v.ID); err == nil {
			t.Error("the deleted visit survived the reset")
		}
	})
}

// TestSync_BoundedPages: a pull with limit 3 never returns more than 3 changes,
// and paging to the end delivers the whole scope (§4.1 guarantee 5).
func TestSync_BoundedPages(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		rep1 := e.synced(e.rep1)
		e.record(rep1, e.a1)
		e.record(rep1, e.key)
		for _, user := range []string{e.rep1, e.mgr, e.ops} {
			e.settle()
			tok := e.token(user, "raw-client")
			got := snapshot{}
			cursor, pages := "", 0
			for more := true; more; pages++ {
				var page wire.PullResponse
				e.ok(http.MethodGet, "/v1/sync/pull?limit=3&cursor="+cursor, tok, nil, http.StatusOK, &page)
				if len(page.Changes) > 3 {
					t.Fatalf("%s: page of %d changes with limit 3", e.email[user], len(page.Changes))
				}
				for _, ch := range page.Changes {
					if got[ch.Table] == nil {
						got[ch.Table] = map[string]versioned{}
					}
					if ch.Op == "delete" {
						delete(got[ch.Table], ch.ID)
					} else if old, ok := got[ch.Table][ch.ID]; !ok || old.Version <= ch.Version {
						got[ch.Table][ch.ID] = versioned{Version: ch.Version, Row: canonical(t, ch.Row)}
					}
				}
				cursor, more = page.Cursor, page.HasMore
			}
			want := e.serverScope(user)
			if d := diff(want, got); len(d) > 0 {
				t.Errorf("%s: paged pull is not the scope: %v", e.email[user], d)
			}
			if pages < rowCount(want)/3 {
				t.Errorf("%s: %d rows in %d pages of at most 3", e.email[user], rowCount(want), pages)
			}
		}
	})
}
