package live

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"keydesk/keys"
)

func TestLimitsAreSharedBetweenInstancesWithoutDatabaseCalls(t *testing.T) {
	f := newFixture(t)
	k, secret := f.key(t, "Website")
	k.Settings.RateLimit, k.Settings.IPMode, k.Settings.IPAllow = 5, keys.IPReport, "192.0.2.0/24"
	if err := f.store.UpdateAPIKeySettings(context.Background(), k, f.admin, f.now, ""); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reported []netip.Addr
	report := func(_ int64, a netip.Addr, _ time.Time) { mu.Lock(); reported = append(reported, a); mu.Unlock() }
	store := &countingStore{DB: f.store}
	open := func(id string) *State {
		s, err := New(context.Background(), store, Options{Sealer: f.sealer, Clock: func() time.Time { return f.now },
			InstanceID: id, Report: report, Shared: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := open("a")
	b := open("b")
	if err := a.Sync(context.Background()); err != nil { // a counts b at its next heartbeat
		t.Fatal(err)
	}
	if a.Instances() != 2 {
		t.Fatalf("a counts %d instances, want 2", a.Instances())
	}
	store.calls.Store(0)
	// Each of the two instances allows its share, 5/2 rounded up.
	allowed := 0
	for range 5 {
		_, err := a.Client(k.PublicKey, secret, "198.51.100.1")
		var r *Refusal
		switch {
		case err == nil:
			allowed++
		case errors.As(err, &r) && r.Code == "rate_limited":
		default:
			t.Fatal(err)
		}
	}
	if allowed != 3 {
		t.Errorf("instance a allowed %d of 5 calls, want 3", allowed)
	}
	if n := store.calls.Load(); n != 0 {
		t.Errorf("%d database calls, want none", n)
	}
	// Report only lets the outside address through and hands every call on; an allowed address is not reported.
	if got := must(b.Client(k.PublicKey, secret, "192.0.2.9")); got == nil {
		t.Fatal("b refused an allowed address")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 5 || reported[0] != netip.MustParseAddr("198.51.100.1") {
		t.Errorf("reported %v, want 198.51.100.1 for each of a's 5 calls, over the limit or not", reported)
	}
}
