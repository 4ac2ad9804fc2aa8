package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/keys"

	"golang.org/x/net/html"
)

// eventually waits (bounded) for background work the request started, such as
// recording a key's first use; it never waits for time to pass.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRollKeepsTheOldKeyUntilTheNewOneIsUsed(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	b := app.browser().login("admin@acme.test")
	ctx := context.Background()
	rollPath := fmt.Sprintf("/settings/integrations/keys/%d/roll", f.rw.ID)

	bad := []struct {
		name string
		form url.Values
		want string
	}{
		{"window longer than the deadline", url.Values{"old": {"retire"}, "window": {"7d"}, "deadline": {"1d"}}, "longer than the hard deadline"},
		{"unknown window", url.Values{"old": {"retire"}, "window": {"2h"}, "deadline": {"7d"}}, "from the lists"},
		{"unknown choice", url.Values{"old": {"later"}}, "revoked now or kept"},
	}
	for _, tc := range bad {
		res := b.post("/settings/integrations", rollPath, tc.form)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, tc.want) {
			t.Errorf("%s: %d, want 422 saying %q", tc.name, res.status, tc.want)
		}
		if k, _ := app.db.APIKey(ctx, f.acc.ID, f.rw.ID); k.Retiring() || k.Revoked() {
			t.Fatalf("%s changed the key", tc.name)
		}
	}

	rolledAt := app.clock.Now()
	res := b.shownOnce(b.post("/settings/integrations", rollPath, url.Values{"old": {"retire"}, "window": {"15m"}, "deadline": {"1d"}}))
	public, secret := newKeyRe.FindStringSubmatch(res.body), newSecretRe.FindStringSubmatch(res.body)
	if public == nil || secret == nil || !strings.Contains(res.body, "keeps working until this new key is first used") {
		t.Fatalf("the roll does not show the new pair and the old one's retiring: %s", res.body)
	}
	old, _ := app.db.APIKey(ctx, f.acc.ID, f.rw.ID)
	if !old.Retiring() || old.Revoked() || !old.Retire.Deadline.Equal(rolledAt.Add(24*time.Hour).Truncate(time.Second)) {
		t.Fatalf("old key after the roll: %+v", old.Retire)
	}

	// The old key still works, announcing its deadline.
	oldToken := app.token(f.rw.PublicKey, f.rwSecret)
	r := app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now()))
	if r.status != http.StatusOK || r.header.Get("Sunset") != old.Retire.Deadline.Format(http.TimeFormat) {
		t.Fatalf("old key before the new one is used: %d, Sunset %q", r.status, r.header.Get("Sunset"))
	}

	// The new key's first use starts the 15 minute countdown.
	app.clock.Advance(time.Hour)
	oldToken = app.token(f.rw.PublicKey, f.rwSecret)
	firstUse := app.clock.Now()
	app.token(public[1], secret[1])
	// The first use is recorded off the request's path: wait until this
	// instance's live state has applied it, not only until it is stored.
	eventually(t, "the countdown start", func() bool {
		k := app.app.Live.ByID(f.rw.ID)
		return k != nil && !k.Retire.At.IsZero()
	})
	old, _ = app.db.APIKey(ctx, f.acc.ID, f.rw.ID)
	if want := firstUse.Add(15 * time.Minute).Truncate(time.Second); !old.Retire.At.Equal(want) {
		t.Fatalf("countdown ends %v, want %v", old.Retire.At, want)
	}
	r = app.call("GET", "/api/v1/key", "", "", bearer(oldToken))
	if r.status != http.StatusOK || r.header.Get("Sunset") != old.Retire.At.Format(http.TimeFormat) {
		t.Fatalf("old token during the countdown: %d, Sunset %q", r.status, r.header.Get("Sunset"))
	}

	// At the end of the countdown the live state refuses it by the clock.
	app.clock.Advance(15 * time.Minute)
	expectError(t, app.call("GET", "/api/v1/key", "", "", bearer(oldToken)), http.StatusUnauthorized, "invalid_token")
	expectError(t, app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now())),
		http.StatusUnauthorized, "invalid_signature")
	expectError(t, app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
		map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)}), http.StatusUnauthorized, "invalid_client")
	if r := app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", public[1], secret[1], app.clock.Now())); r.status != http.StatusOK {
		t.Fatalf("the new key: %d", r.status)
	}

	// The sweeper revokes it exactly as a revoke does.
	if n, err := app.db.RevokeRetired(ctx, app.clock.Now()); err != nil || n != 1 {
		t.Fatalf("RevokeRetired = %d, %v", n, err)
	}
	if old, _ = app.db.APIKey(ctx, f.acc.ID, f.rw.ID); !old.Revoked() {
		t.Fatal("the retired key is not revoked")
	}
	events, _ := app.db.KeyAuditEvents(ctx, f.acc.ID, f.rw.ID, 10)
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "revoke,retiring,roll,create" {
		t.Errorf("audit of the old key: %s", got)
	}
	for _, e := range events {
		if e.Action == db.AuditRoll && !strings.Contains(e.Detail, "then for 15 minutes,") {
			t.Errorf("the roll's audit entry says the window as %q, not in words", e.Detail)
		}
	}
}

