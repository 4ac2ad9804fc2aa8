// Package live is the one place that answers "is this credential valid right
// now?". It holds every usable key (by public key and by id) with its account
// and, once opened, its secret; the token epochs; and the access tokens
// revoked on their own. It changes only by applying the store's change log,
// in order, so every instance following the same log agrees; an instance that
// falls behind the log says so and stops vouching for credentials.
package live

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"keydesk/db"
	"keydesk/keys"
)

// Store is what the live state reads from the database.
type Store interface {
	LiveAPIKeys(ctx context.Context) ([]db.APIKey, error)
	APIKeyByID(ctx context.Context, id int64) (db.APIKey, error)
	Account(ctx context.Context, id int64) (db.Account, error)
	ChangesSince(ctx context.Context, seq int64, limit int) ([]db.Change, error)
	LastChange(ctx context.Context) (int64, error)
	RevokedTokens(ctx context.Context, now time.Time) ([]db.RevokedToken, error)
	Heartbeat(ctx context.Context, in db.Instance) error
	LaggingInstances(ctx context.Context, seq int64, aliveSince time.Time) (int, error)
	LeaveInstances(ctx context.Context, id string) error
	LiveInstances(ctx context.Context, aliveSince time.Time) (int, error)
}

// Timing of the change-log feed.
const (
	// PollEvery is how often the change log is read when no notification came.
	PollEvery = 500 * time.Millisecond
	// MaxLag is how long an instance may go without reading the log before it
	// stops serving API calls: a revoke it has not seen could be on its way.
	MaxLag = 2 * time.Second
	// staleAfter is when other instances stop waiting for a silent one: a
	// margin past MaxLag, by which time it has stopped serving on its own.
	staleAfter = MaxLag + 500*time.Millisecond
	// propagateFor bounds how long a change waits for every instance.
	propagateFor = 5 * time.Second
)

// ErrBehind is returned while this instance is not in step with the change log.
var ErrBehind = errors.New("live: this instance is behind the change log")

// Key is a usable key as the API sees it. It is shared: do not change it.
type Key struct {
	db.APIKey
	Account *db.Account

	guard  *guard
	open   sync.Once
	secret string
	verify *keys.Verifier
	err    error
}

// Secret returns the key's opened secret and a signature verifier for it,
// opening the sealed secret on first use only.
func (k *Key) Secret(sealer *keys.Sealer) (string, *keys.Verifier, error) {
	k.open.Do(func() {
		k.secret, k.err = sealer.Open(k.SecretSealed, k.PublicKey)
		if k.err != nil {
			k.err = fmt.Errorf("live: open secret of key %d: %w", k.ID, k.err)
			return
		}
		k.verify = keys.NewVerifier(k.secret)
	})
	return k.secret, k.verify, k.err
}

// Options configure a State.
type Options struct {
	Sealer *keys.Sealer
	Clock  func() time.Time // the clock tokens expire by
	Logger *slog.Logger
	// InstanceID and Addr name this instance in the instances table.
	InstanceID, Addr string
	// Shared says other instances follow the same change log (PostgreSQL):
	// this one then announces what it has applied, may serve only while
	// that announcement succeeds, and waits for the others after a change.
	// On SQLite there is one instance, and a busy writer (the request log,
	// a burst of leads) must not stop it from serving.
	Shared bool
	// FirstUse records, through the change log, that a key which replaced a
	// retiring one was used for the first time (it starts the countdown).
	// It is called once per key and instance, off the request's path.
	FirstUse func(ctx context.Context, successor int64, at time.Time) error
	// Report records a call from outside a Report-only key's allowlist. It
	// must not block: it is called on the request's path.
	Report func(keyID int64, addr netip.Addr, at time.Time)
}

// Refusal is why a key whose credentials are right is refused right now.
type Refusal struct {
	Code    string // key_paused, key_expired, ip_not_allowed, rate_limited, lead_quota_exceeded
	Message string
	// Status is the HTTP status: 0 for the usual 401.
	Status int
	// RetryAfter (seconds), Policy and Limit are set for a limit's refusal.
	RetryAfter    int64
	Policy, Limit string
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Message }

