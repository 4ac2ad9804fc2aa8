package web

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	c := newFakeClock()
	l := NewLimiter(3, time.Minute, c.now)
	type step struct {
		advance time.Duration
		key     string
		fail    bool // record a failure after the check
		blocked bool
		wait    time.Duration
	}
	steps := []step{
		{0, "a", true, false, 0}, {0, "a", true, false, 0},
		{0, "a", false, false, 0}, // a success costs nothing
		{0, "a", true, false, 0}, {10 * time.Second, "a", false, true, 50 * time.Second},
		{0, "b", false, false, 0}, // keys are apart
		{50 * time.Second, "a", false, false, 0},
	}
	for i, s := range steps {
		c.advance(s.advance)
		blocked, wait := l.Blocked(s.key)
		if blocked != s.blocked || wait != s.wait {
			t.Fatalf("step %d: Blocked = %v, %v; want %v, %v", i, blocked, wait, s.blocked, s.wait)
		}
		if s.fail {
			l.Fail(s.key)
		}
	}
}
