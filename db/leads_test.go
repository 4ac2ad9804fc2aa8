package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"keydesk/keys"
)

func TestParseLeadSearch(t *testing.T) {
	tests := []struct {
		q    string
		want LeadSearch
	}{
		{"", LeadSearch{}},
		{"   ", LeadSearch{}},
		{" Ann@Example.COM ", LeadSearch{Kind: "email", Column: "search_email", Value: "ann@example.com"}},
		{"1hgcm82633a004352", LeadSearch{Kind: "vin", Column: "vin", Value: "1HGCM82633A004352"}},
		{"+1 (555) 010-2030", LeadSearch{Kind: "phone", Column: "search_phone", Value: "5550102030"}},
		{"555.010.2030", LeadSearch{Kind: "phone", Column: "search_phone", Value: "5550102030"}},
		{"010 2030", LeadSearch{Kind: "phone", Column: "search_phone", Value: "0102030"}},
		{"12345", LeadSearch{Kind: "name", Column: "search_last", Value: "12345"}}, // too short for a phone
		{"LEE", LeadSearch{Kind: "name", Column: "search_last", Value: "lee"}},
		{"  Ann   Lee ", LeadSearch{Kind: "name", Column: "search_last", Value: "lee", Full: "ann lee"}},
		{"ABCDEFGHJKLMNPRST", LeadSearch{Kind: "name", Column: "search_last", Value: "abcdefghjklmnprst"}}, // no digit: a name
	}
	for _, tt := range tests {
		if got := ParseLeadSearch(tt.q); got != tt.want {
			t.Errorf("ParseLeadSearch(%q) = %+v, want %+v", tt.q, got, tt.want)
		}
	}
}

// The filters, and the day counts each backend's writer keeps.
func TestLeadsSearchAndFilters(t *testing.T) { forEachBackend(t, testLeadsSearchAndFilters) }