// State is the live authentication state of one instance.
type State struct {
	store  Store
	sealer *keys.Sealer
	minter *keys.TokenMinter
	now    func() time.Time
	log    *slog.Logger
	self   db.Instance
	shared bool

	firstUse func(ctx context.Context, successor int64, at time.Time) error
	report   func(keyID int64, addr netip.Addr, at time.Time)
	// instances is how many live instances share each key's limits.
	instances atomic.Int32
	// successors are the keys that replaced a retiring key whose countdown
	// has not started, each with whether its first use was reported.
	successors  map[int64]bool
	nSuccessors atomic.Int32

	mu       sync.RWMutex
	byPublic map[string]*Key
	byID     map[int64]*Key
	accounts map[int64]*db.Account
	revoked  map[keys.TokenID]time.Time // token id → when it would have expired
	applied  int64

	syncMu   sync.Mutex    // one reader of the change log at a time
	start    time.Time     // for monotonic ages
	syncedAt atomic.Int64  // nanoseconds after start when the last good read of the log began
	wake     chan struct{} // a notification: read the log now
	dummy    *keys.Verifier
}

// New loads the live state from store.
func New(ctx context.Context, store Store, o Options) (*State, error) {
	s := &State{
		store: store, sealer: o.Sealer, now: o.Clock, log: o.Logger, firstUse: o.FirstUse, report: o.Report, successors: map[int64]bool{},
		minter: keys.NewTokenMinter(o.Sealer.Derive("access-token-mac")),
		self:   db.Instance{ID: o.InstanceID, Addr: o.Addr, StartedAt: time.Now()}, shared: o.Shared,
		start: time.Now(), wake: make(chan struct{}, 1),
		dummy: keys.NewVerifier("kds_live_timing-equaliser-for-unknown-keys"),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	began := time.Since(s.start)
	// The log position first: anything that changes after it is applied again, harmlessly.
	seq, err := store.LastChange(ctx)
	if err != nil {
		return nil, err
	}
	all, err := store.LiveAPIKeys(ctx)
	if err != nil {
		return nil, err
	}
	revoked, err := store.RevokedTokens(ctx, s.now())
	if err != nil {
		return nil, err
	}
	s.byPublic, s.byID = make(map[string]*Key, len(all)), make(map[int64]*Key, len(all))
	s.accounts, s.revoked = map[int64]*db.Account{}, make(map[keys.TokenID]time.Time, len(revoked))
	for _, k := range all {
		acc, err := s.account(ctx, k.AccountID)
		if err != nil {
			return nil, err
		}
		s.put(&Key{APIKey: k, Account: acc})
	}
	for _, t := range revoked {
		s.revoked[keys.TokenID(t.ID)] = t.ExpiresAt
	}
	s.applied = seq
	if err := s.heartbeat(ctx); err != nil {
		return nil, err
	}
	s.syncedAt.Store(int64(began))
	return s, nil
}

func (s *State) account(ctx context.Context, id int64) (*db.Account, error) {
	s.mu.RLock()
	a := s.accounts[id]
	s.mu.RUnlock()
	if a != nil {
		return a, nil
	}
	acc, err := s.store.Account(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("live: account %d: %w", id, err)
	}
	s.mu.Lock()
	s.accounts[id] = &acc
	s.mu.Unlock()
	return &acc, nil
}

func (s *State) put(k *Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var was *guard
	if old := s.byID[k.ID]; old != nil {
		delete(s.byPublic, old.PublicKey)
		was = old.guard
	}
	k.guard = newGuard(k, was)
	s.byID[k.ID], s.byPublic[k.PublicKey] = k, k
	if next := k.Retire.ReplacedBy; next != 0 {
		if k.Retire.At.IsZero() {
			if _, ok := s.successors[next]; !ok {
				s.successors[next] = false
			}
		} else {
			delete(s.successors, next)
		}
		s.nSuccessors.Store(int32(len(s.successors)))
	}
}

func (s *State) drop(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.byID[id]; old != nil {
		delete(s.byPublic, old.PublicKey)
		delete(s.byID, id)
		if next := old.Retire.ReplacedBy; next != 0 {
			delete(s.successors, next)
			s.nSuccessors.Store(int32(len(s.successors)))
		}
	}
}

// check says whether a key whose credentials are right may be used at now:
// nil to refuse it as unknown (a retired key: its time is up), a Refusal
// for a paused or expired key, a call from outside its allowlist (Enforce)
// or over its rate limit, or the key. A use of a key that replaced a
// retiring one starts that one's countdown. addr is the caller's address.
func (s *State) check(k *Key, addr string, now time.Time) (*Key, error) {
	switch {
	case k.Retiring() && !now.Before(k.RetiresAt()):
		return nil, nil
	case k.Paused():
		return nil, &Refusal{Code: "key_paused", Message: "This API key is paused by its admin; it works again once they resume it."}
	case k.Expired(now):
		return nil, &Refusal{Code: "key_expired", Message: "This API key expired on " +
			k.Settings.ExpiresAt.UTC().Format("2006-01-02 at 15:04 MST") + "; ask your admin for a new key."}
	}
	if err := s.guardCall(k, addr, now); err != nil {
		return nil, err
	}
	if s.nSuccessors.Load() > 0 {
		s.firstUsed(k.ID, now)
	}
	return k, nil
}

// firstUsed reports the first use of a key that replaced a retiring one.
func (s *State) firstUsed(id int64, at time.Time) {
	s.mu.Lock()
	reported, ok := s.successors[id]
	if ok && !reported {
		s.successors[id] = true
	}
	s.mu.Unlock()
	if !ok || reported || s.firstUse == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.firstUse(ctx, id, at); err != nil {
			s.log.Warn("live: recording a key's first use failed", "key", id, "err", err)
			s.mu.Lock()
			if _, ok := s.successors[id]; ok {
				s.successors[id] = false // try again at the next use
			}
			s.mu.Unlock()
		}
	}()
}

