// Package stream fans committed changes out to the devices that hold a live
// change stream (GET /v1/sync/stream, docs/protocol.md §4.5). The hub only
// says "changes are ready in your scope": what changed is read by a pull.
package stream

import (
	"errors"
	gosync "sync"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// ErrTooMany: the user already holds the most streams allowed per process.
var ErrTooMany = errors.New("too many streams for this user")

// DefaultPerUser is how many streams one user may hold on one server process.
const DefaultPerUser = 16

// Hub routes change notifications to subscribers. It is safe for concurrent
// use; its memory is one small struct per stream.
type Hub struct {
	perUser int

	mu     gosync.Mutex
	subs   map[*Sub]struct{}
	byUser map[string]int

	closeOnce gosync.Once
	done      chan struct{}
}

// Close ends every stream (the server is shutting down); streams end by
// themselves, so a graceful shutdown need not wait for them.
func (h *Hub) Close() { h.closeOnce.Do(func() { close(h.done) }) }

// Done is closed by Close.
func (h *Hub) Done() <-chan struct{} { return h.done }

// NewHub returns a hub that allows perUser streams per user (DefaultPerUser
// when perUser <= 0).
func NewHub(perUser int) *Hub {
	if perUser <= 0 {
		perUser = DefaultPerUser
	}
	return &Hub{perUser: perUser, subs: map[*Sub]struct{}{}, byUser: map[string]int{}, done: make(chan struct{})}
}

// Sub is one stream's subscription.
type Sub struct {
	UserID    string
	DeviceID  string
	tokenHash string

	mu    gosync.Mutex
	all   bool
	keys  map[string]struct{}
	check bool // a notification named this user, device or token: re-check it

	// Ready receives a value when changes in scope were committed. It holds
	// at most one: a burst of writes is one wake-up, and a slow stream never
	// queues memory.
	Ready chan struct{}
}

// SetScope replaces the keys the subscription listens to.
func (s *Sub) SetScope(sc domain.Scope) {
	keys := make(map[string]struct{}, len(sc.Keys))
	for _, k := range sc.Keys {
		keys[k] = struct{}{}
	}
	s.mu.Lock()
	s.all, s.keys = sc.All, keys
	s.mu.Unlock()
}

// TakeCheck reports (and clears) whether a notification since the last call
// concerned this stream's user, device or token: a revocation or a scope
// change, to be checked now rather than at the next periodic check.
func (s *Sub) TakeCheck() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.check
	s.check = false
	return c
}

func (s *Sub) signal() {
	select {
	case s.Ready <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// Subscribe registers a stream of the user's device (token: the token's hash)
// listening to scope. It fails with ErrTooMany past the per-user bound.
func (h *Hub) Subscribe(userID, deviceID, tokenHash string, scope domain.Scope) (*Sub, error) {
	s := &Sub{UserID: userID, DeviceID: deviceID, tokenHash: tokenHash, Ready: make(chan struct{}, 1)}
	s.SetScope(scope)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byUser[userID] >= h.perUser {
		return nil, ErrTooMany
	}
	h.byUser[userID]++
	h.subs[s] = struct{}{}
	return s, nil
}

// Unsubscribe removes a subscription; a second call does nothing.
func (h *Hub) Unsubscribe(s *Sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	if h.byUser[s.UserID]--; h.byUser[s.UserID] <= 0 {
		delete(h.byUser, s.UserID)
	}
}

// PerUser is the per-user bound of streams.
func (h *Hub) PerUser() int { return h.perUser }

// Len is the number of live subscriptions.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Publish wakes every subscription whose scope holds one of keys (all of them
// for organisation-wide scopes), and marks for a re-check those whose user,
// device or token a key names.
func (h *Hub) Publish(keys []string) {
	if len(keys) == 0 {
		return
	}
	set := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		set[k] = struct{}{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.mu.Lock()
		wake := s.all
		if _, ok := set[domain.UserKey(s.UserID)]; ok {
			s.check, wake = true, true
		}
		if _, ok := set[store.DeviceNoteKey+s.DeviceID]; ok {
			s.check, wake = true, true
		}
		if _, ok := set[store.TokenNoteKey+s.tokenHash]; ok {
			s.check, wake = true, true
		}
		if !wake {
			for k := range s.keys {
				if _, ok := set[k]; ok {
					wake = true
					break
				}
			}
		}
		s.mu.Unlock()
		if wake {
			s.signal()
		}
	}
}

// WakeAll wakes every subscription: the notifications of a span of time may
// have been lost (the Postgres listener reconnected).
func (h *Hub) WakeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.mu.Lock()
		s.check = true
		s.mu.Unlock()
		s.signal()
	}
}
