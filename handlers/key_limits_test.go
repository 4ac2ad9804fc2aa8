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
)

// editKey posts the Edit settings form of k with the given settings over
// its defaults, and returns the answer.
func editKey(t *testing.T, b *browser, k db.APIKey, set url.Values) response {
	t.Helper()
	form := url.Values{"name": {k.Name}, "licenses": k.Licenses, "live": {"on"}, "theme": {"lite"},
		"session_expiry": {"24h"}, "expires": {"never"}}
	for name, v := range set {
		form[name] = v
	}
	return b.post(fmt.Sprintf("/settings/integrations/keys/%d/edit", k.ID), fmt.Sprintf("/settings/integrations/keys/%d", k.ID), form)
}

func mustEditKey(t *testing.T, b *browser, k db.APIKey, set url.Values) {
	t.Helper()
	if res := editKey(t, b, k, set); res.status >= 400 {
		t.Fatalf("edit %v: %d %s", set, res.status, res.body)
	}
}

func TestIPAllowlistEnforced(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	b := app.browser().login("admin@acme.test")
	token := app.token(f.rw.PublicKey, f.rwSecret)
	mustEditKey(t, b, f.rw, url.Values{"ip_mode": {"enforce"}, "ip_allow": {"203.0.113.0/24\n2001:db8::/32"}})

	calls := map[string]func() response{
		"token": func() response {
			return app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
				map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)})
		},
		"bearer": func() response { return app.call("GET", "/api/v1/key", "", "", bearer(token)) },
		"signed": func() response {
			return app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now()))
		},
	}
	for name, call := range calls {
		r := call()
		expectError(t, r, http.StatusForbidden, "ip_not_allowed")
		if _, desc := apiError(t, r); !strings.Contains(desc, "127.0.0.1 is not one of them") {
			t.Errorf("%s: the refusal does not name the caller's address: %q", name, desc)
		}
	}
	// Another key of the account is not affected.
	if r := app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.write.PublicKey, f.writeSecret, app.clock.Now())); r.status != http.StatusOK {
		t.Errorf("another key: %d", r.status)
	}
	// With the caller's address on the list, every way in works again.
	mustEditKey(t, b, f.rw, url.Values{"ip_mode": {"enforce"}, "ip_allow": {"203.0.113.0/24\n127.0.0.1"}})
	for name, call := range calls {
		if r := call(); r.status != http.StatusOK {
			t.Errorf("%s from an allowed address: %d %s", name, r.status, r.body)
		}
	}
	page := b.get(fmt.Sprintf("/settings/integrations/keys/%d", f.rw.ID))
	if !strings.Contains(page.body, "Enforce: calls from other addresses are refused") || !strings.Contains(page.body, "203.0.113.0/24") {
		t.Errorf("the key page does not show the allowlist")
	}
}

func TestIPAllowlistReportOnly(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	b := app.browser().login("admin@acme.test")
	mustEditKey(t, b, f.rw, url.Values{"ip_mode": {"report"}, "ip_allow": {"203.0.113.7"}})
	keyPage := fmt.Sprintf("/settings/integrations/keys/%d", f.rw.ID)
	if page := b.get(keyPage); !strings.Contains(page.body, `data-testid="ip-reports"`) || strings.Contains(page.body, "127.0.0.1") {
		t.Fatalf("before any call the key page should list no address")
	}
	token := app.token(f.rw.PublicKey, f.rwSecret)
	for range 2 {
		if r := app.call("GET", "/api/v1/key", "", "", bearer(token)); r.status != http.StatusOK {
			t.Fatalf("Report only refused a call: %d %s", r.status, r.body)
		}
	}
	// Recorded off the request's path, written with the last-used times.
	if err := app.db.FlushLastUsed(context.Background()); err != nil {
		t.Fatal(err)
	}
	reports, err := app.db.IPReports(context.Background(), f.acc.ID, f.rw.ID, app.clock.Now().Add(-time.Minute))
	if err != nil || len(reports) != 1 || reports[0].Addr != "127.0.0.1" || reports[0].Count != 3 {
		t.Fatalf("reports = %+v, %v; want 127.0.0.1 three times (token and two calls)", reports, err)
	}
	page := b.get(keyPage)
	if !strings.Contains(page.body, "seen outside the list in the last 7 days") || !strings.Contains(page.body, "<code class=\"mono\">127.0.0.1</code>") {
		t.Errorf("the key page does not list the address seen outside the list")
	}
	// A week later the address is no longer listed.
	app.clock.Advance(8 * 24 * time.Hour)
	if page := b.get(keyPage); strings.Contains(page.body, "127.0.0.1") {
		t.Errorf("an address last seen 8 days ago is still listed")
	}
}