// Sunset is when a key stops working, for the Sunset header (RFC 8594):
// its retiring deadline, or its expiry when that is within keys.ExpiringSoon.
// Zero when neither applies.
func (s *State) Sunset(k *db.APIKey) time.Time {
	if k.Retiring() {
		return k.RetiresAt()
	}
	if e := k.Settings.ExpiresAt; !e.IsZero() && e.Sub(s.now()) <= keys.ExpiringSoon {
		return e
	}
	return time.Time{}
}

// InSync reports whether this instance has read the change log recently
// enough to vouch for credentials.
func (s *State) InSync() bool {
	return time.Since(s.start)-time.Duration(s.syncedAt.Load()) < MaxLag
}

// Lag is how long ago this instance last read the change log.
func (s *State) Lag() time.Duration {
	return time.Since(s.start) - time.Duration(s.syncedAt.Load())
}

// Wake asks the feed to read the change log now (a notification arrived).
func (s *State) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run follows the change log until ctx ends, every PollEvery and whenever
// woken; on the way out it leaves the instances table.
func (s *State) Run(ctx context.Context) {
	t := time.NewTicker(PollEvery)
	defer t.Stop()
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for {
		select {
		case <-sweep.C:
			s.SweepTokens()
			continue
		case <-ctx.Done():
			leave, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			s.store.LeaveInstances(leave, s.self.ID)
			cancel()
			return
		case <-t.C:
		case <-s.wake:
		}
		if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("live: reading the change log failed", "err", err, "lag", s.Lag().Round(time.Millisecond))
		}
	}
}

// Sync reads the change log past what this instance has applied, applies
// it in order, and records the position in the instances table.
func (s *State) Sync(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	began := time.Since(s.start)
	for {
		changes, err := s.store.ChangesSince(ctx, s.applied, 500)
		if err != nil {
			return err
		}
		for _, c := range changes {
			if err := s.apply(ctx, c); err != nil {
				return err
			}
			s.applied = c.Seq
		}
		if len(changes) < 500 {
			break
		}
	}
	if err := s.heartbeat(ctx); err != nil {
		return err
	}
	s.syncedAt.Store(int64(began))
	return nil
}

func (s *State) heartbeat(ctx context.Context) error {
	if !s.shared {
		return nil
	}
	in := s.self
	in.AppliedSeq, in.Heartbeat = s.applied, time.Now()
	if err := s.store.Heartbeat(ctx, in); err != nil {
		return err
	}
	return s.countInstances(ctx)
}

func (s *State) apply(ctx context.Context, c db.Change) error {
	switch c.Kind {
	case db.ChangeKey:
		k, err := s.store.APIKeyByID(ctx, c.KeyID)
		if errors.Is(err, db.ErrNotFound) || err == nil && k.Revoked() {
			s.drop(c.KeyID)
			return nil
		}
		if err != nil {
			return err
		}
		acc, err := s.account(ctx, k.AccountID)
		if err != nil {
			return err
		}
		s.put(&Key{APIKey: k, Account: acc})
	case db.ChangeToken:
		s.mu.Lock()
		s.revoked[keys.TokenID(c.TokenID)] = c.Until
		s.mu.Unlock()
	}
	return nil
}

