package auth

import (
	"testing"
	"time"
)

func TestLimiter_SlidingWindow(t *testing.T) {
	l := newLimiter(2, time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.fail("k", t0)
	if w := l.wait("k", t0); w != 0 {
		t.Fatalf("one failure of two allowed: wait %s", w)
	}
	l.fail("k", t0.Add(10*time.Second))
	if w := l.wait("k", t0.Add(20*time.Second)); w != 40*time.Second {
		t.Errorf("wait = %s, want 40s (until the first failure leaves the window)", w)
	}
	if w := l.wait("k", t0.Add(time.Minute)); w != 0 {
		t.Errorf("after the first failure expired: wait %s", w)
	}
	if w := l.wait("other", t0.Add(20*time.Second)); w != 0 {
		t.Errorf("another key waits %s", w)
	}
	if w := l.wait("", t0); w != 0 {
		t.Errorf("an empty key is never limited, got %s", w)
	}
}

func TestLimiter_SweepForgetsExpiredKeys(t *testing.T) {
	l := newLimiter(5, time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, k := range []string{"a", "b", "c"} {
		l.fail(k, t0)
	}
	l.fail("d", t0.Add(2*time.Minute))
	if len(l.failures) != 1 {
		t.Errorf("keys kept after the sweep: %d, want 1", len(l.failures))
	}
}
