package db

import (
	"context"
	"testing"
	"time"
)

func TestAuditEventsPaging(t *testing.T) { forEachBackend(t, testAuditEventsPaging) }

func testAuditEventsPaging(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	other := fixtureAccount(t, d, "other")
	u := fixtureUser(t, d, acc, "ann@example.com")
	ou := fixtureUser(t, d, other, "olga@example.com")
	k := fixtureKey(t, d, acc, u, "Website") // audit event 1: create
	for i := 1; i <= 6; i++ {                // events 2..7: reveals
		if err := d.RecordReveal(ctx, k, Actor{UserID: u.ID, Email: u.Email, RemoteAddr: "192.0.2.7"},
			fixtureNow.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	fixtureKey(t, d, other, ou, "Elsewhere") // must not show in acme's log

	all, more, err := d.AuditEvents(ctx, acc.ID, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 7 || more {
		t.Fatalf("all events: %d, more=%v; want 7, false", len(all), more)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].ID <= all[i].ID {
			t.Fatalf("events not newest first: id %d before %d", all[i-1].ID, all[i].ID)
		}
	}
	if last := all[len(all)-1]; last.Action != AuditCreate || last.KeyName != "Website" || last.KeyID != k.ID {
		t.Errorf("oldest event = %+v, want the create", last)
	}
	if first := all[0]; first.Action != AuditReveal || first.UserEmail != u.Email || first.RemoteAddr != "192.0.2.7" ||
		!first.CreatedAt.Equal(fixtureNow.Add(6*time.Minute)) || first.AccountID != acc.ID || first.UserID != u.ID {
		t.Errorf("newest event = %+v", first)
	}

	tests := []struct {
		page, perPage int
		wantFrom      int // index into all
		wantLen       int
		wantMore      bool
	}{
		{page: 1, perPage: 3, wantFrom: 0, wantLen: 3, wantMore: true},
		{page: 2, perPage: 3, wantFrom: 3, wantLen: 3, wantMore: true},
		{page: 3, perPage: 3, wantFrom: 6, wantLen: 1, wantMore: false},
		{page: 4, perPage: 3, wantLen: 0, wantMore: false},
		{page: 1, perPage: 7, wantFrom: 0, wantLen: 7, wantMore: false},
		{page: 1, perPage: 6, wantFrom: 0, wantLen: 6, wantMore: true},
		{page: 0, perPage: 3, wantFrom: 0, wantLen: 3, wantMore: true},  // page < 1 is page 1
		{page: -2, perPage: 3, wantFrom: 0, wantLen: 3, wantMore: true}, // page < 1 is page 1
	}
	for _, tt := range tests {
		got, more, err := d.AuditEvents(ctx, acc.ID, tt.page, tt.perPage)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.wantLen || more != tt.wantMore {
			t.Errorf("page %d of %d: %d events, more=%v; want %d, %v", tt.page, tt.perPage, len(got), more, tt.wantLen, tt.wantMore)
			continue
		}
		for i, e := range got {
			if e.ID != all[tt.wantFrom+i].ID {
				t.Errorf("page %d of %d: event %d has id %d, want %d", tt.page, tt.perPage, i, e.ID, all[tt.wantFrom+i].ID)
			}
		}
	}

	theirs, _, err := d.AuditEvents(ctx, other.ID, 1, 100)
	if err != nil || len(theirs) != 1 || theirs[0].KeyName != "Elsewhere" {
		t.Errorf("other account's log = %+v, %v; want only its own create", theirs, err)
	}
}
