package auth

import (
	"strings"
	gosync "sync"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// tokenCache remembers live tokens for a few seconds, so that a device
// polling every second is not one database read per request for its bearer
// check alone (issue 13). A revocation, a logout, a device revoked or a user
// deactivated or changed drops the entries it concerns at once: on this
// process through Forget/NoteCommitted at commit, on every other instance
// through the change listener's notifications (the keys store.RevokeToken,
// RevokeDevice, RevokeSession and RevokeUserTokens note). The cache is off
// until the server says the listener is connected (ListenerUp), and off
// again while it is not: a revocation could go unheard.
type tokenCache struct {
	mu   gosync.Mutex
	live bool
	// gen counts the notes that dropped entries; a token read from the
	// database is only cached when none came while it was being read, lest
	// the read predate a revocation whose note already passed.
	gen uint64
	m   map[string]cachedToken
}

type cachedToken struct {
	owner store.TokenOwner
	at    time.Time
}

// tokenCacheTTL bounds how long a cached token stands without the database
// being asked again: a revocation no notification announced (SQL by hand) is
// seen within it. A device polling every second reads its token once per
// TTL (under 2 % of its requests at a minute).
const tokenCacheTTL = time.Minute

// maxCachedTokens caps the cache's memory (one device token per phone; a
// fleet of 20,000 devices fits).
const maxCachedTokens = 20_000

func (c *tokenCache) get(hash string, now time.Time) (store.TokenOwner, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return store.TokenOwner{}, false
	}
	e, ok := c.m[hash]
	if !ok || now.Sub(e.at) >= tokenCacheTTL || now.Before(e.at) {
		return store.TokenOwner{}, false
	}
	return e.owner, true
}

func (c *tokenCache) begin() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.live
}

func (c *tokenCache) put(owner store.TokenOwner, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || gen != c.gen {
		return
	}
	if c.m == nil {
		c.m = map[string]cachedToken{}
	}
	if _, ok := c.m[owner.Hash]; !ok && len(c.m) >= maxCachedTokens {
		for h, e := range c.m {
			if now.Sub(e.at) >= tokenCacheTTL {
				delete(c.m, h)
			}
		}
		for h := range c.m { // still full: an arbitrary tenth goes
			if len(c.m) < maxCachedTokens*9/10 {
				break
			}
			delete(c.m, h)
		}
	}
	c.m[owner.Hash] = cachedToken{owner: owner, at: now}
}

// drop removes the entries match selects.
func (c *tokenCache) drop(match func(store.TokenOwner) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for h, e := range c.m {
		if match(e.owner) {
			delete(c.m, h)
		}
	}
}

func (c *tokenCache) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = live
	c.gen++
	c.m = nil
}

// note drops what the keys of a committed write revoked: a token (by hash),
// a device's tokens, a user's tokens (revocation, deactivation, role or
// password change all note the user's key; so does any change to the
// user's row, which costs the user one database read).
func (c *tokenCache) note(keys []string) {
	var hashes, devices, users []string
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, store.TokenNoteKey):
			hashes = append(hashes, strings.TrimPrefix(k, store.TokenNoteKey))
		case strings.HasPrefix(k, store.DeviceNoteKey):
			devices = append(devices, strings.TrimPrefix(k, store.DeviceNoteKey))
		case strings.HasPrefix(k, domain.UserKey("")):
			users = append(users, strings.TrimPrefix(k, domain.UserKey("")))
		}
	}
	if len(hashes)+len(devices)+len(users) == 0 {
		return
	}
	c.drop(func(o store.TokenOwner) bool {
		for _, h := range hashes {
			if o.Hash == h {
				return true
			}
		}
		for _, d := range devices {
			if o.DeviceID == d {
				return true
			}
		}
		for _, u := range users {
			if o.UserID == u {
				return true
			}
		}
		return false
	})
}

// NoteCommitted tells the service the keys of a committed write, from this
// process at commit and from every instance through the change listener:
// cached tokens they revoke are dropped.
func (s *Service) NoteCommitted(keys []string) { s.tokens.note(keys) }

// ListenerUp turns the token cache on: from now on every revocation reaches
// NoteCommitted. Until it is called, every bearer check reads the database.
func (s *Service) ListenerUp() { s.tokens.setLive(true) }

// ListenerDown turns the token cache off and empties it: revocations may go
// unheard.
func (s *Service) ListenerDown() { s.tokens.setLive(false) }