// Propagate makes a committed change count everywhere before it returns:
// this instance applies it, then it waits (bounded) until every instance
// that is alive has applied it too. An instance that never does goes
// silent and, past MaxLag, stops serving on its own.
func (s *State) Propagate(ctx context.Context, seq int64) error {
	if err := s.Sync(ctx); err != nil {
		return fmt.Errorf("live: apply change %d: %w", seq, err)
	}
	if !s.shared {
		return nil
	}
	deadline := time.Now().Add(propagateFor)
	for wait := 200 * time.Microsecond; ; wait = min(2*wait, 5*time.Millisecond) {
		n, err := s.store.LaggingInstances(ctx, seq, time.Now().Add(-staleAfter))
		if err != nil {
			return fmt.Errorf("live: wait for instances: %w", err)
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			s.log.Warn("live: instances did not apply a change in time; they stop serving once they lag", "seq", seq, "instances", n)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// SweepTokens forgets revoked tokens that have expired anyway.
func (s *State) SweepTokens() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, until := range s.revoked {
		if now.After(until) {
			delete(s.revoked, id)
		}
	}
}

// Client returns the key whose public key and secret these are. An unknown
// key costs the same comparison as a known one with a wrong secret.
func (s *State) Client(public, secret, addr string) (*Key, error) {
	s.mu.RLock()
	k := s.byPublic[public]
	s.mu.RUnlock()
	want := "kds_live_timing-equaliser-for-unknown-keys"
	if k != nil {
		var err error
		if want, _, err = k.Secret(s.sealer); err != nil {
			return nil, err
		}
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 || k == nil {
		return nil, nil
	}
	return s.check(k, addr, s.now())
}

// Signed returns the key that signed a request, or nil when the signature
// does not verify. check is given the key's verifier and account slug; an
// unknown key is checked against a dummy verifier so it costs the same.
func (s *State) Signed(public, addr string, check func(v *keys.Verifier, slug string) bool) (*Key, error) {
	s.mu.RLock()
	k := s.byPublic[public]
	s.mu.RUnlock()
	if k == nil {
		check(s.dummy, "")
		return nil, nil
	}
	_, v, err := k.Secret(s.sealer)
	if err != nil {
		return nil, err
	}
	if !check(v, k.Account.Slug) {
		return nil, nil
	}
	return s.check(k, addr, s.now())
}

// MintToken returns a new access token of k with scope bits, living for
// lifetime but never past the key's expiry or retirement.
func (s *State) MintToken(k *Key, scope uint8, lifetime time.Duration) (string, keys.AccessToken) {
	expires := s.now().Add(lifetime)
	if e := k.Settings.ExpiresAt; !e.IsZero() && e.Before(expires) {
		expires = e
	}
	if k.Retiring() && k.RetiresAt().Before(expires) {
		expires = k.RetiresAt()
	}
	t := keys.AccessToken{KeyID: k.ID, Epoch: k.TokenEpoch, ExpiresAt: expires, Scope: scope}
	token := s.minter.Mint(&t)
	return token, t
}

// Token returns the key of a live access token and what the token says; nil
// when the token is forged, expired, of an unusable key, of an older token
// epoch, or revoked; a Refusal when its key is paused or has expired. It
// touches no database.
func (s *State) Token(token, addr string) (*Key, keys.AccessToken, error) {
	t, err := s.minter.Parse(token)
	now := s.now()
	if err != nil || !now.Before(t.ExpiresAt) {
		return nil, keys.AccessToken{}, nil
	}
	s.mu.RLock()
	k := s.byID[t.KeyID]
	_, revoked := s.revoked[t.ID]
	s.mu.RUnlock()
	if k == nil || revoked {
		return nil, keys.AccessToken{}, nil
	}
	if k.Paused() { // its tokens ended with the pause; say why
		_, err := s.check(k, addr, now)
		return nil, keys.AccessToken{}, err
	}
	if k.TokenEpoch != t.Epoch {
		return nil, keys.AccessToken{}, nil
	}
	k, err = s.check(k, addr, now)
	return k, t, err
}

// ParseToken checks a token's tag only, for revoking one that may have expired.
func (s *State) ParseToken(token string) (keys.AccessToken, bool) {
	t, err := s.minter.Parse(token)
	return t, err == nil
}

// Named returns the usable key with this public key, or nil. It checks no
// credential: it says which key a request named, for the request log.
func (s *State) Named(public string) *Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byPublic[public]
}

// ByID returns the usable key with this id, or nil; like Named, it checks no credential.
func (s *State) ByID(id int64) *Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byID[id]
}
