package db

import (
	"fmt"
	"testing"
	"time"
)

func TestSweepAccessTokensKeepsRingOrder(t *testing.T) {
	forEachBackend(t, testSweepAccessTokensKeepsRingOrder)
}

func testSweepAccessTokensKeepsRingOrder(t *testing.T, dsn string) {
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	by := fixtureUser(t, d, acc, "admin@acme.test")
	k := fixtureKey(t, d, acc, by, "CRM")
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	store := func(i int, lifetime time.Duration) string {
		tok := fmt.Sprintf("token-%d", i)
		ok, err := d.StoreAccessToken(t.Context(), tok, AccessToken{KeyID: k.ID, PublicKey: k.PublicKey, Scope: "read write",
			CreatedAt: start, ExpiresAt: start.Add(lifetime)})
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		return tok
	}
	// Fill the ring with short- and long-lived tokens, then overflow it by one.
	var long []string
	for i := range MaxTokensPerKey {
		if i%2 == 0 {
			store(i, time.Minute)
		} else {
			long = append(long, store(i, time.Hour))
		}
	}
	if err := d.SweepAccessTokens(t.Context(), start.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := d.LiveAccessTokenCount(); n != len(long) {
		t.Fatalf("%d live after sweep, want %d", n, len(long))
	}
	// Refill: the oldest surviving token must be the first to go.
	for i := range MaxTokensPerKey - len(long) + 1 {
		store(1000+i, time.Hour)
	}
	if _, ok := d.LiveAccessToken(long[0], start); ok {
		t.Error("the oldest token survived the ring overflowing")
	}
	if _, ok := d.LiveAccessToken(long[1], start); !ok {
		t.Error("the second oldest token was dropped")
	}

	// After a restart the table gives back the live tokens, not the swept ones.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if _, ok := again.LiveAccessToken(long[1], start); !ok {
		t.Error("token lost in restart")
	}
	if _, ok := again.LiveAccessToken("token-0", start); ok {
		t.Error("swept token back after restart")
	}
	if _, err := again.RevokeAPIKey(t.Context(), acc.ID, k.ID, Actor{UserID: by.ID}, start); err != nil {
		t.Fatal(err)
	}
	if n := again.LiveAccessTokenCount(); n != 0 {
		t.Errorf("%d tokens of a revoked key", n)
	}
	var rows int
	again.read.QueryRowContext(t.Context(), `SELECT count(*) FROM access_tokens WHERE key_id = ?`, k.ID).Scan(&rows)
	if rows != 0 {
		t.Errorf("%d rows of a revoked key's tokens", rows)
	}
}
