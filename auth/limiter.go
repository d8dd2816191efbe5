package auth

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// RateLimitedError is a 429 that tells the client when to try again.
type RateLimitedError struct {
	Err   *domain.Error
	After time.Duration
}

func (e *RateLimitedError) Error() string { return e.Err.Error() }

// Unwrap lets domain.AsError find the code.
func (e *RateLimitedError) Unwrap() error { return e.Err }

// RetryAfter is read by the HTTP error handler to set the Retry-After header.
func (e *RateLimitedError) RetryAfter() time.Duration { return e.After }

func rateLimited(after time.Duration) error {
	return &RateLimitedError{After: after,
		Err: domain.Errorf(domain.CodeRateLimited, "too many failed logins; retry in %s", fmt.Sprint(after.Round(time.Second)))}
}

// limiter counts failures per key in a sliding window. It lives in memory: a
// restart forgets the counts, which only gives an attacker one fresh window.
type limiter struct {
	mu        sync.Mutex
	max       int
	window    time.Duration
	failures  map[string][]time.Time // ascending
	lastSweep time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, failures: map[string][]time.Time{}}
}

// wait returns how long key must wait before its next attempt, 0 if it may try.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	if key == "" {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.prune(key, now)
	if len(ts) < l.max {
		return 0
	}
	// The attempt is allowed again once enough failures have left the window.
	return ts[len(ts)-l.max].Add(l.window).Sub(now)
}

func (l *limiter) fail(key string, now time.Time) {
	if key == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// The key outlives the request; callers may pass views of reused buffers.
	key = strings.Clone(key)
	l.failures[key] = append(l.prune(key, now), now)
	if now.Sub(l.lastSweep) > l.window {
		l.sweep(now)
	}
}

func (l *limiter) prune(key string, now time.Time) []time.Time {
	ts := l.failures[key]
	i := 0
	for i < len(ts) && !ts[i].Add(l.window).After(now) {
		i++
	}
	if i == len(ts) {
		delete(l.failures, key)
		return nil
	}
	ts = ts[i:]
	l.failures[key] = ts
	return ts
}

// sweep drops keys whose failures have all expired, so guessing many emails or
// rotating addresses cannot grow the map without bound.
func (l *limiter) sweep(now time.Time) {
	for key := range l.failures {
		l.prune(key, now)
	}
	l.lastSweep = now
}
