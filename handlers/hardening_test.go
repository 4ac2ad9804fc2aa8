package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keydesk/db"
	"keydesk/keys"
)

// TestCSRFTokenNeverFromTheQuery: a token in the URL is ignored, whatever
// the method's body holds; the form body and the header still count.
func TestCSRFTokenNeverFromTheQuery(t *testing.T) {
	app := newTestApp(t)
	acc, admin, _ := app.account("acme", db.LicenseLeads)
	k, secret := app.key(acc, admin, "Website", db.Integration, keys.Live, db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	token := b.csrf("/keys")
	reveal := fmt.Sprintf("/keys/%d/reveal", k.ID)

	refused := []struct {
		name   string
		path   string
		form   url.Values
		header map[string]string
	}{
		{"query, no body", reveal + "?_csrf=" + url.QueryEscape(token), nil, nil},
		{"query, empty form", reveal + "?_csrf=" + url.QueryEscape(token), url.Values{}, nil},
		{"query, htmx", reveal + "?_csrf=" + url.QueryEscape(token), nil, map[string]string{"HX-Request": "true"}},
		{"query, wrong body", reveal + "?_csrf=" + url.QueryEscape(token), url.Values{"_csrf": {"wrong"}}, nil},
	}
	for _, r := range refused {
		res := b.do("POST", r.path, r.form, r.header)
		if res.status != http.StatusForbidden || strings.Contains(res.body, secret) {
			t.Errorf("%s: status %d, want 403 without the secret", r.name, res.status)
		}
	}
	if res := b.do("POST", reveal, url.Values{"_csrf": {token}}, nil); res.status != http.StatusOK || !strings.Contains(res.body, secret) {
		t.Errorf("token in the form body: status %d", res.status)
	}
	if res := b.do("POST", reveal, nil, map[string]string{"X-CSRF-Token": token}); res.status != http.StatusOK {
		t.Errorf("token in the header: status %d", res.status)
	}
}

// TestCrossOriginPostsAreRefused: with a valid session and CSRF token, a
// browser request another site sent is still refused; same-origin ones and
// the API (which takes no cookie) are not.
func TestCrossOriginPostsAreRefused(t *testing.T) {
	app := newTestApp(t)
	acc, admin, _ := app.account("acme", db.LicenseLeads)
	k, secret := app.key(acc, admin, "Website", db.Integration, keys.Live, db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	reveal := fmt.Sprintf("/keys/%d/reveal", k.ID)

	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"Sec-Fetch-Site same-site", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"foreign Origin, no Sec-Fetch-Site", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"Sec-Fetch-Site same-origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusOK},
		{"own Origin", map[string]string{"Origin": app.srv.URL}, http.StatusOK},
		{"Sec-Fetch-Site none (typed by the user)", map[string]string{"Sec-Fetch-Site": "none"}, http.StatusOK},
		{"neither header (not a browser)", nil, http.StatusOK},
	}
	for _, tt := range tests {
		res := b.do("POST", reveal, url.Values{"_csrf": {b.csrf("/keys")}}, tt.header)
		if res.status != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, res.status, tt.want)
		}
		if tt.want == http.StatusForbidden && strings.Contains(res.body, secret) {
			t.Errorf("%s: refused, yet the secret is in the answer", tt.name)
		}
	}
	// Sign-out and sign-in are dashboard forms too.
	res := b.do("POST", "/logout", url.Values{"_csrf": {b.csrf("/keys")}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if res.status != http.StatusForbidden {
		t.Errorf("cross-site sign-out: status %d, want 403", res.status)
	}
	// The API is not behind the check: a browser may call it from another site.
	res = app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
		map[string]string{"Authorization": basic(k.PublicKey, secret), "Sec-Fetch-Site": "cross-site", "Origin": "https://crm.example"})
	if res.status != http.StatusOK {
		t.Errorf("cross-site token request: status %d, want 200", res.status)
	}
}

// TestAbsoluteLinksIgnoreTheHostHeader: the link a capture session sends out
// and the docs' examples start with the public URL, whatever Host a request
// (or an attacker in front of a proxy) names.
func TestAbsoluteLinksIgnoreTheHostHeader(t *testing.T) {
	app := newTestApp(t)
	f := app.captureFixture("acme")
	forged := map[string]string{"Host": "evil.example"}
	for k, v := range f.writeAuth {
		forged[k] = v
	}
	s := createCapture(app, forged, goodCapture)
	want := app.srv.URL + "/capture/" + s.ID
	if s.CaptureURL != want || !strings.HasSuffix(s.CaptureSMS, want) {
		t.Errorf("capture_url %q, capture_sms %q; want both to use %s", s.CaptureURL, s.CaptureSMS, want)
	}

	b := app.browser().login("admin@acme.test")
	// The client's cookie jar goes by the Host named, so the session cookie is sent by hand.
	var cookies []string
	for _, c := range b.client.Jar.Cookies(mustURL(app.srv.URL)) {
		cookies = append(cookies, c.String())
	}
	res := b.do("GET", "/docs", nil, map[string]string{"Host": "evil.example", "X-Forwarded-Host": "evil.example",
		"Cookie": strings.Join(cookies, "; ")})
	if res.status != http.StatusOK {
		t.Fatalf("docs: %d", res.status)
	}
	if strings.Contains(res.body, "evil.example") || !strings.Contains(res.body, app.srv.URL) {
		t.Error("the docs' examples do not use the public URL")
	}
}

func TestKeyNameRefusesInvisibleCharacters(t *testing.T) {
	app := newTestApp(t)
	acc, _, _ := app.account("acme", db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	for _, name := range []string{"Website\u200bform", "\u202eWebsite", "Web\u2066site\u2069", "\ufeffWebsite", "Web\u200dsite"} {
		f := validKeyForm(name, db.Integration)
		res := b.post("/settings/integrations", "/settings/integrations/keys", f)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `data-testid="error-name"`) ||
			!strings.Contains(res.body, "The name contains an invisible or text-direction character") {
			t.Errorf("name %q: status %d, want 422 with the reason next to the name", name, res.status)
		}
	}
	k := app.user(acc, "other@acme.test", db.RoleAdmin) // an edit is checked the same way
	existing, _ := app.key(acc, k, "Website form", db.Integration, keys.Live, db.LicenseLeads)
	edit := validKeyForm("Website\u200bform", db.Integration)
	edit.Del("type")
	res := b.post("/settings/integrations", fmt.Sprintf("/settings/integrations/keys/%d", existing.ID), edit)
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "U+200B") {
		t.Errorf("edit to a name with U+200B: status %d", res.status)
	}
	for _, typ := range []db.KeyType{db.DigitalRequests, db.Integration} {
		ks, _ := app.db.APIKeys(t.Context(), acc.ID, typ)
		for _, k := range ks {
			if k.Name != "Website form" {
				t.Errorf("stored a key named %q", k.Name)
			}
		}
	}
}
