package handlers

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/keys"
)

// validKeyForm is a Create New Key form that passes validation.
func validKeyForm(name string, t db.KeyType) url.Values {
	return url.Values{
		"type": {string(t)}, "name": {name}, "licenses": {db.LicenseLeads}, "live": {"on"},
		"theme": {"pro"}, "redirect_url": {"https://dealer.example/thanks"}, "session_expiry": {"48h"},
		"capture_sms": {"Hi {customer}, {dealer} here: {link}"}, "skip_odometer": {"on"},
	}
}

var (
	newKeyRe    = regexp.MustCompile(`data-testid="new-api-key">([^<]+)<`)
	newSecretRe = regexp.MustCompile(`data-testid="new-api-secret">([^<]+)<`)
)

func TestLoginAndRoles(t *testing.T) {
	app := newTestApp(t)
	app.account("acme", db.LicenseLeads, db.LicenseCapture)
	cases := []struct {
		name, email, path string
		want              int
	}{
		{"anonymous to integrations goes to sign-in", "", "/settings/integrations", http.StatusSeeOther},
		{"admin sees integrations", "admin@acme.test", "/settings/integrations", http.StatusOK},
		{"admin sees audit", "admin@acme.test", "/settings/audit", http.StatusOK},
		{"dealer sees keys", "dealer@acme.test", "/keys", http.StatusOK},
		{"dealer refused integrations", "dealer@acme.test", "/settings/integrations", http.StatusForbidden},
		{"dealer refused audit", "dealer@acme.test", "/settings/audit", http.StatusForbidden},
		{"dealer refused new key form", "dealer@acme.test", "/settings/integrations/keys/new?type=integration", http.StatusForbidden},
		{"dealer gets 404 for an unknown page", "dealer@acme.test", "/nope", http.StatusNotFound},
		{"dealer gets 404 for an unknown settings page", "dealer@acme.test", "/settings/nope", http.StatusNotFound},
		{"admin gets 404 for an unknown page", "admin@acme.test", "/nope", http.StatusNotFound},
		{"anonymous to an unknown page goes to sign-in", "", "/nope", http.StatusSeeOther},
		{"the browser's icon request finds the icon", "", "/favicon.ico", http.StatusMovedPermanently},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := app.browser()
			if tc.email != "" {
				b.login(tc.email)
			}
			res := b.get(tc.path)
			if res.status != tc.want {
				t.Fatalf("GET %s = %d, want %d", tc.path, res.status, tc.want)
			}
			if tc.want == http.StatusSeeOther && res.header.Get("Location") != "/login?next="+url.QueryEscape(tc.path) {
				t.Errorf("Location = %q", res.header.Get("Location"))
			}
		})
	}
}

func TestLoginFailuresAreThrottledAndVague(t *testing.T) {
	app := newTestApp(t)
	app.account("acme", db.LicenseLeads)
	b := app.browser()
	for i, email := range []string{"admin@acme.test", "nobody@acme.test"} {
		res := b.post("/login", "/login", url.Values{"email": {email}, "password": {"wrong password"}})
		if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "do not match an active account") {
			t.Fatalf("attempt %d: status %d", i, res.status)
		}
		if !strings.Contains(res.body, `value="`+email+`"`) {
			t.Errorf("attempt %d: typed email was not kept", i)
		}
	}
	// Waits double after the second failure: 1 s, 2 s, 4 s.
	b.post("/login", "/login", url.Values{"email": {"admin@acme.test"}, "password": {"wrong"}})
	for _, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		res := b.post("/login", "/login", url.Values{"email": {"admin@acme.test"}, "password": {"wrong"}})
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != fmt.Sprint(int(wait.Seconds())) {
			t.Fatalf("retry without waiting %v: status %d, Retry-After %q", wait, res.status, res.header.Get("Retry-After"))
		}
		app.clock.Advance(wait)
		if res := b.post("/login", "/login", url.Values{"email": {"admin@acme.test"}, "password": {"wrong"}}); res.status != http.StatusUnauthorized {
			t.Fatalf("after waiting %v: status %d", wait, res.status)
		}
	}
	res := b.post("/login", "/login", url.Values{"email": {"admin@acme.test"}, "password": {testPassword}})
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Fatalf("after 5 failures: status %d, Retry-After %q", res.status, res.header.Get("Retry-After"))
	}
	app.clock.Advance(16 * time.Minute)
	b.login("admin@acme.test")
}

