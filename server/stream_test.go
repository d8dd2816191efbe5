package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/servetest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// serveServer serves srv on a loopback listener until the test ends.
func serveServer(t *testing.T, srv *server.Server) string {
	t.Helper()
	return servetest.Start(t, srv)
}

// sseEvent is one event of a stream: its name and data.
type sseEvent struct{ name, data string }

// sseClient follows a change stream; events arrive on ev, which is closed
// when the stream ends.
type sseClient struct {
	resp *http.Response
	ev   chan sseEvent
}

func openStream(t *testing.T, base, token string) (*http.Response, *sseClient) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/sync/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		return resp, nil
	}
	c := &sseClient{resp: resp, ev: make(chan sseEvent, 64)}
	go func() {
		defer close(c.ev)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.name != "" || e.data != "" {
					c.ev <- e
				}
				e = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				e.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				e.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return resp, c
}

// next waits for the next event; the deadline only bounds a failing test.
func (c *sseClient) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case e, ok := <-c.ev:
		if !ok {
			t.Fatal("stream ended")
		}
		return e
	case <-time.After(20 * time.Second):
		t.Fatal("no event within 20 s")
	}
	return sseEvent{}
}

// TestStream_WriteReachesStreamingDevice: a write on one device reaches
// another device's stream, which then pulls it at once and gets it: no
// polling, and the event never comes before the pull can see the write.
func TestStream_WriteReachesStreamingDevice(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		base := serveServer(t, o.srv)
		resp, s := openStream(t, base, o.tokens["rep1"])
		if s == nil {
			t.Fatalf("stream: %d", resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Fatalf("Content-Type = %q", ct)
		}
		if e := s.next(t); e.name != "changes" || e.data != "{}" {
			t.Fatalf("first event = %+v, want changes", e)
		}
		mirror := o.mirror("rep1")
		mirror.until(func(map[string]map[string]wire.Change) bool { return true })

		// mgr plans a visit for rep1 on rep1's account acc1.
		note := uuid.NewString()
		o.pushOne("mgr", mutation("visits", "upsert", note, 0,
			map[string]any{"account_id": o.acc1, "rep_id": o.rep1, "planned_at": "2026-11-30T09:00:00Z"}), wire.StatusApplied)
		if e := s.next(t); e.name != "changes" || e.data != "{}" {
			t.Fatalf("event = %+v, want changes without data", e)
		}
		var page wire.PullResponse
		o.as("rep1", "GET", "/v1/sync/pull?cursor="+mirror.cursor, "", 200, &page)
		if len(page.Changes) != 1 || page.Changes[0].ID != note {
			t.Fatalf("pull after the event = %+v, want exactly the note", page.Changes)
		}
	})
}

// TestStream_EndsOnRevocation: revoking the device ends its stream with a
// revoked event.
func TestStream_EndsOnRevocation(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		base := serveServer(t, o.srv)
		_, s := openStream(t, base, o.tokens["rep1"])
		if e := s.next(t); e.name != "changes" {
			t.Fatalf("first event = %+v", e)
		}
		o.ok("DELETE", "/v1/admin/devices/dev-rep1", "", 204, nil)
		// A changes event may come first: the contract allows one that
		// finds nothing new, and on Postgres the change listener, which
		// connects while the stream opens, wakes every stream once when it
		// is up (Hub.WakeAll). Anything but changes before revoked is wrong.
		e := s.next(t)
		for i := 0; e.name == "changes" && i < 3; i++ {
			e = s.next(t)
		}
		if e.name != "revoked" {
			t.Fatalf("event after revocation = %+v, want revoked", e)
		}
		var body wire.ErrorBody
		if err := json.Unmarshal([]byte(e.data), &body); err != nil || body.Error.Code != "unauthorized" {
			t.Fatalf("revoked data = %s (%v)", e.data, err)
		}
		if _, ok := <-s.ev; ok {
			t.Fatal("stream goes on after revoked")
		}
	})
}

