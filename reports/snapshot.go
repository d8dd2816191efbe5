package reports

import (
	"context"
	"sync"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// Snapshots keeps the organisation-wide inputs of the coverage and orders
// reports (their grouped rows, per territory and rep, before any scope is
// applied) for the periods asked recently, shared by the report services of
// one server (docs/reports.md "Large scopes: snapshots"). The KPI report's
// are kept in a Snapshots of their own (WithKPISnapshots), with a longer
// maximum age.
//
// At the head of sales' scale a director's coverage re-reads 988k account rows
// and ~1M day rows per request (1.2–1.6 s on an idle machine, far more on a
// loaded one); every director, and every page of their drill-down, asks for
// the same rows. A scope of at least MinTerritories territories therefore
// reads them from a snapshot at most MaxAge old: figures exact as
// docs/reports.md defines them, as of a moment at most MaxAge ago. A snapshot
// older than half of MaxAge is answered and reloaded in the background; one
// older than MaxAge is never answered (the request reads afresh). Smaller
// scopes (a regional manager's, every test world) read the tables directly,
// exact at any moment.
type Snapshots struct {
	maxAge         time.Duration
	minTerritories int
	// now is the clock ages are measured on; spawn runs a background reload.
	// Tests replace both to force ages and interleavings without timing.
	now   func() time.Time
	spawn func(func())

	mu      sync.Mutex
	entries map[snapKey]*snapEntry
}

// maxSnapshots bounds the periods kept: each is a few tens of MB at 1M
// accounts; the least recently used goes first.
const maxSnapshots = 8

// NewSnapshots returns snapshots at most maxAge old for scopes of at least
// minTerritories territories. maxAge 0 turns them off (every report reads the
// tables).
func NewSnapshots(maxAge time.Duration, minTerritories int) *Snapshots {
	return &Snapshots{maxAge: maxAge, minTerritories: max(minTerritories, 1), now: time.Now,
		spawn: func(fn func()) { go fn() }, entries: map[snapKey]*snapEntry{}}
}

// WithSnapshots returns the service reading large scopes' coverage and orders
// from snaps (nil: never).
func (s *Service) WithSnapshots(snaps *Snapshots) *Service {
	c := *s
	c.snaps = snaps
	return &c
}

// WithKPISnapshots returns the service reading large scopes' KPI reports
// from snaps (nil: never). They are apart from the coverage and orders
// snapshots because a load costs more and so may be kept longer
// (docs/reports.md "Large scopes: snapshots").
func (s *Service) WithKPISnapshots(snaps *Snapshots) *Service {
	c := *s
	c.kpiSnaps = snaps
	return &c
}

// MaxAge is the oldest a snapshot answered may be.
func (c *Snapshots) MaxAge() time.Duration { return c.maxAge }

// covers reports whether a report over sc reads snapshots.
func (c *Snapshots) covers(sc scope) bool { return c.coversSize(sc.size()) }

// coversSize reports whether a scope of n territories reads snapshots.
func (c *Snapshots) coversSize(n int) bool { return c.enabled() && n >= c.minTerritories }

// enabled reports whether any scope reads snapshots.
func (c *Snapshots) enabled() bool { return c != nil && c.maxAge > 0 }

// size is how many territories sc holds.
func (sc scope) size() int {
	if sc.All {
		return sc.Tree.Len()
	}
	return len(sc.Territories)
}

// wholeOrganisation is the scope a snapshot is read over.
var wholeOrganisation = scope{domain.Visibility{Found: true, All: true}}

// keep is the filter of sc's territories over organisation-wide rows (nil:
// every row).
func (sc scope) keep() func(territoryID string) bool {
	if sc.All {
		return nil
	}
	in := make(map[string]struct{}, len(sc.Territories))
	for _, id := range sc.Territories {
		in[id] = struct{}{}
	}
	return func(id string) bool { _, ok := in[id]; return ok }
}

// snapKey names the snapshot of report over p's period.
func (s *Service) snapKey(report string, p Params) snapKey {
	return snapKey{report: report, from: p.From.Format(time.DateOnly), to: p.To.Format(time.DateOnly),
		zone: s.Location().String()}
}

type snapKey struct {
	report   string // "coverage", "orders" or "kpis"
	period   string // kpis: the month or quarter, whose windows from and to do not name
	from, to string
	zone     string
}

type snapEntry struct {
	load func(context.Context) (any, error)
	// done is closed when the first load ends; val and err are set before.
	done chan struct{}
	val  any
	err  error
	// at is when the load began: the snapshot holds every write committed
	// before it.
	at        time.Time
	used      time.Time
	reloading bool
}

// get returns the snapshot of key, loading it with load when there is none
// younger than maxAge; concurrent requests for a missing one wait for one
// load. A load runs detached from the asking request, whose client may go
// away while others wait for the same rows.
func (c *Snapshots) get(ctx context.Context, key snapKey, load func(context.Context) (any, error)) (any, error) {
	c.mu.Lock()
	now := c.now()
	if e := c.entries[key]; e != nil {
		select {
		case <-e.done:
			if age := now.Sub(e.at); e.err == nil && age < c.maxAge {
				e.used = now
				if age >= c.maxAge/2 && !e.reloading {
					c.reload(key, e)
				}
				v := e.val
				c.mu.Unlock()
				return v, nil
			}
		default:
			c.mu.Unlock()
			select {
			case <-e.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return e.val, e.err
		}
	}
	e := &snapEntry{load: load, done: make(chan struct{}), at: now, used: now}
	c.entries[key] = e
	c.evict()
	c.mu.Unlock()
	e.val, e.err = load(context.WithoutCancel(ctx))
	close(e.done)
	if e.err != nil {
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
		}
		c.mu.Unlock()
	}
	return e.val, e.err
}

// reload replaces e with a fresh load in the background, answering e
// meanwhile; a failed reload keeps e until it is too old. c.mu is held.
func (c *Snapshots) reload(key snapKey, e *snapEntry) {
	e.reloading = true
	start := c.now()
	c.spawn(func() {
		val, err := e.load(context.Background())
		c.mu.Lock()
		defer c.mu.Unlock()
		e.reloading = false
		if err != nil || c.entries[key] != e {
			return
		}
		done := make(chan struct{})
		close(done)
		c.entries[key] = &snapEntry{load: e.load, done: done, val: val, at: start, used: e.used}
	})
}

// Refresh reloads, in the background, the snapshots older than half of
// MaxAge that a request used within keepWarm, so that directors who keep
// looking do not wait for a load. The server calls it every MaxAge/2.
func (c *Snapshots) Refresh(keepWarm time.Duration) {
	if c == nil || c.maxAge <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for key, e := range c.entries {
		select {
		case <-e.done:
		default:
			continue
		}
		if e.err == nil && !e.reloading && now.Sub(e.at) >= c.maxAge/2 && now.Sub(e.used) < keepWarm {
			c.reload(key, e)
		}
	}
}

// evict drops the least recently used entries beyond maxSnapshots. c.mu is
// held.
func (c *Snapshots) evict() {
	for len(c.entries) > maxSnapshots {
		var oldest snapKey
		var at time.Time
		first := true
		for k, e := range c.entries {
			if first || e.used.Before(at) {
				oldest, at, first = k, e.used, false
			}
		}
		delete(c.entries, oldest)
	}
}
