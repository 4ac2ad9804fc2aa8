package db

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"keydesk/keys"
)

func TestQuarantine(t *testing.T) { forEachBackend(t, testQuarantine) }

// testQuarantine parks a quarantined key's leads apart from every list and
// count, releases them as if just received and discards them, per account.
func testQuarantine(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	other := fixtureAccount(t, d, "other")
	u := fixtureUser(t, d, acc, "ann@example.com")
	by := Actor{UserID: u.ID, Email: u.Email}
	kv := fixtureKeyValue(acc, u, "Website form")
	kv.Type = DigitalRequests
	web, err := d.CreateAPIKey(ctx, kv, by)
	if err != nil {
		t.Fatal(err)
	}
	crm := fixtureKey(t, d, acc, u, "CRM") // an integration key
	theirs := fixtureKey(t, d, other, fixtureUser(t, d, other, "olga@example.com"), "Theirs")

	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	add := func(k APIKey, id, idem string, parked bool, at time.Time) LeadReceipt {
		t.Helper()
		r, err := d.CreateLead(ctx, Lead{PublicID: id, AccountID: k.AccountID, KeyID: k.ID, Mode: keys.Live,
			FirstName: "Pat", LastName: id, ReceivedAt: at, Parked: parked, IdempotencyKey: idem, RequestHash: []byte(idem)})
		if err != nil {
			t.Fatalf("CreateLead %s: %v", id, err)
		}
		return r
	}
	ids := func(ls []Lead, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range ls {
			out = append(out, l.PublicID)
		}
		return out
	}
	leads := func() []string { return ids(d.Leads(ctx, acc.ID, LeadFilter{PageFilter: PageFilter{Limit: 50}})) }
	parked := func(accountID int64) []string {
		return ids(d.ParkedLeads(ctx, accountID, LeadFilter{PageFilter: PageFilter{Limit: 50}}))
	}

	if ok, err := d.QuarantineAPIKey(ctx, acc.ID, crm.ID, by, day); ok || err != nil {
		t.Errorf("quarantining an integration key = %v, %v; want no change", ok, err)
	}
	if _, err := d.QuarantineAPIKey(ctx, other.ID, web.ID, by, day); !errors.Is(err, ErrNotFound) {
		t.Errorf("quarantining another account's key: %v, want ErrNotFound", err)
	}
	if ok, err := d.QuarantineAPIKey(ctx, acc.ID, web.ID, by, day); !ok || err != nil {
		t.Fatalf("QuarantineAPIKey = %v, %v", ok, err)
	}
	k, err := d.APIKey(ctx, acc.ID, web.ID)
	if err != nil || !k.Quarantined() || !k.QuarantinedAt.Equal(day) || k.QuarantinedByEmail != u.Email {
		t.Fatalf("quarantined key = %+v, %v", k, err)
	}

	add(web, "ld_normal", "", false, day.Add(time.Hour))
	first := add(web, "ld_p1", "idem-1", true, day.Add(2*time.Hour))
	add(web, "ld_p2", "", true, day.Add(3*time.Hour))
	add(web, "ld_p3", "", true, day.Add(4*time.Hour))
	add(theirs, "ld_theirs", "", true, day.Add(time.Hour))
	// A retry of a parked lead answers its first receipt, as for any lead.
	if r := add(web, "ld_p1_retry", "idem-1", true, day.Add(5*time.Hour)); !r.Replayed || r.PublicID != first.PublicID {
		t.Errorf("retry of a parked lead = %+v, want the first receipt replayed", r)
	}

	if got := leads(); !slices.Equal(got, []string{"ld_normal"}) {
		t.Errorf("Leads = %v, want only the lead that was not parked", got)
	}
	if got := parked(acc.ID); !slices.Equal(got, []string{"ld_p3", "ld_p2", "ld_p1"}) {
		t.Errorf("ParkedLeads = %v", got)
	}
	if c, _ := d.CountLeads(ctx, acc.ID, day.Add(6*time.Hour)); c != (LeadCounts{Today: 1, Week: 1}) {
		t.Errorf("CountLeads = %+v: parked leads must not count", c)
	}
	if n, err := d.CountParked(ctx, acc.ID, 0); n != 3 || err != nil {
		t.Errorf("CountParked = %d, %v", n, err)
	}
	pk, err := d.ParkedKeys(ctx, acc.ID)
	if err != nil || len(pk) != 1 || pk[0].ID != web.ID || pk[0].Leads != 3 || pk[0].QuarantinedByEmail != u.Email {
		t.Errorf("ParkedKeys = %+v, %v", pk, err)
	}

	// Release one: it becomes the newest lead, received now, first received kept.
	now := day.Add(26 * time.Hour)
	r, err := d.ReleaseParked(ctx, k, "ld_p2", by, now)
	if err != nil || r.Leads != 1 || r.LeadID == 0 {
		t.Fatalf("ReleaseParked one = %+v, %v", r, err)
	}
	l, err := d.LeadByID(ctx, acc.ID, r.LeadID)
	if err != nil || l.PublicID != "ld_p2" || !l.ReceivedAt.Equal(now) || !l.ParkedAt.Equal(day.Add(3*time.Hour)) {
		t.Errorf("released lead = %+v, %v", l, err)
	}
	if got := leads(); !slices.Equal(got, []string{"ld_p2", "ld_normal"}) {
		t.Errorf("Leads after a release = %v", got)
	}
	if c, _ := d.CountLeads(ctx, acc.ID, now); c != (LeadCounts{Today: 1, Week: 2}) {
		t.Errorf("CountLeads after a release = %+v: it counts on the day it was released", c)
	}
	if _, err := d.ReleaseParked(ctx, k, "ld_p2", by, now); !errors.Is(err, ErrNotParked) {
		t.Errorf("releasing it again: %v, want ErrNotParked", err)
	}
	if id, err := d.LeadIDByPublicID(ctx, acc.ID, "ld_p2"); id != r.LeadID || err != nil {
		t.Errorf("LeadIDByPublicID = %d, %v", id, err)
	}
	// Another account's parked lead is not reachable through this account's key.
	if _, err := d.ReleaseParked(ctx, k, "ld_theirs", by, now); !errors.Is(err, ErrNotParked) {
		t.Errorf("releasing another account's lead: %v", err)
	}

	// End the quarantine: leads go through again; the parked ones stay until released.
	if ok, err := d.EndQuarantine(ctx, acc.ID, web.ID, "keep", by, now); !ok || err != nil {
		t.Fatalf("EndQuarantine = %v, %v", ok, err)
	}
	if ok, _ := d.EndQuarantine(ctx, acc.ID, web.ID, "keep", by, now); ok {
		t.Error("ending an ended quarantine changed something")
	}
	k, _ = d.APIKey(ctx, acc.ID, web.ID)
	if k.Quarantined() || k.QuarantinedByEmail != "" {
		t.Errorf("key after the end = %+v", k)
	}
	// The same Idempotency-Key sent once the key works again is a new lead;
	// releasing the parked one then drops it as a retry.
	add(web, "ld_p1_again", "idem-1", false, now)
	r, err = d.ReleaseParked(ctx, k, "", by, now.Add(time.Minute))
	if err != nil || r.Leads != 1 || r.Retries != 1 {
		t.Fatalf("ReleaseParked all = %+v, %v", r, err)
	}
	if got := leads(); !slices.Equal(got, []string{"ld_p3", "ld_p1_again", "ld_p2", "ld_normal"}) {
		t.Errorf("Leads after releasing all = %v", got)
	}
	if got := parked(acc.ID); len(got) != 0 {
		t.Errorf("still parked: %v", got)
	}
	if got := parked(other.ID); !slices.Equal(got, []string{"ld_theirs"}) {
		t.Errorf("the other account's parked leads = %v", got)
	}

	// Discard: one, then all, then nothing left.
	d.QuarantineAPIKey(ctx, acc.ID, web.ID, by, now)
	add(web, "ld_d1", "", true, now)
	add(web, "ld_d2", "", true, now)
	add(web, "ld_d3", "", true, now)
	if n, err := d.DiscardParked(ctx, k, "ld_d1", by, now); n != 1 || err != nil {
		t.Errorf("DiscardParked one = %d, %v", n, err)
	}
	if n, err := d.DiscardParked(ctx, k, "", by, now); n != 2 || err != nil {
		t.Errorf("DiscardParked all = %d, %v", n, err)
	}
	if _, err := d.DiscardParked(ctx, k, "", by, now); !errors.Is(err, ErrNotParked) {
		t.Errorf("discarding nothing: %v, want ErrNotParked", err)
	}
	if got := leads(); len(got) != 4 {
		t.Errorf("discarded leads reached Leads: %v", got)
	}

	events, err := d.AuditEvents(ctx, acc.ID, AuditFilter{Limit: 50, KeyID: web.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action+" "+e.Detail)
	}
	want := []string{"discard_leads 2", "discard_leads ld_d1", "quarantine ", "release_leads 2", "end_quarantine keep",
		"release_leads ld_p2", "quarantine ", "create digital_requests, live"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit = %q\nwant    %q", actions, want)
	}
}
