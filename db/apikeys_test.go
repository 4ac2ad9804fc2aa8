package db

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"keydesk/keys"
)

func TestCreateAPIKeyRoundTrip(t *testing.T) { forEachBackend(t, testCreateAPIKeyRoundTrip) }

func testCreateAPIKeyRoundTrip(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	u := fixtureUser(t, d, acc, "ann@example.com")
	want := APIKey{AccountID: acc.ID, Name: "Website", Type: DigitalRequests,
		Licenses: []string{LicenseLeads, LicenseCapture}, Mode: keys.Test,
		PublicKey: keys.NewAPIKey(keys.Test), SecretSealed: []byte{1, 2, 3}, SecretLast4: "wxyz",
		Settings: keys.Settings{Theme: "pro", PIIMask: true, RedirectURL: "https://example.com/done",
			SkipInterior: true, SkipOdometer: false, IncludeDisclosures: true, IncludeAnnouncements: false,
			CaptureSMS: "Hi {customer}", ResultsSMS: "Done {link}", WearAndTear: true, SessionExpiry: 7 * 24 * time.Hour},
		CreatedAt: fixtureNow, CreatedBy: u.ID}
	created, err := d.CreateAPIKey(ctx, want, Actor{UserID: u.ID, Email: u.Email})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == 0 {
		t.Fatal("CreateAPIKey returned no id")
	}
	want.ID, want.CreatedByEmail = created.ID, u.Email

	got, err := d.APIKey(ctx, acc.ID, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("APIKey =\n%+v\nwant\n%+v", got, want)
	}
	byPublic, err := d.APIKeyByPublic(ctx, want.PublicKey)
	if err != nil || !reflect.DeepEqual(byPublic, want) {
		t.Errorf("APIKeyByPublic = %+v, %v", byPublic, err)
	}
	if _, err := d.APIKeyByPublic(ctx, keys.NewAPIKey(keys.Live)); !errors.Is(err, ErrNotFound) {
		t.Errorf("APIKeyByPublic(unknown) error = %v, want ErrNotFound", err)
	}
}

func TestAPIKeysListsOneAccountAndType(t *testing.T) {
	forEachBackend(t, testAPIKeysListsOneAccountAndType)
}

