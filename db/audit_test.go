package db

import (
	"context"
	"slices"
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

	bob := fixtureUser(t, d, acc, "bob@example.com")
	k2 := fixtureKey(t, d, acc, bob, "DMS") // event 8: bob's create
	all, err := d.AuditEvents(ctx, acc.ID, AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 8 {
		t.Fatalf("all events: %d; want 8", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].ID <= all[i].ID {
			t.Fatalf("events not newest first: id %d before %d", all[i-1].ID, all[i].ID)
		}
	}
	bobsCreate := all[0].ID
	all = all[1:] // the six reveals and the first create, newest first
	if last := all[len(all)-1]; last.Action != AuditCreate || last.KeyName != "Website" || last.KeyID != k.ID {
		t.Errorf("oldest event = %+v, want the create", last)
	}
	if first := all[0]; first.Action != AuditReveal || first.UserEmail != u.Email || first.RemoteAddr != "192.0.2.7" ||
		!first.CreatedAt.Equal(fixtureNow.Add(6*time.Minute)) || first.AccountID != acc.ID || first.UserID != u.ID {
		t.Errorf("newest event = %+v", first)
	}

	tests := []struct {
		name string
		f    AuditFilter
		want []int64 // ids
	}{
		{"first page of 3", AuditFilter{KeyID: k.ID, Limit: 3}, ids(all[0:3])},
		{"after a cursor", AuditFilter{KeyID: k.ID, BeforeID: all[2].ID, Limit: 3}, ids(all[3:6])},
		{"last page", AuditFilter{KeyID: k.ID, BeforeID: all[5].ID, Limit: 3}, ids(all[6:])},
		{"by the other key", AuditFilter{KeyID: k2.ID, Limit: 10}, []int64{bobsCreate}},
		{"by person", AuditFilter{UserID: bob.ID, Limit: 10}, []int64{bobsCreate}},
		{"by action", AuditFilter{Action: AuditCreate, UserID: u.ID, Limit: 10}, ids(all[6:])},
		{"from a time", AuditFilter{From: fixtureNow.Add(5 * time.Minute), KeyID: k.ID, Limit: 10}, ids(all[0:2])},
		{"until a time", AuditFilter{To: fixtureNow.Add(2 * time.Minute), KeyID: k.ID, Limit: 10}, ids(all[5:])},
		{"another account's key", AuditFilter{KeyID: k.ID + 100, Limit: 10}, nil},
	}
	for _, tt := range tests {
		got, err := d.AuditEvents(ctx, acc.ID, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		if g := ids(got); !slices.Equal(g, tt.want) {
			t.Errorf("%s: ids %v, want %v", tt.name, g, tt.want)
		}
	}

	theirs, err := d.AuditEvents(ctx, other.ID, AuditFilter{Limit: 100})
	if err != nil || len(theirs) != 1 || theirs[0].KeyName != "Elsewhere" {
		t.Errorf("other account's log = %+v, %v; want only its own create", theirs, err)
	}
	if none, _ := d.AuditEvents(ctx, other.ID, AuditFilter{KeyID: k.ID, Limit: 100}); len(none) != 0 {
		t.Errorf("acme's key in the other account's log: %+v", none)
	}
}

func ids(es []AuditEvent) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}