func TestRollRetiringStopsAtTheDeadlineWhenTheNewKeyIsNeverUsed(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	b := app.browser().login("admin@acme.test")
	b.shownOnce(b.post("/settings/integrations", fmt.Sprintf("/settings/integrations/keys/%d/roll", f.write.ID),
		url.Values{"old": {"retire"}, "window": {"24h"}, "deadline": {"1d"}}))
	app.clock.Advance(24*time.Hour - time.Second)
	app.token(f.write.PublicKey, f.writeSecret)
	app.clock.Advance(time.Second)
	expectError(t, app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
		map[string]string{"Authorization": basic(f.write.PublicKey, f.writeSecret)}), http.StatusUnauthorized, "invalid_client")
}

func TestPauseAndResume(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	other := app.apiFixture("other")
	b := app.browser().login("admin@acme.test")
	dealer := app.browser().login(f.dealer.Email)
	ctx := context.Background()
	pause := fmt.Sprintf("/settings/integrations/keys/%d/pause", f.rw.ID)

	if res := dealer.post("/keys", pause, nil); res.status != http.StatusForbidden {
		t.Errorf("dealer pause: %d", res.status)
	}
	if res := b.post("/settings/integrations", fmt.Sprintf("/settings/integrations/keys/%d/pause", other.rw.ID), nil); res.status != http.StatusNotFound {
		t.Errorf("another account's key: %d", res.status)
	}
	oldToken := app.token(f.rw.PublicKey, f.rwSecret)
	// The key page's Pause asks first; asking changes nothing.
	if page := b.get(fmt.Sprintf("/settings/integrations/keys/%d", f.rw.ID)); !strings.Contains(page.body, `href="`+pause+`?back=key"`) {
		t.Error("the key page's Pause does not open its confirmation")
	}
	if res := b.get(pause + "?back=key"); res.status != http.StatusOK || !strings.Contains(res.body, `data-testid="confirm-pause"`) ||
		!strings.Contains(res.body, "key_paused") {
		t.Fatalf("pause confirmation: %d", res.status)
	}
	if res := dealer.get(pause); res.status != http.StatusForbidden {
		t.Errorf("dealer pause confirmation: %d", res.status)
	}
	if r := app.call("GET", "/api/v1/key", "", "", bearer(oldToken)); r.status != http.StatusOK {
		t.Fatalf("the key stopped working on the confirmation alone: %d", r.status)
	}
	if res := b.post("/settings/integrations", pause, nil); res.status != http.StatusSeeOther {
		t.Fatalf("pause: %d", res.status)
	}
	expectError(t, app.call("GET", "/api/v1/key", "", "", bearer(oldToken)), http.StatusUnauthorized, "key_paused")
	expectError(t, app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now())),
		http.StatusUnauthorized, "key_paused")
	expectError(t, app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
		map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)}), http.StatusUnauthorized, "key_paused")
	// A wrong secret learns nothing about the pause.
	expectError(t, app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
		map[string]string{"Authorization": basic(f.rw.PublicKey, keys.NewSecret(keys.Live))}), http.StatusUnauthorized, "invalid_client")
	if page := b.get(fmt.Sprintf("/settings/integrations/keys/%d", f.rw.ID)); !strings.Contains(page.body, "Paused") ||
		!strings.Contains(page.body, `data-testid="resume"`) {
		t.Error("the key page does not say Paused nor offer Resume")
	}

	if res := b.post("/settings/integrations", fmt.Sprintf("/settings/integrations/keys/%d/resume", f.rw.ID), nil); res.status != http.StatusSeeOther {
		t.Fatalf("resume: %d", res.status)
	}
	expectError(t, app.call("GET", "/api/v1/key", "", "", bearer(oldToken)), http.StatusUnauthorized, "invalid_token")
	if r := app.call("GET", "/api/v1/key", "", "", bearer(app.token(f.rw.PublicKey, f.rwSecret))); r.status != http.StatusOK {
		t.Errorf("a new token after resume: %d", r.status)
	}
	events, _ := app.db.KeyAuditEvents(ctx, f.acc.ID, f.rw.ID, 10)
	if len(events) < 2 || events[0].Action != db.AuditResume || events[1].Action != db.AuditPause {
		t.Errorf("audit: %+v", events)
	}
}