func testAPIKeysListsOneAccountAndType(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	a, b := fixtureAccount(t, d, "a"), fixtureAccount(t, d, "b")
	ua, ub := fixtureUser(t, d, a, "a@example.com"), fixtureUser(t, d, b, "b@example.com")
	first := fixtureKey(t, d, a, ua, "first")
	second := fixtureKey(t, d, a, ua, "second")
	third := fixtureKey(t, d, a, ua, "third")
	fixtureKey(t, d, b, ub, "other account")
	dr := fixtureKeyValue(a, ua, "digital requests")
	dr.Type = DigitalRequests
	if _, err := d.CreateAPIKey(ctx, dr, Actor{UserID: ua.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RevokeAPIKey(ctx, a.ID, third.ID, Actor{UserID: ua.ID}, fixtureNow); err != nil {
		t.Fatal(err)
	}

	got, err := d.APIKeys(ctx, a.ID, Integration)
	if err != nil {
		t.Fatal(err)
	}
	// Live keys newest first, then revoked ones.
	wantIDs := []int64{second.ID, first.ID, third.ID}
	var gotIDs []int64
	for _, k := range got {
		gotIDs = append(gotIDs, k.ID)
	}
	if !reflect.DeepEqual(gotIDs, wantIDs) {
		t.Errorf("APIKeys ids = %v, want %v", gotIDs, wantIDs)
	}
}

func TestAPIKeyMethodsRefuseAnotherAccount(t *testing.T) {
	forEachBackend(t, testAPIKeyMethodsRefuseAnotherAccount)
}

func testAPIKeyMethodsRefuseAnotherAccount(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	owner, other := fixtureAccount(t, d, "owner"), fixtureAccount(t, d, "other")
	u := fixtureUser(t, d, owner, "owner@example.com")
	intruder := fixtureUser(t, d, other, "intruder@example.com")
	k := fixtureKey(t, d, owner, u, "Website")
	by := Actor{UserID: intruder.ID, Email: intruder.Email}

	tests := []struct {
		name string
		call func() error
	}{
		{"APIKey", func() error {
			_, err := d.APIKey(ctx, other.ID, k.ID)
			return err
		}},
		{"UpdateAPIKeySettings", func() error {
			changed := k
			changed.AccountID = other.ID
			changed.Name = "hijacked"
			changed.Licenses = []string{LicenseCapture}
			return d.UpdateAPIKeySettings(ctx, changed, by, fixtureNow, "name")
		}},
		{"RevokeAPIKey", func() error {
			_, err := d.RevokeAPIKey(ctx, other.ID, k.ID, by, fixtureNow)
			return err
		}},
		{"RevokeAPIKey unknown id", func() error {
			_, err := d.RevokeAPIKey(ctx, owner.ID, k.ID+100, by, fixtureNow)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ErrNotFound) {
				t.Fatalf("error = %v, want ErrNotFound", err)
			}
			got, err := d.APIKey(ctx, owner.ID, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != "Website" || got.Revoked() || !reflect.DeepEqual(got.Licenses, []string{LicenseLeads}) {
				t.Errorf("key changed by another account: %+v", got)
			}
			pub, err := d.APIKeyByPublic(ctx, k.PublicKey)
			if err != nil || pub.Revoked() || pub.Name != "Website" {
				t.Errorf("APIKeyByPublic after refused change = %+v, %v", pub, err)
			}
		})
	}

	list, err := d.APIKeys(ctx, other.ID, Integration)
	if err != nil || len(list) != 0 {
		t.Errorf("APIKeys(other) = %+v, %v; want none", list, err)
	}
	for _, acc := range []Account{owner, other} {
		events, err := d.AuditEvents(ctx, acc.ID, AuditFilter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Action != AuditCreate {
				t.Errorf("account %s has audit event %q from a refused change", acc.Slug, e.Action)
			}
		}
	}
}

func TestAPIKeyNamesAreUniqueWhileActive(t *testing.T) {
	forEachBackend(t, testAPIKeyNamesAreUniqueWhileActive)
}

func testAPIKeyNamesAreUniqueWhileActive(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	a, b := fixtureAccount(t, d, "a"), fixtureAccount(t, d, "b")
	ua, ub := fixtureUser(t, d, a, "a@example.com"), fixtureUser(t, d, b, "b@example.com")
	website := fixtureKey(t, d, a, ua, "Website")
	crm := fixtureKey(t, d, a, ua, "CRM")

	for _, name := range []string{"Website", "WEBSITE"} {
		if _, err := d.CreateAPIKey(ctx, fixtureKeyValue(a, ua, name), Actor{UserID: ua.ID}); !errors.Is(err, ErrDuplicate) {
			t.Errorf("second active key named %q: error = %v, want ErrDuplicate", name, err)
		}
	}
	if _, err := d.CreateAPIKey(ctx, fixtureKeyValue(b, ub, "Website"), Actor{UserID: ub.ID}); err != nil {
		t.Errorf("the same name in another account: %v", err)
	}
	renamed := crm
	renamed.Name = "website"
	if err := d.UpdateAPIKeySettings(ctx, renamed, Actor{UserID: ua.ID}, fixtureNow, "name"); !errors.Is(err, ErrDuplicate) {
		t.Errorf("rename onto an active name: error = %v, want ErrDuplicate", err)
	}
	if got, _ := d.APIKey(ctx, a.ID, crm.ID); got.Name != "CRM" {
		t.Errorf("refused rename changed the name to %q", got.Name)
	}

	if _, err := d.RevokeAPIKey(ctx, a.ID, website.ID, Actor{UserID: ua.ID}, fixtureNow); err != nil {
		t.Fatal(err)
	}
	reused, err := d.CreateAPIKey(ctx, fixtureKeyValue(a, ua, "Website"), Actor{UserID: ua.ID})
	if err != nil {
		t.Fatalf("reusing a revoked key's name: %v", err)
	}
	if reused.ID == website.ID {
		t.Error("reuse returned the revoked key")
	}
}

func TestUpdateAPIKeySettings(t *testing.T) { forEachBackend(t, testUpdateAPIKeySettings) }

func testUpdateAPIKeySettings(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	u := fixtureUser(t, d, acc, "ann@example.com")
	k := fixtureKey(t, d, acc, u, "Website")
	changed := k
	changed.Name = "Storefront"
	changed.Licenses = []string{LicenseLeads, LicenseCapture}
	changed.Settings = keys.Settings{Theme: "pro", PIIMask: true, RedirectURL: "https://example.com/x",
		CaptureSMS: "{dealer}", SessionExpiry: time.Hour}
	// Type, mode and secret must never change through an update.
	changed.Type, changed.Mode, changed.SecretLast4 = DigitalRequests, keys.Test, "zzzz"
	if err := d.UpdateAPIKeySettings(ctx, changed, Actor{UserID: u.ID, Email: u.Email}, fixtureNow.Add(time.Minute), "name, theme"); err != nil {
		t.Fatal(err)
	}
	got, err := d.APIKey(ctx, acc.ID, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Storefront" || !reflect.DeepEqual(got.Licenses, changed.Licenses) || !reflect.DeepEqual(got.Settings, changed.Settings) {
		t.Errorf("after update = %+v", got)
	}
	if got.Type != Integration || got.Mode != keys.Live || got.SecretLast4 != "abcd" {
		t.Errorf("update changed type/mode/secret: %s %s %s", got.Type, got.Mode, got.SecretLast4)
	}
	pub, err := d.APIKeyByPublic(ctx, k.PublicKey)
	if err != nil || pub.Name != "Storefront" || len(pub.Licenses) != 2 {
		t.Errorf("APIKeyByPublic after update = %+v, %v", pub, err)
	}
	events, _ := d.AuditEvents(ctx, acc.ID, AuditFilter{Limit: 10})
	if len(events) == 0 || events[0].Action != AuditEdit || events[0].KeyName != "Storefront" || events[0].UserEmail != u.Email ||
		events[0].Detail != "name, theme" || !events[0].CreatedAt.Equal(fixtureNow.Add(time.Minute)) {
		t.Errorf("newest audit event = %+v, want an edit of Storefront by %s with its detail", events, u.Email)
	}

	if _, err := d.RevokeAPIKey(ctx, acc.ID, k.ID, Actor{UserID: u.ID}, fixtureNow); err != nil {
		t.Fatal(err)
	}
	changed.Name = "After revoke"
	if err := d.UpdateAPIKeySettings(ctx, changed, Actor{UserID: u.ID}, fixtureNow, "name"); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a revoked key: error = %v, want ErrNotFound", err)
	}
}

func TestRevokeAPIKeyIsLoggedAsAChange(t *testing.T) {
	forEachBackend(t, testRevokeAPIKeyIsLoggedAsAChange)
}

func testRevokeAPIKeyIsLoggedAsAChange(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	u := fixtureUser(t, d, acc, "ann@example.com")
	k := fixtureKey(t, d, acc, u, "Website")

	cached, err := d.APIKeyByPublic(ctx, k.PublicKey)
	if err != nil || cached.Revoked() {
		t.Fatalf("before revoke: %+v, %v", cached, err)
	}
	revokedAt := fixtureNow.Add(time.Hour)
	got, err := d.RevokeAPIKey(ctx, acc.ID, k.ID, Actor{UserID: u.ID, Email: u.Email}, revokedAt)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Revoked() || !got.RevokedAt.Equal(revokedAt) || got.RevokedBy != u.ID || got.RevokedByEmail != u.Email {
		t.Errorf("RevokeAPIKey returned %+v", got)
	}

	again, err := d.APIKeyByPublic(ctx, k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Revoked() {
		t.Error("APIKeyByPublic returns the key unrevoked")
	}
	changes, err := d.ChangesSince(ctx, 0, 100)
	if err != nil || len(changes) != 2 || changes[1].Kind != ChangeKey || changes[1].KeyID != k.ID || changes[1].AccountID != acc.ID {
		t.Errorf("change log after create and revoke = %+v, %v; want the key's creation then its revoke", changes, err)
	}
	stored, err := d.APIKey(ctx, acc.ID, k.ID)
	if err != nil || !stored.RevokedAt.Equal(revokedAt) || stored.RevokedByEmail != u.Email {
		t.Errorf("stored key after revoke = %+v, %v", stored, err)
	}

	// A second revoke changes nothing and writes no second audit entry.
	if _, err := d.RevokeAPIKey(ctx, acc.ID, k.ID, Actor{UserID: u.ID}, revokedAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if s, _ := d.APIKey(ctx, acc.ID, k.ID); !s.RevokedAt.Equal(revokedAt) {
		t.Errorf("second revoke moved revoked_at to %v", s.RevokedAt)
	}
	events, _ := d.AuditEvents(ctx, acc.ID, AuditFilter{Limit: 50})
	revokes := 0
	for _, e := range events {
		if e.Action == AuditRevoke {
			revokes++
		}
	}
	if revokes != 1 {
		t.Errorf("%d revoke audit events, want 1", revokes)
	}
}

func TestLastUsed(t *testing.T) { forEachBackend(t, testLastUsed) }

func testLastUsed(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	u := fixtureUser(t, d, acc, "ann@example.com")
	k := fixtureKey(t, d, acc, u, "Website")
	other := fixtureKey(t, d, acc, u, "Other")

	stored := func(id int64) *int64 {
		t.Helper()
		var v *int64
		if err := d.write.QueryRowContext(ctx, `SELECT last_used_at FROM api_keys WHERE id = ?`, id).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	listed := func(id int64) time.Time {
		t.Helper()
		list, err := d.APIKeys(ctx, acc.ID, Integration)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range list {
			if k.ID == id {
				return k.LastUsedAt
			}
		}
		t.Fatalf("key %d not listed", id)
		return time.Time{}
	}

	used := fixtureNow.Add(5 * time.Minute)
	d.TouchAPIKey(k.ID, used)
	if v := stored(k.ID); v != nil {
		t.Fatalf("last_used_at written before the flush: %d", *v)
	}
	if got := listed(k.ID); !got.Equal(used) {
		t.Errorf("APIKeys before flush: LastUsedAt = %v, want the pending %v", got, used)
	}
	if got, _ := d.APIKey(ctx, acc.ID, k.ID); !got.LastUsedAt.Equal(used) {
		t.Errorf("APIKey before flush: LastUsedAt = %v, want %v", got.LastUsedAt, used)
	}
	if got := listed(other.ID); !got.IsZero() {
		t.Errorf("untouched key has LastUsedAt %v", got)
	}

	if err := d.FlushLastUsed(ctx); err != nil {
		t.Fatal(err)
	}
	if v := stored(k.ID); v == nil || *v != used.Unix() {
		t.Fatalf("last_used_at after flush = %v, want %d", v, used.Unix())
	}
	if got := listed(k.ID); !got.Equal(used) {
		t.Errorf("APIKeys after flush: LastUsedAt = %v, want %v", got, used)
	}

	// An older time never moves last-used backwards.
	d.TouchAPIKey(k.ID, used.Add(-time.Hour))
	if err := d.FlushLastUsed(ctx); err != nil {
		t.Fatal(err)
	}
	if v := stored(k.ID); v == nil || *v != used.Unix() {
		t.Errorf("an older touch moved last_used_at to %v", v)
	}

	// Close flushes what is still pending.
	later := used.Add(time.Hour)
	d.TouchAPIKey(k.ID, later)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	got, err := d2.APIKey(ctx, acc.ID, k.ID)
	if err != nil || !got.LastUsedAt.Equal(later) {
		t.Errorf("after Close and reopen: LastUsedAt = %v, %v; want %v", got.LastUsedAt, err, later)
	}
}

// Requests touch keys from many goroutines while flushes run: no touch is
// lost, none moves a key backwards, and each key ends at its latest use.
func TestLastUsedUnderConcurrentTouchesAndFlushes(t *testing.T) {
	ctx := context.Background()
	d := fixtureOpen(t, t.TempDir()+"/keydesk.db")
	acc := fixtureAccount(t, d, "acme")
	u := fixtureUser(t, d, acc, "ann@example.com")
	var ids []int64
	for i := range 5 {
		ids = append(ids, fixtureKey(t, d, acc, u, fmt.Sprintf("Key %d", i)).ID)
	}
	const touchers, touches = 8, 500
	// Each toucher's times go up and down; a key ends at the latest of all.
	touch := func(g, i int) (int64, time.Time) {
		return ids[(i+g)%len(ids)], fixtureNow.Add(time.Duration((i*7+g*13)%touches) * time.Minute)
	}
	want := map[int64]int64{}
	for g := range touchers {
		for i := range touches {
			id, at := touch(g, i)
			want[id] = max(want[id], at.Unix())
		}
	}
	var wg sync.WaitGroup
	for g := range touchers {
		wg.Go(func() {
			for i := range touches {
				d.TouchAPIKey(touch(g, i))
			}
		})
	}
	flushed := make(chan error)
	go func() {
		var err error
		for range 20 {
			err = errors.Join(err, d.FlushLastUsed(ctx))
		}
		flushed <- err
	}()
	wg.Wait()
	if err := errors.Join(<-flushed, d.FlushLastUsed(ctx)); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		var v int64
		if err := d.write.QueryRowContext(ctx, `SELECT last_used_at FROM api_keys WHERE id = ?`, id).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != want[id] {
			t.Errorf("key %d: last_used_at %d, want %d", id, v, want[id])
		}
	}
}

func TestKeysForHealth(t *testing.T) { forEachBackend(t, testKeysForHealth) }

func testKeysForHealth(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc, other := fixtureAccount(t, d, "health"), fixtureAccount(t, d, "other")
	u := fixtureUser(t, d, acc, "a@health.test")
	now := fixtureNow
	day := 24 * time.Hour
	set := func(k APIKey, column string, at time.Time) {
		t.Helper()
		if _, err := d.write.ExecContext(ctx, `UPDATE api_keys SET `+column+` = ? WHERE id = ?`, at.Unix(), k.ID); err != nil {
			t.Fatal(err)
		}
	}
	allowlisted := func(k APIKey) {
		t.Helper()
		if _, err := d.write.ExecContext(ctx, `UPDATE api_keys SET ip_mode = 'report' WHERE id = ?`, k.ID); err != nil {
			t.Fatal(err)
		}
	}
	allowlisted(fixtureKey(t, d, acc, u, "never used"))
	busy := fixtureKey(t, d, acc, u, "busy")
	set(busy, "last_used_at", now.Add(-time.Hour))
	allowlisted(busy)
	open := fixtureKey(t, d, acc, u, "busy, no allowlist")
	set(open, "last_used_at", now.Add(-time.Hour))
	quiet := fixtureKey(t, d, acc, u, "quiet")
	set(quiet, "last_used_at", now.Add(-40*day))
	allowlisted(quiet)
	old := fixtureKey(t, d, acc, u, "old")
	set(old, "last_used_at", now.Add(-time.Hour))
	set(old, "created_at", now.Add(-400*day))
	allowlisted(old)
	gone := fixtureKey(t, d, acc, u, "revoked")
	set(gone, "revoked_at", now.Add(-day))
	fixtureKey(t, d, other, fixtureUser(t, d, other, "a@other.test"), "elsewhere")

	ks, err := d.KeysForHealth(ctx, acc.ID, now.Add(-30*day), now.Add(-365*day), 10)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range ks {
		names = append(names, k.Name)
	}
	if got, want := strings.Join(names, ", "), "old, quiet, busy, no allowlist, never used"; got != want {
		t.Errorf("keys for health = %s; want %s (newest first, neither the busy allowlisted one, the revoked nor another account's key)", got, want)
	}
	if ks, _ := d.KeysForHealth(ctx, acc.ID, now.Add(-30*day), now.Add(-365*day), 2); len(ks) != 2 {
		t.Errorf("limit 2 gave %d keys", len(ks))
	}
}