func TestCSRFIsRequired(t *testing.T) {
	app := newTestApp(t)
	app.account("acme", db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	form := validKeyForm("Website", db.DigitalRequests)
	for name, token := range map[string]string{"missing": "", "wrong": "not-the-token"} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if token != "" {
			f.Set("_csrf", token)
		}
		if res := b.do("POST", "/settings/integrations/keys", f, nil); res.status != http.StatusForbidden {
			t.Errorf("%s token: status %d, want 403", name, res.status)
		}
	}
	// The header htmx sends works as well as the form field.
	token := b.csrf("/settings/integrations")
	res := b.do("POST", "/settings/integrations/keys", form, map[string]string{"X-CSRF-Token": token, "HX-Request": "true"})
	if res.status != http.StatusCreated {
		t.Fatalf("with header token: status %d", res.status)
	}
	// Signing in again starts a new session: the old token no longer works.
	b.login("admin@acme.test")
	if res := b.do("POST", "/settings/integrations/keys", form, map[string]string{"X-CSRF-Token": token}); res.status != http.StatusForbidden ||
		res.header.Get("KD-CSRF-Token") != "" {
		t.Errorf("stale token after a new sign-in: status %d, renewed token %q", res.status, res.header.Get("KD-CSRF-Token"))
	}
	// From htmx (a page made before the new sign-in) the refusal hands over
	// the session's current token, so the form can be sent again unreloaded.
	res = b.do("POST", "/settings/integrations/keys", form, map[string]string{"X-CSRF-Token": token, "HX-Request": "true"})
	if current := b.csrf("/settings/integrations"); res.status != http.StatusForbidden || res.header.Get("KD-CSRF-Token") != current {
		t.Errorf("stale token from htmx: status %d, renewed %q, want the current token", res.status, res.header.Get("KD-CSRF-Token"))
	}
	// Nobody signed in gets no token that way.
	if res := app.browser().do("POST", "/settings/integrations/keys", form, map[string]string{"X-CSRF-Token": token, "HX-Request": "true"}); res.header.Get("KD-CSRF-Token") != "" {
		t.Errorf("anonymous: renewed token %q", res.header.Get("KD-CSRF-Token"))
	}
	ks, _ := app.db.APIKeys(context.Background(), 1, db.DigitalRequests)
	if len(ks) != 1 {
		t.Errorf("%d keys stored, want 1", len(ks))
	}
}

func TestCreateKeyValidation(t *testing.T) {
	app := newTestApp(t)
	acc, admin, _ := app.account("acme", db.LicenseLeads)
	app.key(acc, admin, "Taken", db.Integration, keys.Live, db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	cases := []struct {
		name   string
		change func(url.Values)
		field  string
		phrase string
	}{
		{"empty name", func(f url.Values) { f.Set("name", "  ") }, "name", "Give the key a name"},
		{"long name", func(f url.Values) { f.Set("name", strings.Repeat("x", 65)) }, "name", "64 characters or fewer"},
		{"duplicate name", func(f url.Values) { f.Set("name", "taken") }, "name", "already called"},
		{"no license", func(f url.Values) { f.Del("licenses") }, "licenses", "at least one license"},
		{"license not held", func(f url.Values) { f.Set("licenses", "capture") }, "licenses", "does not hold"},
		{"http redirect", func(f url.Values) { f.Set("redirect_url", "http://dealer.example/x") }, "redirect_url", "https://"},
		{"malformed redirect", func(f url.Values) { f.Set("redirect_url", "dealer dot com") }, "redirect_url", "full address"},
		{"long sms", func(f url.Values) { f.Set("capture_sms", strings.Repeat("a", 321)) }, "capture_sms", "320 characters"},
		{"unknown placeholder", func(f url.Values) { f.Set("results_sms", "Hi {name}") }, "results_sms", "{name} is not a placeholder"},
		{"expiry off the list", func(f url.Values) { f.Set("session_expiry", "5h") }, "session_expiry", "listed times"},
		{"tampered theme", func(f url.Values) { f.Set("theme", "dark") }, "theme", "Lite or Pro"},
		{"tampered mode", func(f url.Values) { f.Set("live", "maybe") }, "live", "on or off"},
		{"tampered type", func(f url.Values) { f.Set("type", "admin") }, "form", "type was not recognised"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := validKeyForm("Website form", db.Integration)
			tc.change(f)
			res := b.post("/settings/integrations", "/settings/integrations/keys", f)
			if res.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", res.status)
			}
			if !strings.Contains(res.body, tc.phrase) {
				t.Errorf("body does not say %q", tc.phrase)
			}
			if tc.field != "form" && !strings.Contains(res.body, `data-testid="error-`+tc.field+`"`) {
				t.Errorf("no error next to field %s", tc.field)
			}
			if !strings.Contains(res.body, "dealer.example/thanks") && tc.field != "redirect_url" {
				t.Errorf("typed redirect URL was lost")
			}
		})
	}
	for _, typ := range []db.KeyType{db.DigitalRequests, db.Integration} {
		ks, _ := app.db.APIKeys(context.Background(), acc.ID, typ)
		want := map[db.KeyType]int{db.Integration: 1}[typ]
		if len(ks) != want {
			t.Errorf("%s: %d keys stored, want %d (bad forms must store nothing)", typ, len(ks), want)
		}
	}
}

