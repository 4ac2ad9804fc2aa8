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
}

// State is the live authentication state of one instance.
type State struct {
	store  Store
	sealer *keys.Sealer
	minter *keys.TokenMinter
	now    func() time.Time
	log    *slog.Logger
	self   db.Instance

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
		store: store, sealer: o.Sealer, now: o.Clock, log: o.Logger,
		minter: keys.NewTokenMinter(o.Sealer.Derive("access-token-mac")),
		self:   db.Instance{ID: o.InstanceID, Addr: o.Addr, StartedAt: time.Now()},
		start:  time.Now(), wake: make(chan struct{}, 1),
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
	if old := s.byID[k.ID]; old != nil {
		delete(s.byPublic, old.PublicKey)
	}
	s.byID[k.ID], s.byPublic[k.PublicKey] = k, k
}

func (s *State) drop(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.byID[id]; old != nil {
		delete(s.byPublic, old.PublicKey)
		delete(s.byID, id)
	}
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
	for {
		select {
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
	in := s.self
	in.AppliedSeq, in.Heartbeat = s.applied, time.Now()
	return s.store.Heartbeat(ctx, in)
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

// KeyCount is how many usable keys this instance holds.
func (s *State) KeyCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byID)
}

// Client returns the key whose public key and secret these are. An unknown
// key costs the same comparison as a known one with a wrong secret.
func (s *State) Client(public, secret string) (*Key, error) {
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
	return k, nil
}

// Signed returns the key that signed a request, or nil when the signature
// does not verify. check is given the key's verifier and account slug; an
// unknown key is checked against a dummy verifier so it costs the same.
func (s *State) Signed(public string, check func(v *keys.Verifier, slug string) bool) (*Key, error) {
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
	return k, nil
}

// MintToken returns a new access token of k with scope bits, living for lifetime.
func (s *State) MintToken(k *Key, scope uint8, lifetime time.Duration) (string, keys.AccessToken) {
	t := keys.AccessToken{KeyID: k.ID, Epoch: k.TokenEpoch, ExpiresAt: s.now().Add(lifetime), Scope: scope}
	token := s.minter.Mint(&t)
	return token, t
}

// Token returns the key of a live access token and what the token says; nil
// when the token is forged, expired, of an unusable key, of an older token
// epoch, or revoked. It touches no database.
func (s *State) Token(token string) (*Key, keys.AccessToken) {
	t, err := s.minter.Parse(token)
	if err != nil || !s.now().Before(t.ExpiresAt) {
		return nil, keys.AccessToken{}
	}
	s.mu.RLock()
	k := s.byID[t.KeyID]
	_, revoked := s.revoked[t.ID]
	s.mu.RUnlock()
	if k == nil || revoked || k.TokenEpoch != t.Epoch {
		return nil, keys.AccessToken{}
	}
	return k, t
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
