package web

import (
	"sync"
	"time"
)

// Limiter counts failures per key in a fixed window and reports a key as
// blocked once it has failed limit times. Only failures count, so a busy
// client that succeeds is never slowed; attempts already in flight when
// the limit is reached may still fail (at most one per concurrent request).
// It lives in one process: with several instances each counts on its own.
type Limiter struct {
	limit  int
	window time.Duration
	now    Clock

	mu      sync.Mutex
	buckets map[string]*limitBucket
}

type limitBucket struct {
	start time.Time
	n     int
}

// NewLimiter blocks a key for the rest of its window after limit failures.
func NewLimiter(limit int, window time.Duration, now Clock) *Limiter {
	return &Limiter{limit: limit, window: window, now: now, buckets: map[string]*limitBucket{}}
}

// Blocked reports whether key has failed too often, and for how long still.
func (l *Limiter) Blocked(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil || b.n < l.limit { // most calls: no clock read
		return false, 0
	}
	now := l.now()
	if !now.Before(b.start.Add(l.window)) {
		return false, 0
	}
	return true, b.start.Add(l.window).Sub(now)
}

// Fail records a failure under key.
func (l *Limiter) Fail(key string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil || !now.Before(b.start.Add(l.window)) {
		if len(l.buckets) >= 100_000 {
			l.sweep(now)
		}
		b = &limitBucket{start: now}
		l.buckets[key] = b
	}
	b.n++
}

func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if !now.Before(b.start.Add(l.window)) {
			delete(l.buckets, k)
		}
	}
}