func TestKeyLifecycle(t *testing.T) {
	app := newTestApp(t)
	acc, _, _ := app.account("acme", db.LicenseLeads, db.LicenseCapture)
	b := app.browser().login("admin@acme.test")

	res := b.shownOnce(b.post("/settings/integrations", "/settings/integrations/keys", validKeyForm("Main Website Lead Form", db.DigitalRequests)))
	public, secret := newKeyRe.FindStringSubmatch(res.body), newSecretRe.FindStringSubmatch(res.body)
	if public == nil || secret == nil {
		t.Fatal("the new key and secret are not shown")
	}
	if _, err := keys.ParseAPIKey(public[1]); err != nil {
		t.Errorf("shown API key %q: %v", public[1], err)
	}
	if m, err := keys.ParseSecret(secret[1]); err != nil || m != keys.Live {
		t.Errorf("shown secret: mode %q, %v", m, err)
	}
	if got := res.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control on the secret page = %q", got)
	}

	page := b.get("/settings/integrations").body
	if strings.Contains(page, secret[1]) {
		t.Fatal("the secret is shown in the list without a reveal")
	}
	k, err := app.db.APIKeyByPublic(context.Background(), public[1])
	if err != nil {
		t.Fatal(err)
	}
	keyPage := b.get(fmt.Sprintf("/settings/integrations/keys/%d", k.ID)).body
	if strings.Contains(keyPage, secret[1]) || !strings.Contains(keyPage, "••••"+secret[1][len(secret[1])-4:]) {
		t.Error("the key's page does not show the secret masked")
	}
	if k.Settings.Theme != "pro" || !k.Settings.SkipOdometer || k.Settings.SessionExpiry != 48*time.Hour {
		t.Errorf("settings not stored as submitted: %+v", k.Settings)
	}

	// htmx reveal returns the secret fragment and writes the audit log.
	token := b.csrf("/settings/integrations")
	res = b.do("POST", fmt.Sprintf("/keys/%d/reveal", k.ID), url.Values{}, map[string]string{"X-CSRF-Token": token, "HX-Request": "true"})
	if res.status != http.StatusOK || !strings.Contains(res.body, secret[1]) {
		t.Fatalf("reveal: status %d", res.status)
	}
	// Without JavaScript the secret is a page of its own, never cached, its
	// navigation where an admin's key pages live.
	res = b.post("/settings/integrations", fmt.Sprintf("/keys/%d/reveal", k.ID), nil)
	if res.status != http.StatusOK || !strings.Contains(res.body, secret[1]) || res.header.Get("Cache-Control") != "no-store" ||
		!strings.Contains(res.body, `href="/settings/integrations" class="active"`) {
		t.Errorf("reveal page: status %d, Cache-Control %q, or not under Settings › Integrations", res.status, res.header.Get("Cache-Control"))
	}

	// Edit keeps the type and mode; renaming works.
	edit := validKeyForm("Website form (new)", db.DigitalRequests)
	edit.Del("type")
	edit.Set("theme", "lite")
	if res = b.post("/settings/integrations", fmt.Sprintf("/settings/integrations/keys/%d", k.ID), edit); res.status != http.StatusSeeOther {
		t.Fatalf("edit: status %d: %s", res.status, res.body)
	}
	edited, _ := app.db.APIKey(context.Background(), acc.ID, k.ID)
	if edited.Name != "Website form (new)" || edited.Settings.Theme != "lite" || edited.Mode != keys.Live {
		t.Errorf("after edit: %+v", edited)
	}

	// Revoke through the confirmation page.
	if res = b.get(fmt.Sprintf("/settings/integrations/keys/%d/revoke", k.ID)); !strings.Contains(res.body, "cannot be undone") {
		t.Fatal("no revoke confirmation")
	}
	if res = b.post("/settings/integrations", fmt.Sprintf("/settings/integrations/keys/%d/revoke", k.ID), nil); res.status != http.StatusSeeOther {
		t.Fatalf("revoke: status %d", res.status)
	}
	revoked, _ := app.db.APIKey(context.Background(), acc.ID, k.ID)
	if !revoked.Revoked() || revoked.RevokedByEmail != "admin@acme.test" {
		t.Errorf("after revoke: %+v", revoked)
	}
	if !strings.Contains(b.get("/settings/integrations").body, "Revoked") {
		t.Error("the list does not show the key as revoked")
	}

	audit := b.get("/settings/audit").body
	for _, sentence := range []string{"Created a key: Digital requests, live", "Revealed the secret", "Revoked the key"} {
		if !strings.Contains(audit, sentence) {
			t.Errorf("audit log has no %q entry", sentence)
		}
	}
	if !strings.Contains(html.UnescapeString(audit), "Renamed from “Main Website Lead Form” to") ||
		!strings.Contains(html.UnescapeString(audit), "Theme “pro” → “lite”") {
		t.Error("the edit entry does not say what changed")
	}
	if !strings.Contains(audit, "127.0.0.1") {
		t.Error("audit log does not show the address")
	}
}