func TestKeyExpiry(t *testing.T) {
	app := newTestApp(t)
	acc, _, _ := app.account("acme", db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	form := url.Values{"type": {string(db.Integration)}, "name": {"Expiring"}, "licenses": {db.LicenseLeads}, "live": {"on"},
		"theme": {"lite"}, "session_expiry": {"24h"}, "expires": {"date"}, "expires_on": {"2000-01-01"}}
	res := b.post("/settings/integrations", "/settings/integrations/keys", form)
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "is in the past") || !strings.Contains(res.body, `value="Expiring"`) {
		t.Fatalf("an expiry in the past: %d", res.status)
	}
	form.Set("expires", "30d")
	res = b.shownOnce(b.post("/settings/integrations", "/settings/integrations/keys", form))
	public, secret := newKeyRe.FindStringSubmatch(res.body), newSecretRe.FindStringSubmatch(res.body)
	if public == nil {
		t.Fatalf("not created: %d", res.status)
	}
	k, _ := app.db.APIKeyByPublic(context.Background(), public[1])
	if want := app.clock.Now().UTC().Truncate(time.Second).AddDate(0, 0, 30); !k.Settings.ExpiresAt.Equal(want) || k.AccountID != acc.ID {
		t.Fatalf("expires %v, want %v", k.Settings.ExpiresAt, want)
	}
	if r := app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", public[1], secret[1], app.clock.Now())); r.status != 200 || r.header.Get("Sunset") != "" {
		t.Fatalf("30 days ahead: %d, Sunset %q", r.status, r.header.Get("Sunset"))
	}
	app.clock.Advance(20 * 24 * time.Hour)
	if r := app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", public[1], secret[1], app.clock.Now())); r.header.Get("Sunset") != k.Settings.ExpiresAt.Format(http.TimeFormat) {
		t.Fatalf("10 days ahead: Sunset %q", r.header.Get("Sunset"))
	}
	if list := app.browser().login("admin@acme.test").get("/settings/integrations"); !strings.Contains(list.body, "Expires soon") {
		t.Errorf("the list does not flag a key expiring within 14 days: %s", list.body)
	}
	app.clock.Advance(10*24*time.Hour - time.Minute)
	token := app.token(public[1], secret[1]) // lives one minute, not 30
	app.clock.Advance(time.Minute)
	r := app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
		map[string]string{"Authorization": basic(public[1], secret[1])})
	expectError(t, r, http.StatusUnauthorized, "invalid_client")
	if _, d := apiError(t, r); !strings.Contains(d, "expired on") {
		t.Errorf("description %q does not say when it expired", d)
	}
	expectError(t, app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", public[1], secret[1], app.clock.Now())),
		http.StatusUnauthorized, "key_expired")
	expectError(t, app.call("GET", "/api/v1/key", "", "", bearer(token)), http.StatusUnauthorized, "invalid_token")
}

func TestRequireBodySignedRequests(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	b := app.browser().login("admin@acme.test")
	edit := url.Values{"name": {"CRM"}, "licenses": {db.LicenseLeads}, "live": {"on"}, "theme": {"lite"},
		"session_expiry": {"24h"}, "expires": {"never"}, "require_v2": {"on"}}
	if res := b.post(fmt.Sprintf("/settings/integrations/keys/%d/edit", f.rw.ID), fmt.Sprintf("/settings/integrations/keys/%d", f.rw.ID), edit); res.status >= 400 {
		t.Fatalf("edit: %d %s", res.status, res.body)
	}
	expectError(t, app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now())),
		http.StatusUnauthorized, "signature_version_required")
	if r := app.call("GET", "/api/v1/key", "", "", signedV2("acme", f.rw.PublicKey, f.rwSecret, "GET", "/api/v1/key", "", app.clock.Now())); r.status != http.StatusOK {
		t.Fatalf("v2 signed: %d %s", r.status, r.body)
	}
	events, _ := app.db.KeyAuditEvents(context.Background(), f.acc.ID, f.rw.ID, 1)
	if len(events) != 1 || events[0].Detail != "Require body-signed requests turned on" {
		t.Errorf("audit: %+v", events)
	}
	// Another key of the account still takes v1.
	if r := app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.write.PublicKey, f.writeSecret, app.clock.Now())); r.status != http.StatusOK {
		t.Errorf("v1 on another key: %d", r.status)
	}
}

