package stream_test

import (
	"errors"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/sync/stream"
)

func pending(s *stream.Sub) bool {
	select {
	case <-s.Ready:
		return true
	default:
		return false
	}
}

// A notification wakes exactly the streams whose scope holds one of its keys
// (organisation-wide scopes: all), and a burst is one wake-up.
func TestHub_ScopedWakeUps(t *testing.T) {
	h := stream.NewHub(0)
	rep1, _ := h.Subscribe("u1", "d1", "h1", domain.Scope{Keys: []string{"t:T1", "u:u1"}})
	rep2, _ := h.Subscribe("u2", "d2", "h2", domain.Scope{Keys: []string{"t:T2", "u:u2"}})
	ops, _ := h.Subscribe("u3", "d3", "h3", domain.Scope{All: true})
	h.Publish([]string{"t:T2"})
	h.Publish([]string{"t:T2", "p"})
	if pending(rep1) || !pending(rep2) || !pending(ops) {
		t.Fatal("t:T2 must wake rep2 and ops only")
	}
	if pending(rep2) {
		t.Fatal("two notifications queued two wake-ups")
	}
	h.Publish([]string{store.DeviceNoteKey + "d1"})
	if !pending(rep1) || !rep1.TakeCheck() || rep1.TakeCheck() {
		t.Fatal("a device note must wake its stream for one re-check")
	}
	h.Publish([]string{store.TokenNoteKey + "h2"})
	if !pending(rep2) || !rep2.TakeCheck() {
		t.Fatal("a token note must wake its stream for a re-check")
	}
	h.WakeAll()
	if !pending(rep1) || !pending(rep2) || !pending(ops) {
		t.Fatal("WakeAll must wake everyone")
	}
}

func TestHub_PerUserBound(t *testing.T) {
	h := stream.NewHub(2)
	a, _ := h.Subscribe("u1", "d1", "h", domain.Scope{})
	if _, err := h.Subscribe("u1", "d2", "h", domain.Scope{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Subscribe("u1", "d3", "h", domain.Scope{}); !errors.Is(err, stream.ErrTooMany) {
		t.Fatalf("third stream: %v, want ErrTooMany", err)
	}
	h.Unsubscribe(a)
	h.Unsubscribe(a)
	if _, err := h.Subscribe("u1", "d3", "h", domain.Scope{}); err != nil {
		t.Fatalf("after one closed: %v", err)
	}
	if h.Len() != 2 {
		t.Fatalf("Len = %d", h.Len())
	}
}
