package web

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"time"

	"keydesk/db"
)

// Sign-in limits. An address may fail 20 times in 15 minutes; one email from
// one address 5 times, the attempt after the second failure and each later one waiting 1, 2, 4 … s;
// one email from everywhere together 100 times, so an attacker elsewhere
// cannot lock the real user out of their usual address with a few tries.
var (
	signInPerAddr      = db.ThrottleBucket{Limit: 20, Window: 15 * time.Minute, FreeFailures: 20}
	signInPerEmailAddr = db.ThrottleBucket{Limit: 5, Window: 15 * time.Minute, FreeFailures: 2}
	signInPerEmail     = db.ThrottleBucket{Limit: 100, Window: 15 * time.Minute, FreeFailures: 100}
)

// ThrottleStore keeps sign-in attempts where every instance sees them.
type ThrottleStore interface {
	ReserveSignIn(ctx context.Context, buckets []db.ThrottleBucket, now time.Time) (bool, time.Duration, error)
	SignInFailed(ctx context.Context, buckets []db.ThrottleBucket, now time.Time) error
	ReleaseSignIn(ctx context.Context, buckets, forget []db.ThrottleBucket) error
}

// ErrSignInThrottled is returned when an attempt may not be made now; the
// error carries how long to wait.
type ErrSignInThrottled struct{ Wait time.Duration }

func (e *ErrSignInThrottled) Error() string { return "web: sign-in throttled" }

// SignInGuard decides whether a sign-in attempt may check a password. It
// reserves the attempt atomically before the slow password check, and lets
// only a few password checks run at once so a sign-in storm cannot take
// the CPU from the API.
type SignInGuard struct {
	store ThrottleStore
	now   Clock
	gate  chan struct{}
	queue time.Duration // how long an attempt waits for a free password check
}

// NewSignInGuard returns a guard over store allowing concurrent password
// checks on half the CPUs (at least one).
func NewSignInGuard(store ThrottleStore, now Clock) *SignInGuard {
	return &SignInGuard{store: store, now: now, gate: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)), queue: 2 * time.Second}
}

// SignInAttempt is a reserved attempt, holding a password-check slot; it
// must end with Failed or Succeeded.
type SignInAttempt struct {
	g       *SignInGuard
	buckets []db.ThrottleBucket
}

// Begin reserves an attempt to sign in as email from addr. It answers
// *ErrSignInThrottled when a limit is spent or no password check frees up
// in time.
func (g *SignInGuard) Begin(ctx context.Context, email, addr string) (*SignInAttempt, error) {
	email = strings.ToLower(email)
	buckets := []db.ThrottleBucket{signInPerAddr, signInPerEmailAddr, signInPerEmail}
	buckets[0].Key = "addr:" + addr
	buckets[1].Key = "email-addr:" + email + " from " + addr
	buckets[2].Key = "email:" + email
	ok, wait, err := g.store.ReserveSignIn(ctx, buckets, g.now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &ErrSignInThrottled{Wait: max(wait, time.Second)}
	}
	timer := time.NewTimer(g.queue)
	defer timer.Stop()
	select {
	case g.gate <- struct{}{}:
		return &SignInAttempt{g: g, buckets: buckets}, nil
	case <-timer.C:
	case <-ctx.Done():
	}
	// Never checked, so never failed: the attempt is given back.
	if err := g.store.ReleaseSignIn(context.WithoutCancel(ctx), buckets, nil); err != nil {
		return nil, err
	}
	return nil, &ErrSignInThrottled{Wait: time.Second}
}

// Checked frees the password-check slot once the password has been checked.
func (a *SignInAttempt) Checked() { <-a.g.gate }

// Failed records the attempt as failed.
func (a *SignInAttempt) Failed(ctx context.Context) error {
	return a.g.store.SignInFailed(ctx, a.buckets, a.g.now())
}

// Succeeded gives the attempt back and clears the email's failures from
// this address.
func (a *SignInAttempt) Succeeded(ctx context.Context) error {
	return a.g.store.ReleaseSignIn(ctx, []db.ThrottleBucket{a.buckets[0], a.buckets[2]}, a.buckets[1:2])
}

// IsThrottled reports whether err is a throttled sign-in, and the wait.
func IsThrottled(err error) (time.Duration, bool) {
	var t *ErrSignInThrottled
	if errors.As(err, &t) {
		return t.Wait, true
	}
	return 0, false
}