func TestAccountsAndRolesAreEnforcedOnTheServer(t *testing.T) {
	app := newTestApp(t)
	acme, acmeAdmin, _ := app.account("acme", db.LicenseLeads)
	other, otherAdmin, _ := app.account("other", db.LicenseLeads)
	mine, _ := app.key(acme, acmeAdmin, "Mine", db.Integration, keys.Live, db.LicenseLeads)
	theirs, _ := app.key(other, otherAdmin, "Theirs", db.Integration, keys.Live, db.LicenseLeads)

	admin := app.browser().login("admin@acme.test")
	dealer := app.browser().login("dealer@acme.test")
	edit := validKeyForm("Renamed", db.Integration)
	edit.Del("type")
	cases := []struct {
		name   string
		as     *browser
		method string
		path   string
		form   url.Values
		want   int
	}{
		{"foreign key edit form", admin, "GET", fmt.Sprintf("/settings/integrations/keys/%d/edit", theirs.ID), nil, 404},
		{"foreign key update", admin, "POST", fmt.Sprintf("/settings/integrations/keys/%d", theirs.ID), edit, 404},
		{"foreign key revoke", admin, "POST", fmt.Sprintf("/settings/integrations/keys/%d/revoke", theirs.ID), url.Values{}, 404},
		{"foreign key reveal", admin, "POST", fmt.Sprintf("/keys/%d/reveal", theirs.ID), url.Values{}, 404},
		{"missing key reveal", admin, "POST", "/keys/99999/reveal", url.Values{}, 404},
		{"non-numeric id", admin, "GET", "/settings/integrations/keys/abc/edit", nil, 404},
		{"dealer create", dealer, "POST", "/settings/integrations/keys", validKeyForm("X", db.Integration), 403},
		{"dealer update", dealer, "POST", fmt.Sprintf("/settings/integrations/keys/%d", mine.ID), edit, 403},
		{"dealer revoke", dealer, "POST", fmt.Sprintf("/settings/integrations/keys/%d/revoke", mine.ID), url.Values{}, 403},
		{"dealer reveal own key", dealer, "POST", fmt.Sprintf("/keys/%d/reveal", mine.ID), url.Values{}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var res response
			if tc.method == "GET" {
				res = tc.as.get(tc.path)
			} else {
				res = tc.as.post("/keys", tc.path, tc.form)
			}
			if res.status != tc.want {
				t.Fatalf("%s %s = %d, want %d", tc.method, tc.path, res.status, tc.want)
			}
		})
	}
	ctx := context.Background()
	for _, k := range []db.APIKey{mine, theirs} {
		got, _ := app.db.APIKey(ctx, k.AccountID, k.ID)
		if got.Name != k.Name || got.Revoked() {
			t.Errorf("key %s changed: name %q, revoked %v", k.Name, got.Name, got.Revoked())
		}
	}
	for _, path := range []string{"/keys", fmt.Sprintf("/keys/%d", mine.ID)} {
		page := dealer.get(path).body
		for _, control := range []string{"Create New Key", `data-testid="edit"`, `data-testid="roll"`, `data-testid="revoke"`, `data-testid="activity"`} {
			if strings.Contains(page, control) {
				t.Errorf("the dealer's %s shows %s", path, control)
			}
		}
	}
}

