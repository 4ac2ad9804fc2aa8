package web

import (
	"sync"
	"time"
)

// Limiter allows at most limit attempts per key in a fixed window, counted
// when an attempt begins (so a burst cannot outrun it) and given back when
// the attempt succeeds: what it ends up counting is failures. It lives in
// one process; with several instances each counts on its own.
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

// NewLimiter allows limit attempts per key per window.
func NewLimiter(limit int, window time.Duration, now Clock) *Limiter {
	return &Limiter{limit: limit, window: window, now: now, buckets: map[string]*limitBucket{}}
}

// Take counts an attempt under key, or says how long until one is allowed.
func (l *Limiter) Take(key string) (bool, time.Duration) {
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
	if b.n >= l.limit {
		return false, b.start.Add(l.window).Sub(now)
	}
	b.n++
	return true, 0
}

// Give hands back an attempt that succeeded.
func (l *Limiter) Give(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[key]; b != nil && b.n > 0 {
		b.n--
	}
}

func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if !now.Before(b.start.Add(l.window)) {
			delete(l.buckets, k)
		}
	}
}
