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
		give    bool // the attempt succeeded
		want    bool
		wait    time.Duration
	}
	steps := []step{
		{0, "a", false, true, 0}, {0, "a", false, true, 0}, {0, "a", true, true, 0}, // the success is given back
		{0, "a", false, true, 0}, {10 * time.Second, "a", false, false, 50 * time.Second},
		{0, "b", false, true, 0}, // keys are apart
		{50 * time.Second, "a", false, true, 0},
	}
	for i, s := range steps {
		c.advance(s.advance)
		ok, wait := l.Take(s.key)
		if ok != s.want || wait != s.wait {
			t.Fatalf("step %d: Take = %v, %v; want %v, %v", i, ok, wait, s.want, s.wait)
		}
		if ok && s.give {
			l.Give(s.key)
		}
	}
}
