package db

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"keydesk/keys"
)

func fixtureCaptureSession(acc Account, k APIKey, mode keys.Mode, n int) CaptureSession {
	id := fmt.Sprintf("cs_%s_%03d", mode, n)
	return CaptureSession{
		PublicID: id, AccountID: acc.ID, KeyID: k.ID, Mode: mode,
		CustomerName: "Ann Lee", CustomerEmail: "ann@example.com", CustomerPhone: "+1 555 010 2030",
		VIN: "1HGCM82633A004352", Year: 2024, Make: "Honda", Model: "Accord", StockNumber: "A123",
		Settings: CaptureSettings{Theme: "pro", PIIMask: true, RedirectURL: "https://dealer.example/thanks",
			SkipOdometer: true, IncludeAnnouncements: true, WearAndTear: true},
		CaptureURL: "https://keys.example/capture/" + id, CaptureSMS: "Hi Ann Lee: https://keys.example/capture/" + id,
		CreatedAt: fixtureNow.Add(time.Duration(n) * time.Second), ExpiresAt: fixtureNow.Add(time.Duration(n)*time.Second + 6*time.Hour),
	}
}

func TestCaptureSessionRoundTrip(t *testing.T) { forEachBackend(t, testCaptureSessionRoundTrip) }

func testCaptureSessionRoundTrip(t *testing.T, dsn string) {
	d := fixtureOpen(t, dsn)
	ctx := context.Background()
	acc := fixtureAccount(t, d, "acme")
	k := fixtureKey(t, d, acc, fixtureUser(t, d, acc, "admin@acme.test"), "Capture app")
	in := fixtureCaptureSession(acc, k, keys.Live, 1)
	in.CreatedAt = in.CreatedAt.Add(300 * time.Millisecond) // stored to the second
	created, replayed, err := d.CreateCaptureSession(ctx, in)
	if err != nil || replayed || created.ID == 0 {
		t.Fatalf("create: %+v replayed=%v err=%v", created, replayed, err)
	}
	got, err := d.CaptureSessionByPublicID(ctx, acc.ID, keys.Live, in.PublicID)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.ID, want.KeyName, want.CreatedAt = created.ID, "Capture app", in.CreatedAt.Truncate(time.Second)
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if !got.CreatedAt.Equal(created.CreatedAt) {
		t.Errorf("create answered created_at %v, stored %v", created.CreatedAt, got.CreatedAt)
	}
}

