package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/db/dbtest"
)

const spamLead = `{"contact": {"first_name": "Spam", "last_name": "Bot", "email": "bot@spam.example"}, "source": "junk"}`

// receiptShape is what a sender can see of a lead's receipt: the status,
// the header names and the body's fields (values differ from lead to lead).
func receiptShape(t *testing.T, r response) string {
	t.Helper()
	var names []string
	for h := range r.header {
		if h != "Date" {
			names = append(names, h)
		}
	}
	slices.Sort(names)
	var body map[string]any
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("receipt %q: %v", r.body, err)
	}
	var fields []string
	for k := range body {
		fields = append(fields, k)
	}
	slices.Sort(fields)
	return http.StatusText(r.status) + " " + strings.Join(names, ",") + " " + strings.Join(fields, ",") + " " + r.header.Get("Content-Type")
}

func receiptID(t *testing.T, r response) string {
	t.Helper()
	var body struct{ ID string }
	json.Unmarshal([]byte(r.body), &body)
	if body.ID == "" {
		t.Fatalf("no receipt id: %d %s", r.status, r.body)
	}
	return body.ID
}

func TestQuarantine(t *testing.T) {
	for _, backend := range []struct{ name, dsn string }{
		{"sqlite", filepath.Join(t.TempDir(), "keydesk.db")}, {"postgres", dbtest.URL(t)},
	} {
		t.Run(backend.name, func(t *testing.T) { testQuarantine(t, newTestAppOn(t, backend.dsn)) })
	}
}

