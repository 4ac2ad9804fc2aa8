package web

import (
	"sync"
	"time"
)

// Throttle counts failures per key (an address, an email) in a sliding
// window and refuses once there were too many.
type Throttle struct {
	max    int
	window time.Duration
	now    Clock

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewThrottle allows max failures per key within window.
func NewThrottle(max int, window time.Duration, now Clock) *Throttle {
	return &Throttle{max: max, window: window, now: now, failures: map[string][]time.Time{}}
}

// Blocked reports whether key is throttled, and for how long still.
func (t *Throttle) Blocked(key string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	recent := t.prune(key)
	if len(recent) < t.max {
		return false, 0
	}
	// Unblocked once all but max-1 failures have left the window (there can be
	// more than max when concurrent sign-ins all passed Blocked before failing).
	return true, recent[len(recent)-t.max].Add(t.window).Sub(t.now())
}

// Fail records a failure for key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failures[key] = append(t.prune(key), t.now())
	if len(t.failures) > 100_000 {
		t.sweep()
	}
}

// Reset forgets key's failures.
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	delete(t.failures, key)
	t.mu.Unlock()
}

func (t *Throttle) prune(key string) []time.Time {
	cutoff := t.now().Add(-t.window)
	fs := t.failures[key]
	i := 0
	for i < len(fs) && !fs[i].After(cutoff) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.failures, key)
		return nil
	}
	t.failures[key] = fs
	return fs
}

func (t *Throttle) sweep() {
	for key := range t.failures {
		t.prune(key)
	}
}
