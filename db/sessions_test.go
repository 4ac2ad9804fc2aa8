package db

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func TestSessionLifecycle(t *testing.T) { forEachBackend(t, testSessionLifecycle) }

func testSessionLifecycle(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	u := fixtureUser(t, d, acc, "ann@example.com")

	if err := d.CreateSession(ctx, "session-id-1", u.ID, fixtureNow); err != nil {
		t.Fatal(err)
	}
	s, err := d.Session(ctx, "session-id-1")
	if err != nil {
		t.Fatal(err)
	}
	if s.UserID != u.ID || !s.CreatedAt.Equal(fixtureNow) || !s.LastSeenAt.Equal(fixtureNow) {
		t.Errorf("Session = %+v", s)
	}
	var stored []byte
	if err := d.write.QueryRowContext(ctx, `SELECT id_hash FROM sessions`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, []byte("session-id-1")) || !bytes.Equal(stored, sessionHash("session-id-1")) {
		t.Errorf("sessions table holds %x, want only the id's SHA-256", stored)
	}
	if _, err := d.Session(ctx, "session-id-2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Session(unknown) error = %v, want ErrNotFound", err)
	}

	seen := fixtureNow.Add(10 * time.Minute)
	if err := d.TouchSession(ctx, "session-id-1", seen); err != nil {
		t.Fatal(err)
	}
	if s, _ := d.Session(ctx, "session-id-1"); !s.LastSeenAt.Equal(seen) || !s.CreatedAt.Equal(fixtureNow) {
		t.Errorf("after touch: %+v", s)
	}

	if err := d.DeleteSession(ctx, "session-id-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Session(ctx, "session-id-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Session after delete: error = %v, want ErrNotFound", err)
	}
}

func TestDeleteIdleSessions(t *testing.T) { forEachBackend(t, testDeleteIdleSessions) }

func testDeleteIdleSessions(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	u := fixtureUser(t, d, acc, "ann@example.com")
	cutoff := fixtureNow
	sessions := []struct {
		id       string
		lastSeen time.Time
		kept     bool
	}{
		{"long-idle", cutoff.Add(-time.Hour), false},
		{"just-idle", cutoff.Add(-time.Second), false},
		{"at-cutoff", cutoff, true},
		{"active", cutoff.Add(time.Minute), true},
	}
	for _, s := range sessions {
		if err := d.CreateSession(ctx, s.id, u.ID, s.lastSeen); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.DeleteIdleSessions(ctx, cutoff); err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		_, err := d.Session(ctx, s.id)
		if kept := err == nil; kept != s.kept {
			t.Errorf("session %s: kept = %v (err %v), want %v", s.id, kept, err, s.kept)
		}
	}
}

func TestSetUserDisabledEndsOnlyTheirSessions(t *testing.T) {
	forEachBackend(t, testSetUserDisabledEndsOnlyTheirSessions)
}

func testSetUserDisabledEndsOnlyTheirSessions(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	ann := fixtureUser(t, d, acc, "ann@example.com")
	bob := fixtureUser(t, d, acc, "bob@example.com")
	for _, s := range []struct {
		id   string
		user int64
	}{{"ann-1", ann.ID}, {"ann-2", ann.ID}, {"bob-1", bob.ID}} {
		if err := d.CreateSession(ctx, s.id, s.user, fixtureNow); err != nil {
			t.Fatal(err)
		}
	}

	if err := d.SetUserDisabled(ctx, ann.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ann-1", "ann-2"} {
		if _, err := d.Session(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("session %s of the disabled user: error = %v, want ErrNotFound", id, err)
		}
	}
	if _, err := d.Session(ctx, "bob-1"); err != nil {
		t.Errorf("another user's session was ended: %v", err)
	}
	if u, _ := d.User(ctx, ann.ID); !u.Disabled {
		t.Error("user not marked disabled")
	}

	if err := d.SetUserDisabled(ctx, ann.ID, false); err != nil {
		t.Fatal(err)
	}
	if u, _ := d.User(ctx, ann.ID); u.Disabled {
		t.Error("user still disabled after re-enabling")
	}
	if err := d.SetUserDisabled(ctx, bob.ID+100, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetUserDisabled(unknown) error = %v, want ErrNotFound", err)
	}
}