func TestCaptureSessionExpired(t *testing.T) {
	s := CaptureSession{ExpiresAt: fixtureNow}
	tests := []struct {
		at   time.Time
		want bool
	}{
		{fixtureNow.Add(-time.Second), false},
		{fixtureNow, true},
		{fixtureNow.Add(time.Hour), true},
	}
	for _, tt := range tests {
		if got := s.Expired(tt.at); got != tt.want {
			t.Errorf("Expired(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestCaptureSessionsAreScopedToAccountAndMode(t *testing.T) {
	forEachBackend(t, testCaptureSessionsAreScopedToAccountAndMode)
}

func testCaptureSessionsAreScopedToAccountAndMode(t *testing.T, dsn string) {
	d := fixtureOpen(t, dsn)
	ctx := context.Background()
	acme, other := fixtureAccount(t, d, "acme"), fixtureAccount(t, d, "other")
	acmeKey := fixtureKey(t, d, acme, fixtureUser(t, d, acme, "admin@acme.test"), "Acme")
	otherKey := fixtureKey(t, d, other, fixtureUser(t, d, other, "admin@other.test"), "Other")
	create := func(s CaptureSession) {
		t.Helper()
		if _, _, err := d.CreateCaptureSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for n := 1; n <= 3; n++ {
		create(fixtureCaptureSession(acme, acmeKey, keys.Live, n))
	}
	create(fixtureCaptureSession(acme, acmeKey, keys.Test, 4))
	foreign := fixtureCaptureSession(other, otherKey, keys.Live, 5)
	foreign.PublicID = "cs_other"
	create(foreign)

	lookups := []struct {
		name      string
		accountID int64
		mode      keys.Mode
		publicID  string
		found     bool
	}{
		{"own live", acme.ID, keys.Live, "cs_live_001", true},
		{"own test", acme.ID, keys.Test, "cs_test_004", true},
		{"live id in test mode", acme.ID, keys.Test, "cs_live_001", false},
		{"test id in live mode", acme.ID, keys.Live, "cs_test_004", false},
		{"another account's", acme.ID, keys.Live, "cs_other", false},
		{"missing", acme.ID, keys.Live, "cs_nothing", false},
	}
	for _, tt := range lookups {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.CaptureSessionByPublicID(ctx, tt.accountID, tt.mode, tt.publicID)
			if tt.found && err != nil || !tt.found && !errors.Is(err, ErrNotFound) {
				t.Fatalf("err %v, found want %v", err, tt.found)
			}
		})
	}

	pages := []struct {
		name string
		f    CaptureSessionFilter
		want []string
	}{
		{"live, newest first", CaptureSessionFilter{Mode: keys.Live, Limit: 10}, []string{"cs_live_003", "cs_live_002", "cs_live_001"}},
		{"test only", CaptureSessionFilter{Mode: keys.Test, Limit: 10}, []string{"cs_test_004"}},
		{"both modes", CaptureSessionFilter{Limit: 10}, []string{"cs_test_004", "cs_live_003", "cs_live_002", "cs_live_001"}},
		{"limit", CaptureSessionFilter{Mode: keys.Live, Limit: 2}, []string{"cs_live_003", "cs_live_002"}},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.CaptureSessions(ctx, acme.ID, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if ids := publicIDs(got); fmt.Sprint(ids) != fmt.Sprint(tt.want) {
				t.Fatalf("ids %v, want %v", ids, tt.want)
			}
		})
	}
	first, _ := d.CaptureSessions(ctx, acme.ID, CaptureSessionFilter{Mode: keys.Live, Limit: 2})
	rest, err := d.CaptureSessions(ctx, acme.ID, CaptureSessionFilter{Mode: keys.Live, BeforeID: first[1].ID, Limit: 2})
	if err != nil || fmt.Sprint(publicIDs(rest)) != "[cs_live_001]" {
		t.Fatalf("page after %d: %v %v", first[1].ID, publicIDs(rest), err)
	}
}

func publicIDs(ss []CaptureSession) []string {
	var ids []string
	for _, s := range ss {
		ids = append(ids, s.PublicID)
	}
	return ids
}

func TestCaptureSessionIdempotency(t *testing.T) { forEachBackend(t, testCaptureSessionIdempotency) }

func testCaptureSessionIdempotency(t *testing.T, dsn string) {
	d := fixtureOpen(t, dsn)
	ctx := context.Background()
	acc := fixtureAccount(t, d, "acme")
	admin := fixtureUser(t, d, acc, "admin@acme.test")
	k, k2 := fixtureKey(t, d, acc, admin, "One"), fixtureKey(t, d, acc, admin, "Two")
	s := fixtureCaptureSession(acc, k, keys.Live, 1)
	s.IdempotencyKey, s.RequestHash = "visit-1", []byte("hash-a")
	first, replayed, err := d.CreateCaptureSession(ctx, s)
	if err != nil || replayed {
		t.Fatalf("first: replayed=%v err=%v", replayed, err)
	}

	retry := fixtureCaptureSession(acc, k, keys.Live, 2) // a new id and time, as a retried request gets
	retry.IdempotencyKey, retry.RequestHash = "visit-1", []byte("hash-a")
	got, replayed, err := d.CreateCaptureSession(ctx, retry)
	if err != nil || !replayed || got.PublicID != first.PublicID || !got.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("retry: %s %v replayed=%v err=%v; want the first session %s", got.PublicID, got.CreatedAt, replayed, err, first.PublicID)
	}

	retry.RequestHash = []byte("hash-b")
	if _, _, err := d.CreateCaptureSession(ctx, retry); !errors.Is(err, ErrIdempotencyMismatch) {
		t.Fatalf("different request: err %v, want ErrIdempotencyMismatch", err)
	}

	byOtherKey := fixtureCaptureSession(acc, k2, keys.Live, 3)
	byOtherKey.IdempotencyKey, byOtherKey.RequestHash = "visit-1", []byte("hash-b")
	if _, replayed, err := d.CreateCaptureSession(ctx, byOtherKey); err != nil || replayed {
		t.Fatalf("other key: replayed=%v err=%v", replayed, err)
	}
	all, _ := d.CaptureSessions(ctx, acc.ID, CaptureSessionFilter{Limit: 10})
	if fmt.Sprint(publicIDs(all)) != "[cs_live_003 cs_live_001]" {
		t.Fatalf("stored %v", publicIDs(all))
	}
}
