package web

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func TestThrottle(t *testing.T) {
	const max, window = 3, 15 * time.Minute
	type step struct {
		advance     time.Duration
		fail        int  // failures recorded after advancing
		reset       bool // Reset after the failures
		wantBlocked bool
		wantWait    time.Duration
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"below max is allowed", []step{
			{fail: max - 1, wantBlocked: false},
		}},
		{"blocked at max for the whole window", []step{
			{fail: max, wantBlocked: true, wantWait: window},
			{advance: 5 * time.Minute, wantBlocked: true, wantWait: 10 * time.Minute},
			{advance: 10*time.Minute - time.Second, wantBlocked: true, wantWait: time.Second},
			{advance: time.Second, wantBlocked: false},
		}},
		{"sliding window: the wait runs from the oldest failure", []step{
			{fail: 1},
			{advance: 4 * time.Minute, fail: 1},
			{advance: 4 * time.Minute, fail: 1, wantBlocked: true, wantWait: 7 * time.Minute},
			{advance: 7 * time.Minute, wantBlocked: false},
			{fail: 1, wantBlocked: true, wantWait: 4 * time.Minute},
		}},
		{"old failures fall out of the window", []step{
			{fail: max - 1},
			{advance: window, fail: 1, wantBlocked: false},
		}},
		{"more failures than max: wait until enough have expired", []step{
			// Concurrent sign-ins can all pass Blocked before any of them fails.
			{fail: 1},
			{advance: time.Minute, fail: 1},
			{advance: time.Minute, fail: 1, wantBlocked: true, wantWait: 13 * time.Minute},
			{advance: time.Minute, fail: 1, wantBlocked: true, wantWait: 13 * time.Minute},
			{advance: time.Minute, fail: 1, wantBlocked: true, wantWait: 13 * time.Minute},
			{advance: 13*time.Minute - time.Second, wantBlocked: true, wantWait: time.Second},
			{advance: time.Second, wantBlocked: false},
		}},
		{"reset forgets the failures", []step{
			{fail: max, reset: true, wantBlocked: false},
			{fail: max - 1, wantBlocked: false},
			{fail: 1, wantBlocked: true, wantWait: window},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			th := NewThrottle(max, window, clock.now)
			for i, s := range tt.steps {
				clock.advance(s.advance)
				for range s.fail {
					th.Fail("ip:192.0.2.1")
				}
				if s.reset {
					th.Reset("ip:192.0.2.1")
				}
				blocked, wait := th.Blocked("ip:192.0.2.1")
				if blocked != s.wantBlocked || wait != s.wantWait {
					t.Fatalf("step %d: Blocked = %v, %v; want %v, %v", i, blocked, wait, s.wantBlocked, s.wantWait)
				}
				if blocked && wait <= 0 {
					t.Fatalf("step %d: blocked with a non-positive wait %v", i, wait)
				}
			}
		})
	}
}

func TestThrottleKeysAreSeparate(t *testing.T) {
	clock := newFakeClock()
	th := NewThrottle(2, time.Minute, clock.now)
	th.Fail("email:a@example.com")
	th.Fail("email:a@example.com")
	if blocked, _ := th.Blocked("email:a@example.com"); !blocked {
		t.Fatal("a@ not blocked after 2 failures")
	}
	if blocked, _ := th.Blocked("email:b@example.com"); blocked {
		t.Error("b@ blocked by a@'s failures")
	}
	th.Reset("email:b@example.com")
	if blocked, _ := th.Blocked("email:a@example.com"); !blocked {
		t.Error("resetting b@ unblocked a@")
	}
}
