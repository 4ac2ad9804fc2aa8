package live

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/keys"
)

// countingStore is a real store that counts the calls made to it.
type countingStore struct {
	*db.DB
	calls atomic.Int64
}

func (c *countingStore) APIKeyByID(ctx context.Context, id int64) (db.APIKey, error) {
	c.calls.Add(1)
	return c.DB.APIKeyByID(ctx, id)
}

func (c *countingStore) Account(ctx context.Context, id int64) (db.Account, error) {
	c.calls.Add(1)
	return c.DB.Account(ctx, id)
}

func (c *countingStore) ChangesSince(ctx context.Context, seq int64, limit int) ([]db.Change, error) {
	c.calls.Add(1)
	return c.DB.ChangesSince(ctx, seq, limit)
}

type fixture struct {
	store  *db.DB
	sealer *keys.Sealer
	now    time.Time
	acc    db.Account
	admin  db.Actor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "keydesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sealer, err := keys.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	acc, err := store.CreateAccount(ctx, db.Account{Slug: "acme", Name: "Acme", Licenses: db.AllLicenses, CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	u, err := store.CreateUser(ctx, db.User{AccountID: acc.ID, Email: "a@acme.test", PasswordHash: "!", Role: db.RoleAdmin, CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: store, sealer: sealer, now: now, acc: acc, admin: db.Actor{UserID: u.ID, Email: u.Email}}
}

func (f *fixture) key(t *testing.T, name string) (db.APIKey, string) {
	t.Helper()
	public, secret := keys.NewAPIKey(keys.Live), keys.NewSecret(keys.Live)
	k, err := f.store.CreateAPIKey(context.Background(), db.APIKey{AccountID: f.acc.ID, Name: name, Type: db.Integration,
		Licenses: []string{db.LicenseLeads}, Mode: keys.Live, PublicKey: public, SecretSealed: f.sealer.Seal(secret, public),
		SecretLast4: keys.Last4(secret), Settings: keys.Settings{Theme: "lite", SessionExpiry: time.Hour}, CreatedAt: f.now}, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	return k, secret
}

func (f *fixture) state(t *testing.T, store Store, id string) *State {
	t.Helper()
	s, err := New(context.Background(), store, Options{Sealer: f.sealer, Clock: func() time.Time { return f.now }, InstanceID: id, Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCredentialChecksTouchNoDatabase(t *testing.T) {
	f := newFixture(t)
	k, secret := f.key(t, "Website")
	store := &countingStore{DB: f.store}
	s := f.state(t, store, "one")
	live, _ := s.Client(k.PublicKey, secret, "127.0.0.1")
	if live == nil {
		t.Fatal("the right secret was refused")
	}
	token, _ := s.MintToken(live, 3, time.Hour)
	forged := keys.NewTokenMinter([]byte("another deployment's master key!")).Mint(&keys.AccessToken{KeyID: k.ID, ExpiresAt: f.now.Add(time.Hour)})
	store.calls.Store(0)
	checks := []struct {
		name string
		ok   bool
	}{
		{"unknown key", must(s.Client(keys.NewAPIKey(keys.Live), secret, "127.0.0.1")) == nil},
		{"wrong secret", must(s.Client(k.PublicKey, keys.NewSecret(keys.Live), "127.0.0.1")) == nil},
		{"right secret", must(s.Client(k.PublicKey, secret, "127.0.0.1")) != nil},
		{"forged token", first(s.Token(forged, "127.0.0.1")) == nil},
		{"live token", first(s.Token(token, "127.0.0.1")) != nil},
		{"unknown signer", must(s.Signed(keys.NewAPIKey(keys.Live), "127.0.0.1", func(*keys.Verifier, string) bool { return true })) == nil},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: wrong answer", c.name)
		}
	}
	if n := store.calls.Load(); n != 0 {
		t.Errorf("%d database calls for credential checks, want none", n)
	}
}

func must(k *Key, err error) *Key {
	if err != nil {
		panic(err)
	}
	return k
}

func first(k *Key, _ keys.AccessToken, _ error) *Key { return k }

func TestChangesReachEveryInstanceBeforeTheyReturn(t *testing.T) {
	f := newFixture(t)
	k, secret := f.key(t, "Website")
	a, b := f.state(t, f.store, "a"), f.state(t, f.store, "b")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx) // b follows the log on its own, as another process would
	f.store.OnChange = a.Propagate

	token, _ := a.MintToken(must(a.Client(k.PublicKey, secret, "127.0.0.1")), 3, time.Hour)
	if first(b.Token(token, "127.0.0.1")) == nil {
		t.Fatal("a token minted by one instance is refused by another")
	}
	steps := []struct {
		name      string
		change    func() error
		tokenLive bool
		keyLive   bool
	}{
		{"end all tokens", func() error {
			_, err := f.store.EndKeyTokens(ctx, f.acc.ID, k.ID, f.admin, f.now)
			return err
		}, false, true},
		{"revoke", func() error {
			_, err := f.store.RevokeAPIKey(ctx, f.acc.ID, k.ID, f.admin, f.now)
			return err
		}, false, false},
	}
	for _, st := range steps {
		if err := st.change(); err != nil {
			t.Fatal(err)
		}
		// No waiting here: the change has returned, so b must already know.
		for name, s := range map[string]*State{"a": a, "b": b} {
			if got := first(s.Token(token, "127.0.0.1")) != nil; got != st.tokenLive {
				t.Errorf("after %s, instance %s: token live %v, want %v", st.name, name, got, st.tokenLive)
			}
			if got := must(s.Client(k.PublicKey, secret, "127.0.0.1")) != nil; got != st.keyLive {
				t.Errorf("after %s, instance %s: key live %v, want %v", st.name, name, got, st.keyLive)
			}
		}
	}
}

func TestASilentInstanceIsWaitedForOnlyUntilItStopsServing(t *testing.T) {
	f := newFixture(t)
	k, _ := f.key(t, "Website")
	a := f.state(t, f.store, "a")
	dead := f.state(t, f.store, "dead") // registered, then never reads the log again: killed
	f.store.OnChange = a.Propagate
	began := time.Now()
	if _, err := f.store.RevokeAPIKey(context.Background(), f.acc.ID, k.ID, f.admin, f.now); err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	if took < MaxLag || took > propagateFor {
		t.Errorf("revoke returned after %v, want between %v (the dead instance's heartbeat going stale) and %v", took, MaxLag, propagateFor)
	}
	if dead.InSync() {
		t.Error("the silent instance still says it is in sync")
	}
}
