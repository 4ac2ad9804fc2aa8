package handlers

import (
	"time"

	"keydesk/web"
)

// clientFailures throttles failed client authentication at the token and
// revocation endpoints, per address and per API key. Only failures count:
// a busy integration behind one address is never slowed by its successes.
type clientFailures struct {
	byAddr, byKey *web.Limiter
}

func newClientFailures(now web.Clock) *clientFailures {
	return &clientFailures{
		byAddr: web.NewLimiter(30, time.Minute, now),
		byKey:  web.NewLimiter(60, time.Minute, now),
	}
}

// blocked reports whether addr or key failed too often, and for how long still.
func (f *clientFailures) blocked(addr, key string) (time.Duration, bool) {
	if b, wait := f.byAddr.Blocked(addr); b {
		return wait, true
	}
	if b, wait := f.byKey.Blocked(key); b {
		return wait, true
	}
	return 0, false
}

// failed records a failed client authentication from addr with key.
func (f *clientFailures) failed(addr, key string) {
	f.byAddr.Fail(addr)
	f.byKey.Fail(key)
}