func TestTrustedProxies(t *testing.T) {
	direct, proxied := newTestApp(t), newTestAppTrusting(t, "127.0.0.1/32")
	fixtures := map[*testApp]apiFixture{}
	for _, app := range []*testApp{direct, proxied} {
		f := app.apiFixture("acme")
		mustEditKey(t, app.browser().login("admin@acme.test"), f.rw, url.Values{"ip_mode": {"enforce"}, "ip_allow": {"203.0.113.7"}})
		fixtures[app] = f
	}
	for _, tt := range []struct {
		name  string
		app   *testApp
		xff   string
		named string // the address the refusal names; "" when allowed
	}{
		{"no proxy trusted: a forged X-Forwarded-For is ignored", direct, "203.0.113.7", "127.0.0.1"},
		{"no proxy trusted, no header", direct, "", "127.0.0.1"},
		{"trusted proxy, allowed client", proxied, "203.0.113.7", ""},
		{"trusted proxy, client spoofing further left", proxied, "203.0.113.7, 198.51.100.9", "198.51.100.9"},
		{"trusted proxy, other client", proxied, "198.51.100.9", "198.51.100.9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := fixtures[tt.app]
			h := signedHeaders("acme", f.rw.PublicKey, f.rwSecret, tt.app.clock.Now())
			if tt.xff != "" {
				h["X-Forwarded-For"] = tt.xff
			}
			r := tt.app.call("GET", "/api/v1/key", "", "", h)
			if tt.named == "" {
				if r.status != http.StatusOK {
					t.Fatalf("%d %s", r.status, r.body)
				}
				return
			}
			expectError(t, r, http.StatusForbidden, "ip_not_allowed")
			if _, desc := apiError(t, r); !strings.Contains(desc, " "+tt.named+" is not one of them") {
				t.Errorf("refusal names the wrong address: %q, want %s", desc, tt.named)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	b := app.browser().login("admin@acme.test")
	mustEditKey(t, b, f.rw, url.Values{"rate_limit": {"3"}})
	app.clock.Advance(48 * time.Second) // 12:00:48
	call := func() response {
		return app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now()))
	}
	for i := range 3 {
		if r := call(); r.status != http.StatusOK {
			t.Fatalf("call %d under the limit: %d %s", i+1, r.status, r.body)
		}
	}
	r := call()
	expectError(t, r, http.StatusTooManyRequests, "rate_limited")
	for name, want := range map[string]string{"Retry-After": "12", "RateLimit-Policy": `"minute";q=3;w=60`, "RateLimit": `"minute";r=0;t=12`} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// The token endpoint counts against the same limit.
	expectError(t, app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
		map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)}), http.StatusTooManyRequests, "rate_limited")
	// Other keys have their own limits.
	if r := app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.write.PublicKey, f.writeSecret, app.clock.Now())); r.status != http.StatusOK {
		t.Errorf("another key: %d", r.status)
	}
	app.clock.Advance(10 * time.Second)
	if r := call(); r.header.Get("RateLimit") != `"minute";r=0;t=2` {
		t.Errorf("10 s later: %d, RateLimit %q", r.status, r.header.Get("RateLimit"))
	}
	app.clock.Advance(2 * time.Second) // the next minute
	if r := call(); r.status != http.StatusOK {
		t.Fatalf("in the next minute: %d %s", r.status, r.body)
	}
	// Removing the limit lifts it at once.
	mustEditKey(t, b, f.rw, url.Values{"rate_limit": {""}})
	for range 5 {
		if r := call(); r.status != http.StatusOK {
			t.Fatalf("without a limit: %d", r.status)
		}
	}
	if page := b.get(fmt.Sprintf("/settings/integrations/keys/%d", f.rw.ID)); !strings.Contains(page.body, `data-testid="rate-limit">None.`) {
		t.Errorf("key page does not say there is no rate limit")
	}
}