// formAsSent is what a browser submits from the first form whose
// data-testid is testid in page: every named input, checked box, chosen
// option and text area, as they stand.
func formAsSent(t *testing.T, page, testid string) url.Values {
	t.Helper()
	root, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, name string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == name {
				return a.Val, true
			}
		}
		return "", false
	}
	var form *html.Node
	for n := range root.Descendants() {
		if v, _ := attr(n, "data-testid"); n.Type == html.ElementNode && n.Data == "form" && v == testid {
			form = n
			break
		}
	}
	if form == nil {
		t.Fatalf("no form %q on the page", testid)
	}
	out := url.Values{}
	for n := range form.Descendants() {
		name, named := attr(n, "name")
		if n.Type != html.ElementNode || !named {
			continue
		}
		switch n.Data {
		case "input":
			typ, _ := attr(n, "type")
			_, checked := attr(n, "checked")
			value, _ := attr(n, "value")
			if (typ == "checkbox" || typ == "radio") && !checked || typ == "submit" {
				continue
			}
			if (typ == "checkbox" || typ == "radio") && value == "" {
				value = "on"
			}
			out.Add(name, value)
		case "textarea":
			var b strings.Builder
			for c := range n.Descendants() {
				if c.Type == html.TextNode {
					b.WriteString(c.Data)
				}
			}
			out.Add(name, strings.TrimPrefix(b.String(), "\n"))
		case "select":
			chosen := ""
			first := true
			for o := range n.Descendants() {
				if o.Type != html.ElementNode || o.Data != "option" {
					continue
				}
				v, _ := attr(o, "value")
				if _, sel := attr(o, "selected"); sel || first {
					chosen = v
				}
				if _, sel := attr(o, "selected"); sel {
					break
				}
				first = false
			}
			out.Add(name, chosen)
		}
	}
	return out
}

// TestSavingAnUnchangedKeyWritesNothing: the edit form sent back as it came
// changes nothing, so it writes no audit entry and says there was nothing to
// save; a key's expiry is offered unchanged with its exact time.
func TestSavingAnUnchangedKeyWritesNothing(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	b := app.browser().login(f.admin.Email)
	keyPage := fmt.Sprintf("/settings/integrations/keys/%d", f.rw.ID)
	form := validKeyForm("CRM", db.Integration)
	form.Del("type")
	form.Set("expires", "30d")
	if res := b.post(keyPage, keyPage, form); res.status != http.StatusSeeOther {
		t.Fatalf("set an expiry: %d %s", res.status, res.body)
	}
	ctx := context.Background()
	before, _ := app.db.KeyAuditEvents(ctx, f.acc.ID, f.rw.ID, 50)
	edit := b.get(keyPage + "/edit")
	until := app.clock.Now().UTC().AddDate(0, 0, 30).Format("2006-01-02 15:04 UTC")
	if !strings.Contains(edit.body, "Unchanged (until "+until+")") {
		t.Errorf("the edit form does not offer the expiry unchanged until %s", until)
	}
	res := b.post(keyPage, keyPage, formAsSent(t, edit.body, "key-form"))
	if res.status != http.StatusSeeOther {
		t.Fatalf("save unchanged: %d %s", res.status, res.body)
	}
	if page := b.get(res.header.Get("Location")); !strings.Contains(page.body, "Nothing to save: CRM already has these settings.") {
		t.Error("the notice does not say there was nothing to save")
	}
	if after, _ := app.db.KeyAuditEvents(ctx, f.acc.ID, f.rw.ID, 50); len(after) != len(before) {
		t.Errorf("%d audit entries after saving nothing, want %d", len(after), len(before))
	}
}
