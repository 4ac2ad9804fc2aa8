package handlers

import (
	"time"

	"keydesk/web"
)

// clientFailures throttles failed client authentication at the token and
// revocation endpoints, per address and per API key.
type clientFailures struct {
	byAddr, byKey *web.Limiter
}

func newClientFailures(now web.Clock) *clientFailures {
	return &clientFailures{
		byAddr: web.NewLimiter(30, time.Minute, now),
		byKey:  web.NewLimiter(60, time.Minute, now),
	}
}

// clientAttempt is a counted attempt; Succeeded gives it back.
type clientAttempt struct {
	f         *clientFailures
	addr, key string
}

// Begin counts an attempt from addr with key, or says how long to wait.
func (f *clientFailures) Begin(addr, key string) (*clientAttempt, time.Duration) {
	ok, wait := f.byAddr.Take(addr)
	if !ok {
		return nil, wait
	}
	if ok, wait := f.byKey.Take(key); !ok {
		f.byAddr.Give(addr)
		return nil, wait
	}
	return &clientAttempt{f: f, addr: addr, key: key}, 0
}

// Succeeded gives the attempt back: only failures count.
func (a *clientAttempt) Succeeded() {
	a.f.byAddr.Give(a.addr)
	a.f.byKey.Give(a.key)
}