// testQuarantine walks a quarantine through the dashboard and the API: the
// sender sees nothing, the parked leads are out of every list, API and
// count, and Release, Discard and End quarantine do what they say, with
// stale forms, other accounts and dealers answered as they should be.
func testQuarantine(t *testing.T, app *testApp) {
	f := app.apiFixture("acme")
	theirs := app.apiFixture("other")
	admin := app.browser().login(f.admin.Email)
	keyPage := "/settings/integrations/keys/" + itoa(f.write.ID)
	send := bearer(app.token(f.write.PublicKey, f.writeSecret))
	read := func(path string) response {
		return app.call("GET", path, "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now()))
	}
	contains := func(what string, r response, status int, want ...string) {
		t.Helper()
		if r.status != status {
			t.Fatalf("%s: status %d, want %d: %.600s", what, r.status, status, r.body)
		}
		for _, w := range want {
			if !strings.Contains(r.body, w) {
				t.Errorf("%s: no %q in %.2000s", what, w, r.body)
			}
		}
	}
	lacks := func(what string, r response, unwanted string) {
		t.Helper()
		if strings.Contains(r.body, unwanted) {
			t.Errorf("%s shows %q", what, unwanted)
		}
	}

	normal := postLead(app, send, goodLead)
	if normal.status != http.StatusCreated {
		t.Fatalf("a lead before the quarantine: %d %s", normal.status, normal.body)
	}

	// An integration key cannot be quarantined; the digital-requests key's confirmation says what happens.
	contains("quarantine an integration key", admin.get("/settings/integrations/keys/"+itoa(f.rw.ID)+"/quarantine"), http.StatusConflict, "Only a digital-requests key")
	contains("the key page", admin.get(keyPage), http.StatusOK, `data-testid="quarantine"`)
	contains("the confirmation", admin.get(keyPage+"/quarantine"), http.StatusOK, "the sender cannot tell", "Leads › Quarantined")
	contains("quarantine", admin.post(keyPage, keyPage+"/quarantine", url.Values{"back": {"key"}}), http.StatusSeeOther)
	contains("the quarantined key's page", admin.get(keyPage), http.StatusOK, "Quarantined", "by "+f.admin.Email, `data-testid="end-quarantine"`)
	contains("its row", admin.get("/settings/integrations"), http.StatusOK, `data-testid="quarantined"`, "by "+f.admin.Email)

	// The sender gets the usual receipt…
	parked := postLead(app, send, spamLead)
	if got, want := receiptShape(t, parked), receiptShape(t, normal); got != want {
		t.Errorf("a parked lead's receipt %q, want the usual %q", got, want)
	}
	parkedID := receiptID(t, parked)
	// …but the lead is in no list, API answer or count.
	if n := app.leadCount(f.acc.ID); n != 1 {
		t.Errorf("Leads hold %d leads, want only the one sent before the quarantine", n)
	}
	lacks("the Leads page", admin.get("/leads"), "Spam")
	lacks("the landing page", admin.get("/"), "Spam")
	contains("the landing page's count", admin.get("/"), http.StatusOK, `data-testid="stat-leads-today"><span class="num">1</span>`)
	list := read("/api/v1/leads")
	contains("the read API's list", list, http.StatusOK, `"contact"`)
	lacks("the read API's list", list, "Spam")
	expectError(t, read("/api/v1/leads/"+parkedID), http.StatusNotFound, "not_found")
	// The admin finds it under Quarantined.
	contains("the Leads tabs", admin.get("/leads"), http.StatusOK, "Quarantined (1)")
	contains("the Quarantined view", admin.get("/leads/quarantined"), http.StatusOK, "Spam Bot", "Website form", "1 lead", parkedID)

	// Dealers never see parked leads; other accounts reach none.
	dealer := app.browser().login(f.dealer.Email)
	contains("a dealer's Quarantined view", dealer.get("/leads/quarantined"), http.StatusForbidden)
	lacks("a dealer's Leads page", dealer.get("/leads"), "Quarantined")
	contains("a dealer's release", dealer.post("/leads", "/leads/quarantined/release", url.Values{"key": {itoa(f.write.ID)}, "lead": {parkedID}}), http.StatusForbidden)
	other := app.browser().login(theirs.admin.Email)
	lacks("another account's Quarantined view", other.get("/leads/quarantined"), "Spam")
	contains("another account's release", other.post("/leads/quarantined", "/leads/quarantined/release", url.Values{"key": {itoa(f.write.ID)}, "lead": {parkedID}}), http.StatusNotFound)
	contains("another account's discard", other.get("/leads/quarantined/discard?key="+itoa(f.write.ID)), http.StatusNotFound)
	contains("another account's quarantine", other.post("/leads", keyPage+"/quarantine", nil), http.StatusNotFound)

	// Release: the lead appears as if just received, marked, its first time kept.
	app.clock.Advance(10 * time.Minute)
	releasedAt := app.clock.Now()
	contains("release", admin.post("/leads/quarantined", "/leads/quarantined/release", url.Values{"key": {itoa(f.write.ID)}, "lead": {parkedID}}), http.StatusSeeOther)
	contains("the Leads page after the release", admin.get("/leads"), http.StatusOK, "Spam Bot", "Released from quarantine", "first received")
	contains("the API after the release", read("/api/v1/leads/"+parkedID), http.StatusOK, `"received_at":"`+releasedAt.UTC().Format(time.RFC3339)+`"`)
	if n := app.leadCount(f.acc.ID); n != 2 {
		t.Errorf("Leads hold %d leads after the release, want 2", n)
	}
	if leads, _ := app.db.Leads(t.Context(), f.acc.ID, db.LeadFilter{PageFilter: db.PageFilter{Limit: 1}}); len(leads) != 1 || leads[0].PublicID != parkedID {
		t.Errorf("the released lead is not the newest: %+v", leads)
	}
	// A stale Release form says where the lead went and changes nothing.
	contains("a stale release", admin.post("/leads/quarantined", "/leads/quarantined/release", url.Values{"key": {itoa(f.write.ID)}, "lead": {parkedID}}),
		http.StatusConflict, "was already released from quarantine", "Nothing changed")
	contains("a release without a key", admin.post("/leads/quarantined", "/leads/quarantined/release", url.Values{"lead": {parkedID}}), http.StatusBadRequest)

	// Discard one (after a confirmation), then a stale discard.
	gone := receiptID(t, postLead(app, send, spamLead))
	contains("the discard confirmation", admin.get("/leads/quarantined/discard?key="+itoa(f.write.ID)+"&lead="+gone), http.StatusOK, "Spam Bot", "cannot be undone")
	contains("discard", admin.post("/leads/quarantined", "/leads/quarantined/discard", url.Values{"key": {itoa(f.write.ID)}, "lead": {gone}}), http.StatusSeeOther)
	contains("a stale discard", admin.post("/leads/quarantined", "/leads/quarantined/discard", url.Values{"key": {itoa(f.write.ID)}, "lead": {gone}}),
		http.StatusConflict, "it was discarded", "Nothing changed")
	lacks("the Quarantined view after the discard", admin.get("/leads/quarantined"), gone)

	// End quarantine with leads parked asks what becomes of them.
	kept := receiptID(t, postLead(app, send, spamLead))
	contains("end, asked", admin.post(keyPage, keyPage+"/end-quarantine", nil), http.StatusOK, "It has 1 parked lead", `value="release"`, `value="discard"`, `value="keep"`)
	contains("end, a choice not offered", admin.post(keyPage, keyPage+"/end-quarantine", url.Values{"parked": {"later"}}), http.StatusUnprocessableEntity, "Choose what becomes of the parked leads")
	if k, _ := app.db.APIKey(t.Context(), f.acc.ID, f.write.ID); !k.Quarantined() {
		t.Fatal("asking ended the quarantine")
	}
	contains("end, keep them parked", admin.post(keyPage, keyPage+"/end-quarantine", url.Values{"parked": {"keep"}, "back": {"key"}}), http.StatusSeeOther)
	if k, _ := app.db.APIKey(t.Context(), f.acc.ID, f.write.ID); k.Quarantined() {
		t.Fatal("the quarantine did not end")
	}
	if page := admin.get(keyPage); !strings.Contains(page.body, "Its 1 lead stays parked under Leads › Quarantined.") {
		t.Error("the notice after ending with one lead kept does not say it stays parked")
	}
	// Its leads go through again; the kept one waits under Quarantined, its key's state in words.
	if id := receiptID(t, postLead(app, send, goodLead)); !strings.Contains(read("/api/v1/leads/"+id).body, id) {
		t.Error("a lead after the quarantine is not readable")
	}
	contains("the kept lead", admin.get("/leads/quarantined"), http.StatusOK, kept, "Ended: its new leads go through")
	// Releasing the leads of a key no longer quarantined works while any are parked…
	contains("release all", admin.post("/leads/quarantined", "/leads/quarantined/release", url.Values{"key": {itoa(f.write.ID)}}), http.StatusSeeOther)
	contains("the flash", admin.get("/leads/quarantined"), http.StatusOK, "Released 1 lead of Website form", "Nothing in quarantine")
	// …and says what happened once none is.
	contains("a stale release all", admin.post("/leads/quarantined", "/leads/quarantined/release", url.Values{"key": {itoa(f.write.ID)}}),
		http.StatusConflict, "Website form is no longer quarantined and none of its leads are parked")

	// End quarantine with nothing parked is one click; with a choice it releases or discards.
	contains("quarantine again", admin.post(keyPage, keyPage+"/quarantine", nil), http.StatusSeeOther)
	contains("end in one click", admin.post(keyPage, keyPage+"/end-quarantine", nil), http.StatusSeeOther)
	admin.post(keyPage, keyPage+"/quarantine", nil)
	postLead(app, send, spamLead)
	postLead(app, send, spamLead)
	contains("end and discard", admin.post(keyPage, keyPage+"/end-quarantine", url.Values{"parked": {"discard"}}), http.StatusSeeOther)
	if n, _ := app.db.CountParked(t.Context(), f.acc.ID, f.write.ID); n != 0 {
		t.Errorf("%d leads still parked after End and discard", n)
	}
	// A stale End form (the quarantine already ended) still does what it asked and says so.
	contains("a stale end", admin.post(keyPage, keyPage+"/end-quarantine", url.Values{"parked": {"release"}}), http.StatusSeeOther)
	if !strings.Contains(admin.get("/settings/integrations").body, "had already ended") {
		t.Error("a stale End quarantine does not say the quarantine had already ended")
	}

	// Every step is in the audit log, in words.
	contains("the audit log", admin.get("/settings/audit?key="+itoa(f.write.ID)), http.StatusOK,
		"Quarantined the key", "Released lead "+parkedID+" from quarantine", "Discarded lead "+gone,
		"Ended the quarantine; its parked leads, if any, stay parked", "Released 1 lead from quarantine",
		"Ended the quarantine and chose to discard", "Discarded 2 leads from quarantine")
}

// A quarantine through one instance parks the very next lead that any
// instance takes: the live state applies it before the answer returns.
func TestQuarantineReachesEveryInstance(t *testing.T) {
	dsn := dbtest.URL(t)
	one, two := newTestAppOn(t, dsn), newTestAppOn(t, dsn)
	f := one.apiFixture("acme")
	send := bearer(two.token(f.write.PublicKey, f.writeSecret))
	admin := one.browser().login(f.admin.Email)
	keyPage := "/settings/integrations/keys/" + itoa(f.write.ID)
	if res := admin.post(keyPage, keyPage+"/quarantine", nil); res.status != http.StatusSeeOther {
		t.Fatalf("quarantine through one: %d", res.status)
	}
	id := receiptID(t, postLead(two, send, spamLead))
	if n := two.leadCount(f.acc.ID); n != 0 {
		t.Errorf("instance two stored the lead in Leads (%d)", n)
	}
	if res := admin.get("/leads/quarantined"); !strings.Contains(res.body, id) {
		t.Errorf("the lead two took is not parked")
	}
	if res := admin.post(keyPage, keyPage+"/end-quarantine", url.Values{"parked": {"keep"}}); res.status != http.StatusSeeOther {
		t.Fatalf("end through one: %d", res.status)
	}
	postLead(two, send, goodLead)
	if n := two.leadCount(f.acc.ID); n != 1 {
		t.Errorf("instance two still parks after the end: %d leads", n)
	}
}

func TestChangedTriggerIsASCII(t *testing.T) {
	for _, msg := range []string{"Quarantined Main Street — website: parked under Leads › Quarantined", "plain", "emoji 🚗"} {
		got := changedTrigger(msg)
		for i := 0; i < len(got); i++ {
			if got[i] >= 0x80 {
				t.Fatalf("changedTrigger(%q) = %q holds a non-ASCII byte", msg, got)
			}
		}
		var back map[string]string
		if err := json.Unmarshal([]byte(got), &back); err != nil || back["keydesk:toast"] != msg {
			t.Errorf("changedTrigger(%q) reads back as %q, %v", msg, back["keydesk:toast"], err)
		}
	}
}