// TestStream_PerUserBound: past the per-user bound, a stream is answered 429
// with the contract's error body; closing one makes room again.
func TestStream_PerUserBound(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		base := serveServer(t, o.srv)
		var open []*sseClient
		for range 16 {
			_, s := openStream(t, base, o.tokens["rep1"])
			if s == nil {
				t.Fatal("stream refused within the bound")
			}
			s.next(t)
			open = append(open, s)
		}
		resp, s := openStream(t, base, o.tokens["rep1"])
		if s != nil {
			t.Fatal("stream past the bound accepted")
		}
		var body wire.ErrorBody
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 429 ||
			body.Error.Code != "rate_limited" || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("stream past the bound: %d %+v %v", resp.StatusCode, body, err)
		}
		resp.Body.Close()
		// Another user is not affected.
		if _, s := openStream(t, base, o.tokens["rep2"]); s == nil {
			t.Fatal("rep2's stream refused")
		}
		_ = open
	})
}

// TestStream_SeveralInstances: two servers on one Postgres; a write through
// one reaches a stream held by the other (LISTEN/NOTIFY, not process memory).
func TestStream_SeveralInstances(t *testing.T) {
	dsn := testdb.DSN(t, store.Postgres)
	open := func() *store.DB {
		db, err := store.Open(context.Background(), dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	dbA := open()
	o := newOffice(t, dbA) // instance A: the office writes through it
	baseA := serveServer(t, o.srv)
	cfg := server.DefaultConfig()
	srvB, err := server.New(cfg, open(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	baseB := serveServer(t, srvB)
	_, s := openStream(t, baseB, o.tokens["rep1"])
	if s == nil {
		t.Fatal("stream on B refused")
	}
	if e := s.next(t); e.name != "changes" {
		t.Fatalf("first event = %+v", e)
	}
	// The write goes over HTTP to A.
	body := `{"device_id":"dev-mgr","mutations":[{"mutation_id":"` + uuid.NewString() + `","table":"visits","op":"upsert","id":"` +
		uuid.NewString() + `","row":{"account_id":"` + o.acc1 + `","rep_id":"` + o.rep1 + `","planned_at":"2026-11-30T09:00:00Z"}}]}`
	req, _ := http.NewRequest("POST", baseA+"/v1/sync/push", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+o.tokens["mgr"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("push to A: %v %v", resp, err)
	}
	resp.Body.Close()
	if e := s.next(t); e.name != "changes" {
		t.Fatalf("event on B = %+v, want changes", e)
	}
}

// TestStream_DeviceFollow: the Go SDK's Follow syncs on connecting and again
// when another device's write is announced on the stream (no polling), and
// returns an unauthorized error when the device is revoked.
func TestStream_DeviceFollow(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		base := serveServer(t, o.srv)
		ctx := context.Background()
		dev, err := device.Open(ctx, filepath.Join(t.TempDir(), "rep1.db"), device.Options{ServerURL: base, DeviceID: "rep1-phone"})
		if err != nil {
			t.Fatal(err)
		}
		defer dev.Close()
		if _, err := dev.Login(ctx, "rep1@example.com", "password1"); err != nil {
			t.Fatal(err)
		}
		syncs := make(chan device.SyncReport, 16)
		done := make(chan error, 1)
		go func() {
			done <- dev.Follow(ctx, device.FollowOptions{OnSync: func(r device.SyncReport, err error) {
				if err != nil {
					t.Errorf("sync: %v", err)
				}
				syncs <- r
			}})
		}()
		next := func() device.SyncReport {
			t.Helper()
			select {
			case r := <-syncs:
				return r
			case <-time.After(20 * time.Second):
				t.Fatal("no sync within 20 s")
			}
			return device.SyncReport{}
		}
		if r := next(); r.Pulled == 0 {
			t.Fatalf("first sync pulled nothing: %+v", r)
		}
		visit := uuid.NewString()
		o.pushOne("mgr", mutation("visits", "upsert", visit, 0,
			map[string]any{"account_id": o.acc1, "rep_id": o.rep1, "planned_at": "2026-11-30T09:00:00Z"}), wire.StatusApplied)
		for {
			next()
			if _, err := dev.Visit(ctx, visit); err == nil {
				break
			}
		}
		o.ok("DELETE", "/v1/admin/devices/rep1-phone", "", 204, nil)
		select {
		case err := <-done:
			if domain.ErrorCode(err) != domain.CodeUnauthorized {
				t.Fatalf("Follow after revocation = %v, want unauthorized", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Follow goes on after revocation")
		}
	})
}