func TestDailyLeadLimit(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	b := app.browser().login("admin@acme.test")
	mustEditKey(t, b, f.write, url.Values{"daily_lead_limit": {"2"}})
	if page := b.get(fmt.Sprintf("/settings/integrations/keys/%d", f.write.ID)); !strings.Contains(page.body, "2 leads a day (UTC).") {
		t.Errorf("key page does not show the daily lead limit")
	}
	token := app.token(f.write.PublicKey, f.writeSecret)
	for i := range 2 {
		if r := postLead(app, bearer(token), goodLead); r.status != http.StatusCreated {
			t.Fatalf("lead %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := postLead(app, bearer(token), goodLead)
	expectError(t, r, http.StatusTooManyRequests, "lead_quota_exceeded")
	for name, want := range map[string]string{"Retry-After": "43200", "RateLimit-Policy": `"day";q=2;w=86400`, "RateLimit": `"day";r=0;t=43200`} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if n := app.leadCount(f.acc.ID); n != 2 {
		t.Errorf("%d leads stored, want 2", n)
	}
	// Other calls of the key are not leads.
	if r := app.call("GET", "/api/v1/key", "", "", bearer(token)); r.status != http.StatusOK {
		t.Errorf("GET /key over the lead quota: %d", r.status)
	}
	app.clock.Advance(12 * time.Hour) // the next UTC day
	token = app.token(f.write.PublicKey, f.writeSecret)
	if r := postLead(app, bearer(token), goodLead); r.status != http.StatusCreated {
		t.Fatalf("lead on the next day: %d %s", r.status, r.body)
	}
}

func TestLimitsBadInput(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	b := app.browser().login("admin@acme.test")
	for _, tc := range []struct {
		name string
		set  url.Values
		want string
	}{
		{"CIDR that does not parse", url.Values{"ip_mode": {"enforce"}, "ip_allow": {"10.0.0.0/33"}}, "is not a CIDR range"},
		{"host bits set", url.Values{"ip_mode": {"enforce"}, "ip_allow": {"10.0.0.1/24"}}, "write 10.0.0.0/24"},
		{"more than 50 entries", url.Values{"ip_mode": {"report"}, "ip_allow": {strings.Repeat("192.0.2.1\n", 51)}}, "at most 50"},
		{"0.0.0.0/0 with Enforce", url.Values{"ip_mode": {"enforce"}, "ip_allow": {"0.0.0.0/0"}}, "allows every address"},
		{"rate limit of 0", url.Values{"rate_limit": {"0"}}, "from 1 to 100000"},
		{"negative rate limit", url.Values{"rate_limit": {"-3"}}, "from 1 to 100000"},
		{"absurd rate limit", url.Values{"rate_limit": {"99999999999"}}, "from 1 to 100000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := editKey(t, b, f.rw, tc.set)
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, tc.want) {
				t.Fatalf("%d, want 422 saying %q", res.status, tc.want)
			}
			for name, v := range tc.set {
				if v[0] != "" && !strings.Contains(res.body, strings.SplitN(v[0], "\n", 2)[0]) {
					t.Errorf("the form lost what was typed into %s", name)
				}
			}
			k, _ := app.db.APIKey(context.Background(), f.acc.ID, f.rw.ID)
			if k.Settings != f.rw.Settings {
				t.Errorf("the key changed: %+v", k.Settings)
			}
		})
	}
}
