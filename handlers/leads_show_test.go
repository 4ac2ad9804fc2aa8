package handlers

import (
	"html"
	"strings"
	"testing"

	"keydesk/db"
	"keydesk/keys"
)

func TestLeadsPage(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	other := app.apiFixture("other")
	dealer := app.user(f.acc, "second-dealer@acme.test", db.RoleDealer)

	page := app.browser().login(dealer.Email).get("/leads")
	if page.status != 200 || !strings.Contains(page.body, `data-testid="leads-empty"`) {
		t.Fatalf("empty state: %d %s", page.status, page.body)
	}

	postLead(app, bearer(app.token(f.write.PublicKey, f.writeSecret)), goodLead)
	sandbox, sandboxSecret := app.key(f.acc, f.admin, "Sandbox form", db.DigitalRequests, keys.Test, db.LicenseLeads)
	postLead(app, signedHeaders("acme", sandbox.PublicKey, sandboxSecret, app.clock.Now()), strings.Replace(goodLead, "Ann", "Tess", 1))
	postLead(app, bearer(app.token(other.write.PublicKey, other.writeSecret)), strings.Replace(goodLead, "Ann", "Olga", 1))

	for _, who := range []string{dealer.Email, f.admin.Email} {
		body := html.UnescapeString(app.browser().login(who).get("/leads").body)
		if strings.Count(body, `data-testid="lead-row"`) != 2 {
			t.Fatalf("%s sees %d rows", who, strings.Count(body, `data-testid="lead-row"`))
		}
		for _, want := range []string{"Ann Lee", "Website form", "Tess Lee", "Sandbox form", "2024 Honda Accord #A123", "ann@example.com"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: page lacks %q", who, want)
			}
		}
		if strings.Contains(body, "Olga") {
			t.Errorf("%s sees another account's lead", who)
		}
		if strings.Index(body, "Tess") > strings.Index(body, "Ann Lee") {
			t.Errorf("not newest first")
		}
	}
	if res := app.browser().get("/leads"); res.status != 303 {
		t.Errorf("signed out: %d", res.status)
	}
}

func TestLeadsPagePaging(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	tok := bearer(app.token(f.write.PublicKey, f.writeSecret))
	for range leadsPerPage + 3 {
		if res := postLead(app, tok, goodLead); res.status != 201 {
			t.Fatal(res.body)
		}
	}
	b := app.browser().login(f.admin.Email)
	first := b.get("/leads").body
	if n := strings.Count(first, `data-testid="lead-row"`); n != leadsPerPage {
		t.Fatalf("first page %d rows", n)
	}
	i := strings.Index(first, "/leads?before=")
	if i < 0 {
		t.Fatal("no link to older leads")
	}
	next := first[i : i+strings.IndexByte(first[i:], '"')]
	if n := strings.Count(b.get(next).body, `data-testid="lead-row"`); n != 3 {
		t.Fatalf("second page %d rows", n)
	}
}

func TestDocsPage(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme-motors")
	_ = f
	res := app.browser().login("dealer@acme-motors.test").get("/docs")
	if res.status != 200 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	body := html.UnescapeString(res.body)
	for _, want := range []string{
		`export KEYDESK_SLUG='acme-motors'`, `export KEYDESK_URL='` + app.srv.URL + `'`, `"$KEYDESK_SLUG:$KEYDESK_API_KEY@$TS"`,
		"grant_type=client_credentials", "openssl rand -hex 16",
		"Authorization: Bearer", "API-Timestamp", "createHmac", "hmac.New(sha256.New", `"acme-motors"`,
		"insufficient_scope", "missing_license_leads", "Idempotency-Key", "/api/v1/openapi.json",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("docs lack %q", want)
		}
	}
	if strings.Contains(body, "uuidgen") {
		t.Error("docs still use uuidgen, which many systems lack")
	}
	if blocks, copies := strings.Count(body, `data-testid="docs-code"`), strings.Count(body, `class="btn btn-small copy-code"`); blocks < 10 || copies != blocks {
		t.Errorf("%d code blocks, %d Copy buttons", blocks, copies)
	}
	if res := app.browser().get("/docs"); res.status != 303 {
		t.Errorf("signed out: %d", res.status)
	}
}