func testLeadsSearchAndFilters(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	other := fixtureAccount(t, d, "other")
	u := fixtureUser(t, d, acc, "ann@example.com")
	ou := fixtureUser(t, d, other, "olga@example.com")
	web := fixtureKey(t, d, acc, u, "Website")
	crm := fixtureKey(t, d, acc, u, "CRM")
	theirs := fixtureKey(t, d, other, ou, "Theirs")
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	add := func(k APIKey, mode keys.Mode, first, last, email, phone, vin string, at time.Time) string {
		t.Helper()
		id := fmt.Sprintf("ld_%d_%s_%s", at.Unix(), first, k.Name)
		_, err := d.CreateLead(ctx, Lead{PublicID: id, AccountID: k.AccountID, KeyID: k.ID, Mode: mode,
			FirstName: first, LastName: last, Email: email, Phone: phone, VIN: vin, ReceivedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	ann := add(web, keys.Live, "Ann", "Lee", "Ann@Example.com", "+1 555 010 2030", "1HGCM82633A004352", day.Add(-48*time.Hour))
	bob := add(crm, keys.Live, "Bob", "Lee", "bob@example.com", "", "", day.Add(-24*time.Hour))
	tess := add(web, keys.Test, "Tess", "van der Berg", "", "(555) 010-2030", "", day.Add(time.Hour))
	cher := add(crm, keys.Live, "Cher", "", "cher@example.com", "", "", day.Add(2*time.Hour))
	add(theirs, keys.Live, "Ann", "Lee", "ann@example.com", "+1 555 010 2030", "1HGCM82633A004352", day)

	since, err := d.FirstLeadIDSince(ctx, acc.ID, day)
	if err != nil || since == 0 {
		t.Fatalf("FirstLeadIDSince = %d, %v", since, err)
	}
	tests := []struct {
		name string
		f    LeadFilter
		want []string
	}{
		{"all, newest first", LeadFilter{}, []string{cher, tess, bob, ann}},
		{"email, any case", LeadFilter{Search: ParseLeadSearch("ANN@example.com")}, []string{ann}},
		{"phone, any format", LeadFilter{Search: ParseLeadSearch("555-010-2030")}, []string{tess, ann}},
		{"VIN, lower case", LeadFilter{Search: ParseLeadSearch("1hgcm82633a004352")}, []string{ann}},
		{"last name", LeadFilter{Search: ParseLeadSearch("lee")}, []string{bob, ann}},
		{"full name", LeadFilter{Search: ParseLeadSearch("Ann Lee")}, []string{ann}},
		{"a many-word last name", LeadFilter{Search: ParseLeadSearch("tess van der berg")}, []string{tess}},
		{"first name only when no last name", LeadFilter{Search: ParseLeadSearch("cher")}, []string{cher}},
		{"a first name is not a last name", LeadFilter{Search: ParseLeadSearch("bob")}, nil},
		{"by key", LeadFilter{KeyID: web.ID}, []string{tess, ann}},
		{"by key and search", LeadFilter{KeyID: crm.ID, Search: ParseLeadSearch("Lee")}, []string{bob}},
		{"another account's key", LeadFilter{KeyID: theirs.ID}, nil},
		{"by mode", LeadFilter{PageFilter: PageFilter{Mode: keys.Test}}, []string{tess}},
		{"since a day", LeadFilter{Since: day, SinceID: since}, []string{cher, tess}},
		{"a page after a cursor", LeadFilter{PageFilter: PageFilter{BeforeID: leadID(t, d, acc.ID, tess)}}, []string{bob, ann}},
	}
	for _, tt := range tests {
		if tt.f.Limit == 0 {
			tt.f.Limit = 50
		}
		got, err := d.Leads(ctx, acc.ID, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var ids []string
		for _, l := range got {
			ids = append(ids, l.PublicID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, ids, tt.want)
		}
	}

	counts, err := d.CountLeads(ctx, acc.ID, day.Add(3*time.Hour))
	if err != nil || counts != (LeadCounts{Today: 2, Week: 4}) {
		t.Errorf("CountLeads = %+v, %v; want 2 today, 4 this week", counts, err)
	}
	if c, _ := d.CountLeads(ctx, acc.ID, day.Add(8*24*time.Hour)); c != (LeadCounts{}) {
		t.Errorf("a week later: %+v", c)
	}
}

func leadID(t *testing.T, d *DB, accountID int64, publicID string) int64 {
	t.Helper()
	var id int64
	if err := d.read.QueryRowContext(context.Background(), `SELECT id FROM leads WHERE account_id = ? AND public_id = ?`, accountID, publicID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestLeadsQueriesNeverSort checks that every Leads filter is answered by an
// index in id order: no temporary sort, so a page costs the same at any size.
func TestLeadsQueriesNeverSort(t *testing.T) {
	d, _ := fixtureStore(t)
	for _, f := range []LeadFilter{
		{},
		{PageFilter: PageFilter{Mode: keys.Live, BeforeID: 10}},
		{KeyID: 3},
		{Search: ParseLeadSearch("ann@example.com")},
		{Search: ParseLeadSearch("+1 555 010 2030")},
		{Search: ParseLeadSearch("1HGCM82633A004352")},
		{Search: ParseLeadSearch("lee")},
		{Search: ParseLeadSearch("ann lee"), PageFilter: PageFilter{Mode: keys.Test}},
		{Since: fixtureNow, SinceID: 5},
		{PageFilter: PageFilter{AfterID: 10}},
		{KeyID: 3, PageFilter: PageFilter{AfterID: 10, Mode: keys.Live}},
		{Search: ParseLeadSearch("lee"), PageFilter: PageFilter{AfterID: 10}},
	} {
		f.Limit = 51
		plan := explainLeads(t, d, f)
		if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "USING INDEX") && !strings.Contains(plan, "USING COVERING INDEX") {
			t.Errorf("filter %+v: plan\n%s", f, plan)
		}
	}
}

// TestLeadsOfSeveralKeysReadAPageEach: every key of one name (a rolled
// key's pairs) is read newest first along its index, at most a page each
// (each arm has the page's LIMIT), and the arms are merged: what is sorted is
// a page of rows per key, never a key's every lead.
func TestLeadsOfSeveralKeysReadAPageEach(t *testing.T) {
	d, _ := fixtureStore(t)
	plan := explainLeads(t, d, LeadFilter{KeyIDs: []int64{3, 2, 1}, PageFilter: PageFilter{Limit: 51, BeforeID: 99}})
	if n := strings.Count(plan, "USING INDEX leads_key"); n != 3 {
		t.Errorf("%d arms along leads_key, want 3:\n%s", n, plan)
	}
	if !strings.Contains(plan, "MERGE (UNION ALL)") {
		t.Errorf("the arms are not merged:\n%s", plan)
	}
}

func explainLeads(t *testing.T, d *DB, f LeadFilter) string {
	t.Helper()
	q, args := f.leadsQuery(1)
	return explain(t, d, q, args...)
}
