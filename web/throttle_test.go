package web

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"keydesk/db"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func newGuard(t *testing.T) (*SignInGuard, *fakeClock) {
	t.Helper()
	store, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "keydesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clock := newFakeClock()
	return NewSignInGuard(store, clock.now), clock
}

// try makes one attempt and reports whether it was let through to the password check.
func try(t *testing.T, g *SignInGuard, email, addr string, succeed bool) bool {
	t.Helper()
	ctx := context.Background()
	a, err := g.Begin(ctx, email, addr)
	if _, throttled := IsThrottled(err); throttled {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	a.Checked()
	if succeed {
		err = a.Succeeded(ctx)
	} else {
		err = a.Failed(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func TestSignInGuardKeepsTheVictimsAddressOpen(t *testing.T) {
	tests := []struct {
		name          string
		attackerAddrs int // addresses the attacker fails from, 5 tries each, 5 s apart
		wantVictimIn  bool
	}{
		{"one attacking address", 1, true},
		{"a few attacking addresses", 4, true},
		{"enough addresses to reach the email's ceiling", 20, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, clock := newGuard(t)
			for i := range tc.attackerAddrs {
				addr := fmt.Sprintf("203.0.113.%d", i)
				for range 5 {
					clock.advance(5 * time.Second)
					if !try(t, g, "Victim@Dealer.test", addr, false) {
						t.Fatalf("attacker at %s refused before 5 tries", addr)
					}
				}
				if try(t, g, "victim@dealer.test", addr, false) {
					t.Fatalf("attacker at %s allowed a 6th try", addr)
				}
			}
			if got := try(t, g, "victim@dealer.test", "198.51.100.7", true); got != tc.wantVictimIn {
				t.Fatalf("victim from their own address let in = %v, want %v", got, tc.wantVictimIn)
			}
		})
	}
}

func TestSignInGuardBoundsPasswordChecks(t *testing.T) {
	g, _ := newGuard(t)
	g.queue = 20 * time.Millisecond
	held := make([]*SignInAttempt, 0, cap(g.gate))
	for i := range cap(g.gate) {
		a, err := g.Begin(context.Background(), fmt.Sprintf("u%d@x.test", i), "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, a)
	}
	_, err := g.Begin(context.Background(), "late@x.test", "192.0.2.1")
	if wait, throttled := IsThrottled(err); !throttled || wait != time.Second {
		t.Fatalf("with every password check busy: err %v, want throttled for 1s", err)
	}
	held[0].Checked()
	if _, err := g.Begin(context.Background(), "late@x.test", "192.0.2.1"); err != nil {
		t.Fatalf("after a check ended: %v", err)
	}
}