func TestDisabledUserAndRoleChangeApplyAtOnce(t *testing.T) {
	app := newTestApp(t)
	_, admin, _ := app.account("acme", db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	ctx := context.Background()
	if err := app.db.SetUserRole(ctx, admin.ID, db.RoleDealer); err != nil {
		t.Fatal(err)
	}
	if res := b.get("/settings/integrations"); res.status != http.StatusForbidden {
		t.Fatalf("after demotion: %d, want 403", res.status)
	}
	if err := app.db.SetUserDisabled(ctx, admin.ID, true); err != nil {
		t.Fatal(err)
	}
	if res := b.get("/keys"); res.status != http.StatusSeeOther {
		t.Fatalf("after disabling: %d, want a redirect to sign-in", res.status)
	}
}

func TestIdleSessionExpiresAndReturnsToThePage(t *testing.T) {
	app := newTestApp(t)
	app.account("acme", db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	app.clock.Advance(31 * time.Minute)
	res := b.get("/settings/audit?page=1")
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/login?next=%2Fsettings%2Faudit%3Fpage%3D1" {
		t.Fatalf("expired session: %d to %q", res.status, res.header.Get("Location"))
	}
	res = b.post("/login?next=%2Fsettings%2Faudit%3Fpage%3D1", "/login", url.Values{
		"email": {"admin@acme.test"}, "password": {testPassword}, "next": {"/settings/audit?page=1"}})
	if res.header.Get("Location") != "/settings/audit?page=1" {
		t.Fatalf("after sign-in: to %q", res.header.Get("Location"))
	}
	// An outside address is never followed.
	res = b.post("/login", "/login", url.Values{"email": {"admin@acme.test"}, "password": {testPassword}, "next": {"//evil.example/"}})
	if res.header.Get("Location") != "/" {
		t.Errorf("next=//evil.example/ redirected to %q", res.header.Get("Location"))
	}
}

func TestSignOutEndsTheSessionOnTheServer(t *testing.T) {
	app := newTestApp(t)
	app.account("acme", db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	// Keep a copy of the signed-in cookie, as a thief would.
	u, _ := url.Parse(app.srv.URL)
	stolen := b.client.Jar.Cookies(u)
	if res := b.post("/settings/integrations", "/logout", nil); res.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.status)
	}
	thief := app.browser()
	thief.client.Jar.SetCookies(u, stolen)
	if res := thief.get("/settings/integrations"); res.status != http.StatusSeeOther {
		t.Fatalf("old cookie after sign-out: %d, want a redirect to sign-in", res.status)
	}
}

func TestOversizedFormIs413AndStoresNothing(t *testing.T) {
	app := newTestApp(t)
	acc, _, _ := app.account("acme", db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	f := validKeyForm("Big", db.Integration)
	f.Set("capture_sms", strings.Repeat("x", 2<<20))
	if res := b.post("/settings/integrations", "/settings/integrations/keys", f); res.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", res.status)
	}
	if ks, _ := app.db.APIKeys(context.Background(), acc.ID, db.Integration); len(ks) != 0 {
		t.Fatal("a key was stored")
	}
}

func TestSecurityHeaders(t *testing.T) {
	app := newTestApp(t)
	res := app.browser().get("/login")
	for header, want := range map[string]string{
		"Content-Security-Policy":    "frame-ancestors 'none'",
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Referrer-Policy":            "no-referrer",
		"Cross-Origin-Opener-Policy": "same-origin",
	} {
		if !strings.Contains(res.header.Get(header), want) {
			t.Errorf("%s = %q, want it to contain %q", header, res.header.Get(header), want)
		}
	}
	if csp := res.header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %s", csp)
	}
	cookie := res.header.Get("Set-Cookie")
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
		t.Errorf("session cookie flags: %s", cookie)
	}
}

