package db

import (
	"context"
	"fmt"
	"testing"
	"time"

	"keydesk/keys"
)

func TestAPIKeyListFiltersAndPages(t *testing.T) {
	ctx := context.Background()
	d, _ := fixtureStore(t)
	acc := fixtureAccount(t, d, "acme")
	other := fixtureAccount(t, d, "other")
	u := fixtureUser(t, d, acc, "ann@example.com")
	ou := fixtureUser(t, d, other, "olga@example.com")
	var dms APIKey
	for i := range 12 {
		k := fixtureKeyValue(acc, u, fmt.Sprintf("Form %02d", i))
		if i%3 == 0 {
			k.Mode, k.PublicKey = keys.Test, keys.NewAPIKey(keys.Test)
		}
		created, err := d.CreateAPIKey(ctx, k, Actor{UserID: u.ID})
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			if _, err := d.RevokeAPIKey(ctx, acc.ID, created.ID, Actor{UserID: u.ID}, fixtureNow); err != nil {
				t.Fatal(err)
			}
		}
		if i == 5 {
			dms = created
		}
	}
	digital := fixtureKeyValue(acc, u, "Website 100%_off")
	digital.Type = DigitalRequests
	if _, err := d.CreateAPIKey(ctx, digital, Actor{UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	fixtureKey(t, d, other, ou, "Form 99") // another account's: never listed

	cases := []struct {
		name      string
		f         KeyFilter
		total     int
		wantFirst string
		wantN     int
	}{
		{"active only by default", KeyFilter{Type: Integration, Limit: 50}, 10, "Form 11", 10},
		{"show revoked", KeyFilter{Type: Integration, ShowRevoked: true, Limit: 50}, 12, "Form 11", 12},
		{"revoked status", KeyFilter{Type: Integration, Status: KeyStatusRevoked, Limit: 50}, 2, "Form 01", 2},
		{"test mode", KeyFilter{Type: Integration, Mode: keys.Test, Limit: 50}, 3, "Form 09", 3},
		{"name any case", KeyFilter{Type: Integration, Query: "form 1", Limit: 50}, 2, "Form 11", 2},
		{"API key prefix", KeyFilter{Type: Integration, Query: dms.PublicKey[:14], Limit: 50}, 1, "Form 05", 1},
		{"prefix is case-sensitive", KeyFilter{Type: Integration, Query: "KD_LIVE_" + dms.PublicKey[8:14], Limit: 50}, 0, "", 0},
		{"LIKE wildcards are literal", KeyFilter{Type: DigitalRequests, Query: "100%_", Limit: 50}, 1, "Website 100%_off", 1},
		{"wildcard alone matches nothing", KeyFilter{Type: Integration, Query: "%", Limit: 50}, 0, "", 0},
		{"second page", KeyFilter{Type: Integration, ShowRevoked: true, Limit: 5, Offset: 10}, 12, "Form 01", 2},
		{"revoked come last", KeyFilter{Type: Integration, ShowRevoked: true, Limit: 1, Offset: 10}, 12, "Form 01", 1},
		{"past the end", KeyFilter{Type: Integration, Limit: 5, Offset: 50}, 10, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.APIKeyList(ctx, acc.ID, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != tc.total || len(got.Keys) != tc.wantN {
				t.Fatalf("total %d, %d keys; want %d, %d", got.Total, len(got.Keys), tc.total, tc.wantN)
			}
			if tc.wantN > 0 && got.Keys[0].Name != tc.wantFirst {
				t.Errorf("first = %q, want %q", got.Keys[0].Name, tc.wantFirst)
			}
			for _, k := range got.Keys {
				if k.AccountID != acc.ID {
					t.Errorf("key of account %d listed", k.AccountID)
				}
			}
		})
	}
}

func TestKeyAuditEvents(t *testing.T) {
	ctx := context.Background()
	d, _ := fixtureStore(t)
	acc := fixtureAccount(t, d, "acme")
	other := fixtureAccount(t, d, "other")
	u := fixtureUser(t, d, acc, "ann@example.com")
	k := fixtureKey(t, d, acc, u, "Website")
	fixtureKey(t, d, acc, u, "Another") // its create must not show
	for i := 1; i <= 3; i++ {
		if err := d.RecordReveal(ctx, k, Actor{UserID: u.ID, Email: u.Email}, fixtureNow.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.KeyAuditEvents(ctx, acc.ID, k.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Action != AuditReveal || !got[0].CreatedAt.Equal(fixtureNow.Add(3*time.Minute)) {
		t.Fatalf("events = %+v", got)
	}
	all, _ := d.KeyAuditEvents(ctx, acc.ID, k.ID, 10)
	if len(all) != 4 || all[3].Action != AuditCreate {
		t.Errorf("all events = %+v, want 3 reveals and the create", all)
	}
	if foreign, _ := d.KeyAuditEvents(ctx, other.ID, k.ID, 10); len(foreign) != 0 {
		t.Errorf("another account sees %d events of the key", len(foreign))
	}
}

func TestRevealHandleIsTakenOnce(t *testing.T) {
	ctx := context.Background()
	d, _ := fixtureStore(t)
	acc := fixtureAccount(t, d, "acme")
	u := fixtureUser(t, d, acc, "ann@example.com")
	v := fixtureUser(t, d, acc, "vic@example.com")
	k := fixtureKey(t, d, acc, u, "Website")
	h := RevealHandle{UserID: u.ID, KeyID: k.ID, ExpiresAt: fixtureNow.Add(10 * time.Minute)}
	for _, handle := range []string{"one", "late"} {
		if err := d.CreateRevealHandle(ctx, handle, h, fixtureNow); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		handle string
		user   int64
		at     time.Time
		ok     bool
	}{
		{"another user", "one", v.ID, fixtureNow, false},
		{"its user", "one", u.ID, fixtureNow, true},
		{"a second time", "one", u.ID, fixtureNow, false},
		{"unknown", "none", u.ID, fixtureNow, false},
		{"expired", "late", u.ID, fixtureNow.Add(10 * time.Minute), false},
		{"expired stays gone", "late", u.ID, fixtureNow, false},
	}
	for _, tc := range cases {
		got, err := d.TakeRevealHandle(ctx, tc.handle, tc.user, tc.at)
		if tc.ok && (err != nil || got.KeyID != k.ID) {
			t.Errorf("%s: %+v, %v", tc.name, got, err)
		}
		if !tc.ok && err != ErrNotFound {
			t.Errorf("%s: %v, want ErrNotFound", tc.name, err)
		}
	}
}