// An API answer is JSON, never a document: it loads and frames nothing and
// carries no document-only header; a token answer is never cached.
func TestAPISecurityHeaders(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	answers := map[string]response{
		"token": app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
			map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)}),
		"refused token": app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials", nil),
		"bearer":        app.call("GET", "/api/v1/key", "", "", bearer(app.token(f.rw.PublicKey, f.rwSecret))),
		"not found":     app.call("GET", "/api/v1/nothing-here", "", "", nil),
	}
	for name, res := range answers {
		for header, want := range map[string]string{
			"Content-Security-Policy":    "default-src 'none'; frame-ancestors 'none'",
			"X-Content-Type-Options":     "nosniff",
			"X-Frame-Options":            "DENY",
			"Referrer-Policy":            "",
			"Cross-Origin-Opener-Policy": "",
		} {
			if got := res.header.Get(header); got != want {
				t.Errorf("%s: %s = %q, want %q", name, header, got, want)
			}
		}
	}
	for _, name := range []string{"token", "refused token"} {
		if got := answers[name].header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", name, got)
		}
	}
}

func TestSecretsNeverInPlainText(t *testing.T) {
	app := newTestApp(t)
	app.account("acme", db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	res := b.shownOnce(b.post("/settings/integrations", "/settings/integrations/keys", validKeyForm("Website", db.DigitalRequests)))
	secret := newSecretRe.FindStringSubmatch(res.body)
	if secret == nil {
		t.Fatal("no secret shown")
	}
	k, _ := app.db.APIKeys(context.Background(), 1, db.DigitalRequests)
	b.post("/keys", fmt.Sprintf("/keys/%d/reveal", k[0].ID), nil)
	app.db.Close() // checkpoint the WAL into the file
	raw, err := os.ReadFile(app.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(app.dbPath + "-wal")
	body := secret[1][len("kds_live_"):]
	if bytes.Contains(raw, []byte(body)) || bytes.Contains(wal, []byte(body)) {
		t.Error("the secret is in the database file in plain text")
	}
	if strings.Contains(app.logs.String(), body) {
		t.Error("the secret is in the logs")
	}
	for _, c := range b.client.Jar.Cookies(mustURL(app.srv.URL)) {
		if strings.Contains(c.Value, body) {
			t.Error("the secret is in a cookie")
		}
	}
}

// shownOnce follows a create or roll without JavaScript to the page that
// shows the new secret once, and checks that a reload does not show it again.
func (b *browser) shownOnce(res response) response {
	b.app.t.Helper()
	to := res.header.Get("Location")
	if res.status != http.StatusSeeOther || !strings.HasSuffix(to, "/created") {
		b.app.t.Fatalf("create: status %d to %q, want a redirect to the created page: %s", res.status, to, res.body)
	}
	shown := b.get(to)
	if shown.status != http.StatusOK || !newSecretRe.MatchString(shown.body) {
		b.app.t.Fatalf("created page: status %d without the secret", shown.status)
	}
	again := b.get(to)
	if again.status != http.StatusSeeOther || newSecretRe.MatchString(again.body) {
		b.app.t.Fatalf("reloaded created page: status %d; it must not show the secret again", again.status)
	}
	if page := b.get(again.header.Get("Location")).body; !strings.Contains(page, "shown once") ||
		strings.Contains(page, newSecretRe.FindStringSubmatch(shown.body)[1]) {
		b.app.t.Fatal("the key's page after a reload does not say the secret was shown once, or shows it")
	}
	return shown
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestExpiredSessionWithHTMXKeepsTheForm(t *testing.T) {
	app := newTestApp(t)
	app.account("acme", db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	token := b.csrf("/settings/integrations")
	app.clock.Advance(31 * time.Minute)
	htmx := map[string]string{"HX-Request": "true", "X-CSRF-Token": token,
		"HX-Current-URL": app.srv.URL + "/settings/integrations?x=1"}

	res := b.do("POST", "/settings/integrations/keys", validKeyForm("Website", db.DigitalRequests), htmx)
	if res.status != http.StatusUnauthorized || res.header.Get("HX-Redirect") != "" ||
		!strings.Contains(res.header.Get("HX-Trigger"), "what you typed is still here") {
		t.Errorf("htmx POST after expiry: %d, HX-Redirect %q, HX-Trigger %q",
			res.status, res.header.Get("HX-Redirect"), res.header.Get("HX-Trigger"))
	}
	res = b.do("GET", "/settings/integrations/keys/new?type=integration", nil, htmx)
	if want := "/login?next=%2Fsettings%2Fintegrations%3Fx%3D1"; res.header.Get("HX-Redirect") != want {
		t.Errorf("htmx GET after expiry: HX-Redirect %q, want %q", res.header.Get("HX-Redirect"), want)
	}
}

func TestSecureCookieOnlyOverHTTPS(t *testing.T) {
	app := newTestApp(t)
	// Without KEYDESK_BEHIND_PROXY a forwarded scheme is not believed.
	res := app.browser().do("GET", "/login", nil, map[string]string{"X-Forwarded-Proto": "https"})
	if cookie := res.header.Get("Set-Cookie"); strings.Contains(cookie, "Secure") {
		t.Errorf("plain HTTP with a forged X-Forwarded-Proto got a Secure cookie: %s", cookie)
	}
	if res.header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}
}

func TestRollReplacesThePairAndEndsTheOld(t *testing.T) {
	app := newTestApp(t)
	acc, admin, _ := app.account("acme", db.LicenseLeads)
	other, otherAdmin, _ := app.account("other", db.LicenseLeads)
	k, secret := app.key(acc, admin, "DMS Sync", db.Integration, keys.Live, db.LicenseLeads)
	theirs, _ := app.key(other, otherAdmin, "Theirs", db.Integration, keys.Live, db.LicenseLeads)
	oldToken := app.token(k.PublicKey, secret)
	b := app.browser().login("admin@acme.test")
	dealer := app.browser().login("dealer@acme.test")

	for _, tc := range []struct {
		name string
		as   *browser
		id   int64
		want int
	}{
		{"dealer", dealer, k.ID, http.StatusForbidden},
		{"another account's key", b, theirs.ID, http.StatusNotFound},
	} {
		if res := tc.as.post("/keys", fmt.Sprintf("/settings/integrations/keys/%d/roll", tc.id), nil); res.status != tc.want {
			t.Errorf("%s: roll = %d, want %d", tc.name, res.status, tc.want)
		}
	}

	if res := b.get(fmt.Sprintf("/settings/integrations/keys/%d/roll", k.ID)); !strings.Contains(res.body, "same name, licenses and settings") {
		t.Fatal("no roll confirmation")
	}
	res := b.shownOnce(b.post("/settings/integrations", fmt.Sprintf("/settings/integrations/keys/%d/roll", k.ID), nil))
	public, newSecret := newKeyRe.FindStringSubmatch(res.body), newSecretRe.FindStringSubmatch(res.body)
	if public == nil || newSecret == nil || public[1] == k.PublicKey || newSecret[1] == secret {
		t.Fatal("the roll does not show a new pair")
	}
	ctx := context.Background()
	old, _ := app.db.APIKey(ctx, acc.ID, k.ID)
	if !old.Revoked() {
		t.Error("the old key is not revoked")
	}
	rolled, err := app.db.APIKeyByPublic(ctx, public[1])
	if err != nil || rolled.Name != "DMS Sync" || rolled.Type != db.Integration || rolled.Mode != keys.Live ||
		rolled.Settings != k.Settings || rolled.Revoked() {
		t.Fatalf("rolled key %+v, %v", rolled, err)
	}
	if r := app.call("GET", "/api/v1/key", "", "", bearer(oldToken)); r.status != http.StatusUnauthorized {
		t.Errorf("the old pair's token: %d, want 401", r.status)
	}
	if r := app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
		map[string]string{"Authorization": basic(k.PublicKey, secret)}); r.status != http.StatusUnauthorized {
		t.Errorf("a token for the old pair: %d, want 401", r.status)
	}
	app.token(public[1], newSecret[1])
	if res := b.post("/settings/integrations", fmt.Sprintf("/settings/integrations/keys/%d/roll", k.ID), nil); res.status != http.StatusConflict {
		t.Errorf("rolling the revoked pair again: %d, want 409", res.status)
	}
	if audit := b.get("/settings/audit").body; !strings.Contains(audit, "Rolled the key: replaced "+k.PublicKey) || !strings.Contains(audit, "Created by rolling "+k.PublicKey) {
		t.Error("the audit log does not record the roll")
	}
}
