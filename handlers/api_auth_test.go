package handlers

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/keys"
)

func TestKeyShowByBearerAndSignature(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme-motors")
	for name, header := range map[string]map[string]string{
		"bearer":    bearer(app.token(f.rw.PublicKey, f.rwSecret)),
		"signature": signedHeaders("acme-motors", f.rw.PublicKey, f.rwSecret, app.clock.Now()),
	} {
		t.Run(name, func(t *testing.T) {
			res := app.call("GET", "/api/v1/key", "", "", header)
			if res.status != 200 {
				t.Fatalf("%d %s", res.status, res.body)
			}
			var got keyInfo
			json.Unmarshal([]byte(res.body), &got)
			want := keyInfo{Name: "CRM", APIKey: f.rw.PublicKey, Type: "integration", Mode: "live", Scope: "read write",
				Scopes: []string{"read", "write"}, Licenses: []string{"leads"}, Account: "acme-motors", AuthenticatedBy: name}
			if g, w := mustJSON(got), mustJSON(want); g != w {
				t.Fatalf("got %s\nwant %s", g, w)
			}
		})
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestBearerErrors(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	tok := app.token(f.rw.PublicKey, f.rwSecret)
	ours := keys.NewTokenMinter(app.sealer.Derive("access-token-mac"))
	mint := func(m *keys.TokenMinter, t keys.AccessToken) string { return m.Mint(&t) }
	later := app.clock.Now().Add(time.Hour)
	tests := []struct {
		name   string
		header map[string]string
		status int
		code   string
	}{
		{"no credentials", nil, 401, "missing_credentials"},
		{"another deployment's token", bearer(mint(keys.NewTokenMinter([]byte("another deployment's master key!")),
			keys.AccessToken{KeyID: f.rw.ID, ExpiresAt: later, Scope: 3})), 401, "invalid_token"},
		{"expired token", bearer(mint(ours, keys.AccessToken{KeyID: f.rw.ID, ExpiresAt: app.clock.Now(), Scope: 3})), 401, "invalid_token"},
		{"future epoch", bearer(mint(ours, keys.AccessToken{KeyID: f.rw.ID, Epoch: 1, ExpiresAt: later, Scope: 3})), 401, "invalid_token"},
		{"unknown key id", bearer(mint(ours, keys.AccessToken{KeyID: 999, ExpiresAt: later, Scope: 3})), 401, "invalid_token"},
		{"flipped bit", bearer(tok[:30] + string(tok[30]^1) + tok[31:]), 401, "invalid_token"},
		{"basic scheme", map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)}, 401, "missing_credentials"},
		{"bearer without token", map[string]string{"Authorization": "Bearer"}, 401, "invalid_token"},
		{"empty token", map[string]string{"Authorization": "Bearer "}, 401, "invalid_token"},
		{"short token", bearer(tok[:20]), 401, "invalid_token"},
		{"long token", bearer(tok + "A"), 401, "invalid_token"},
		{"bad character", bearer(tok[:10] + "+" + tok[11:]), 401, "invalid_token"},
		{"no prefix", bearer("xyz_" + tok[4:]), 401, "invalid_token"},
		{"old random token", bearer("kdt_" + strings.Repeat("A", 43)), 401, "invalid_token"},
		{"secret as token", bearer(f.rwSecret), 401, "invalid_token"},
		{"token and signature", map[string]string{"Authorization": "Bearer " + tok, "API-Key": f.rw.PublicKey}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := app.call("GET", "/api/v1/key", "", "", tt.header)
			expectError(t, res, tt.status, tt.code)
			challenge := res.header.Get("WWW-Authenticate")
			switch tt.code {
			case "invalid_token":
				_, desc := apiError(t, res)
				want := `Bearer realm="keydesk", error="invalid_token", error_description="` + desc + `"`
				if challenge != want {
					t.Errorf("WWW-Authenticate %q, want %q", challenge, want)
				}
			case "missing_credentials":
				if challenge != `Bearer realm="keydesk"` {
					t.Errorf("WWW-Authenticate %q", challenge)
				}
			}
		})
	}
}

func TestExpiredTokenRefused(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	tok := app.token(f.rw.PublicKey, f.rwSecret)
	app.clock.Advance(accessTokenLifetime - time.Second)
	if res := app.call("GET", "/api/v1/key", "", "", bearer(tok)); res.status != 200 {
		t.Fatalf("token refused before it expired: %d %s", res.status, res.body)
	}
	app.clock.Advance(time.Second)
	expectError(t, app.call("GET", "/api/v1/key", "", "", bearer(tok)), 401, "invalid_token")
}

func TestRevokedKeyTokensDieAtOnce(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	var tokens []string
	for range 3 {
		tokens = append(tokens, app.token(f.rw.PublicKey, f.rwSecret))
	}
	otherTok := app.token(f.write.PublicKey, f.writeSecret)
	// The key is in the cache from the calls above, as in production.
	for _, tok := range tokens {
		if res := app.call("GET", "/api/v1/key", "", "", bearer(tok)); res.status != 200 {
			t.Fatalf("%d %s", res.status, res.body)
		}
	}
	if _, err := app.db.RevokeAPIKey(t.Context(), f.acc.ID, f.rw.ID, db.Actor{UserID: f.admin.ID}, app.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for _, tok := range tokens {
		expectError(t, app.call("GET", "/api/v1/key", "", "", bearer(tok)), 401, "invalid_token")
	}
	expectError(t, app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now())), 401, "invalid_signature")
	expectError(t, app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
		map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)}), 401, "invalid_client")
	if res := app.call("GET", "/api/v1/key", "", "", bearer(otherTok)); res.status != 200 {
		t.Errorf("another key's token died too: %d", res.status)
	}
}

func TestRevokedKeyThroughDashboard(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	tok := app.token(f.rw.PublicKey, f.rwSecret)
	b := app.browser().login(f.admin.Email)
	page := "/settings/integrations/keys/" + itoa(f.rw.ID) + "/revoke"
	if res := b.post(page, page, url.Values{}); res.status >= 400 {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	expectError(t, app.call("GET", "/api/v1/key", "", "", bearer(tok)), 401, "invalid_token")
}

func TestTokensSurviveRestart(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	tok := app.token(f.rw.PublicKey, f.rwSecret)
	gone := app.token(f.write.PublicKey, f.writeSecret)
	if res := app.call("POST", "/api/v1/auth/revoke", formType, "token="+gone,
		map[string]string{"Authorization": basic(f.write.PublicKey, f.writeSecret)}); res.status != 200 {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	// Nothing about a token is stored: a new process over the same database accepts it.
	again := app.restart()
	if res := again.call("GET", "/api/v1/key", "", "", bearer(tok)); res.status != 200 {
		t.Errorf("token refused after restart: %d %s", res.status, res.body)
	}
	expectError(t, again.call("GET", "/api/v1/key", "", "", bearer(gone)), 401, "invalid_token")
}

func TestSignatureErrors(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	other := app.apiFixture("other")
	now := app.clock.Now()
	good := signedHeaders("acme", f.rw.PublicKey, f.rwSecret, now)
	with := func(name, value string) map[string]string {
		h := map[string]string{}
		for k, v := range good {
			h[k] = v
		}
		if value == "" {
			delete(h, name)
		} else {
			h[name] = value
		}
		return h
	}
	tests := []struct {
		name   string
		header map[string]string
		status int
		code   string
	}{
		{"no key", with("API-Key", ""), 400, "invalid_request"},
		{"no timestamp", with("API-Timestamp", ""), 400, "invalid_request"},
		{"no token", with("API-Token", ""), 400, "invalid_request"},
		{"offset timestamp", with("API-Timestamp", now.Format("2006-01-02T15:04:05+00:00")), 400, "invalid_timestamp"},
		{"fractional timestamp", with("API-Timestamp", now.Format("2006-01-02T15:04:05.000Z")), 400, "invalid_timestamp"},
		{"unix timestamp", with("API-Timestamp", "1795003200"), 400, "invalid_timestamp"},
		{"http date", with("API-Timestamp", now.Format("Mon, 02 Jan 2006 15:04:05 GMT")), 400, "invalid_timestamp"},
		{"replay after 5 minutes", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, now.Add(-5*time.Minute-time.Second)), 401, "stale_timestamp"},
		{"from the future", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, now.Add(5*time.Minute+time.Second)), 401, "stale_timestamp"},
		{"wrong secret", signedHeaders("acme", f.rw.PublicKey, f.writeSecret, now), 401, "invalid_signature"},
		{"wrong slug", signedHeaders("other", f.rw.PublicKey, f.rwSecret, now), 401, "invalid_signature"},
		{"another account's key", signedHeaders("acme", other.rw.PublicKey, other.rwSecret, now), 401, "invalid_signature"},
		{"unknown key", signedHeaders("acme", keys.NewAPIKey(keys.Live), f.rwSecret, now), 401, "invalid_signature"},
		{"malformed key", with("API-Key", "kd_live_nope"), 401, "invalid_signature"},
		{"upper-case hex", with("API-Token", strings.ToUpper(good["API-Token"])), 401, "invalid_signature"},
		{"short token", with("API-Token", good["API-Token"][:40]), 401, "invalid_signature"},
		{"signed with another timestamp", with("API-Timestamp", now.Add(time.Second).Format("2006-01-02T15:04:05Z")), 401, "invalid_signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := app.call("GET", "/api/v1/key", "", "", tt.header)
			expectError(t, res, tt.status, tt.code)
			if tt.status == 401 && res.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	for _, skew := range []time.Duration{-5 * time.Minute, 5 * time.Minute, -time.Minute} {
		if res := app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, now.Add(skew))); res.status != 200 {
			t.Errorf("skew %v refused: %d %s", skew, res.status, res.body)
		}
	}
}

func TestScopesAndLicenses(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	captureOnly, captureSecret := app.key(f.acc, f.admin, "Capture", db.Integration, keys.Live, db.LicenseCapture)
	noLeads, _, _ := app.account("noleads", db.LicenseCapture)
	_ = noLeads
	writeTok := app.token(f.write.PublicKey, f.writeSecret)
	readTok := func() string {
		res := app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials&scope=read",
			map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)})
		var out struct {
			AccessToken string `json:"access_token"`
		}
		json.Unmarshal([]byte(res.body), &out)
		return out.AccessToken
	}()
	lead := `{"contact":{"first_name":"Ann","email":"ann@example.com"}}`
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		code, says               string
	}{
		{"write-only key lists", "GET", "/api/v1/leads", "", bearer(writeTok), 403, "insufficient_scope", "which this key's type does not grant"},
		{"write-only key reads one", "GET", "/api/v1/leads/ld_x", "", bearer(writeTok), 403, "insufficient_scope", "key's type does not grant"},
		{"write-only key signed read", "GET", "/api/v1/leads", "", signedHeaders("acme", f.write.PublicKey, f.writeSecret, app.clock.Now()), 403, "insufficient_scope", "key's type does not grant"},
		{"read-scoped token writes", "POST", "/api/v1/leads", lead, bearer(readTok), 403, "insufficient_scope",
			`which this access token was not issued with: ask for a token with scope \"read write\"`},
		{"key without leads license", "POST", "/api/v1/leads", lead, signedHeaders("acme", captureOnly.PublicKey, captureSecret, app.clock.Now()), 403, "missing_license_leads", "license"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := app.call(tt.method, tt.path, "application/json", tt.body, tt.header)
			expectError(t, res, tt.status, tt.code)
			if !strings.Contains(res.body, tt.says) {
				t.Errorf("the answer does not say %q: %s", tt.says, res.body)
			}
			if tt.code == "insufficient_scope" && !strings.Contains(res.header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
				t.Errorf("WWW-Authenticate %q", res.header.Get("WWW-Authenticate"))
			}
		})
	}
	if n := app.leadCount(f.acc.ID); n != 0 {
		t.Errorf("%d leads stored by refused requests", n)
	}
}

func TestTokenRevoke(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	other := app.apiFixture("other")
	tok, keep := app.token(f.rw.PublicKey, f.rwSecret), app.token(f.rw.PublicKey, f.rwSecret)
	foreign := app.token(other.rw.PublicKey, other.rwSecret)
	auth := map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)}

	expectError(t, app.call("POST", "/api/v1/auth/revoke", formType, "token="+tok, nil), 401, "invalid_client")
	expectError(t, app.call("POST", "/api/v1/auth/revoke", formType, "token="+tok,
		map[string]string{"Authorization": basic(f.rw.PublicKey, f.writeSecret)}), 401, "invalid_client")
	expectError(t, app.call("POST", "/api/v1/auth/revoke", formType, "", auth), 400, "invalid_request")

	for _, body := range []string{"token=" + tok, "token=" + foreign, "token=garbage", "token=" + tok + "&token_type_hint=access_token"} {
		if res := app.call("POST", "/api/v1/auth/revoke", formType, body, auth); res.status != 200 {
			t.Fatalf("revoke %s: %d %s", body, res.status, res.body)
		}
	}
	expectError(t, app.call("GET", "/api/v1/key", "", "", bearer(tok)), 401, "invalid_token")
	for _, alive := range []string{keep, foreign} {
		if res := app.call("GET", "/api/v1/key", "", "", bearer(alive)); res.status != 200 {
			t.Errorf("revoking one token ended another: %d", res.status)
		}
	}
	res := app.call("POST", "/api/v1/auth/revoke", "application/json",
		`{"api_key":"`+f.rw.PublicKey+`","api_secret":"`+f.rwSecret+`","token":"`+keep+`"}`, nil)
	if res.status != 200 {
		t.Fatalf("json revoke: %d %s", res.status, res.body)
	}
	expectError(t, app.call("GET", "/api/v1/key", "", "", bearer(keep)), 401, "invalid_token")
}

func TestManyTokensOfOneKeyAllStayValid(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	tokens := make([]string, 600)
	for i := range tokens {
		tokens[i] = app.token(f.rw.PublicKey, f.rwSecret)
	}
	for i, tok := range tokens {
		if res := app.call("GET", "/api/v1/key", "", "", bearer(tok)); res.status != 200 {
			t.Fatalf("token %d of %d refused: %d %s", i+1, len(tokens), res.status, res.body)
		}
	}
}

func TestKeyUseRecorded(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	app.clock.Advance(time.Hour)
	app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now()))
	k, err := app.db.APIKey(t.Context(), f.acc.ID, f.rw.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !k.LastUsedAt.Equal(app.clock.Now()) {
		t.Errorf("last used %v, want %v", k.LastUsedAt, app.clock.Now())
	}
}

func TestUnknownAPIRouteIsJSON(t *testing.T) {
	app := newTestApp(t)
	expectError(t, app.call("GET", "/api/v1/nope", "", "", nil), 404, "not_found")
	expectError(t, app.call("DELETE", "/api/v1/key", "", "", nil), 405, "method_not_allowed")
}

func TestEndAllTokensKeepsTheKey(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	old := app.token(f.rw.PublicKey, f.rwSecret)
	dealer := app.browser().login(f.dealer.Email)
	path := "/settings/integrations/keys/" + itoa(f.rw.ID) + "/end-tokens"
	if res := dealer.do("POST", path, url.Values{"_csrf": {dealer.csrf("/keys")}}, nil); res.status != 403 {
		t.Fatalf("a dealer ending tokens: status %d, want 403", res.status)
	}
	if res := app.call("GET", "/api/v1/key", "", "", bearer(old)); res.status != 200 {
		t.Fatalf("token ended by a refused request: %d", res.status)
	}
	admin := app.browser().login(f.admin.Email)
	// End all tokens asks first; asking ends nothing.
	if res := admin.get(path + "?back=key"); res.status != 200 || !strings.Contains(res.body, `data-testid="confirm-end-tokens"`) {
		t.Fatalf("end-tokens confirmation: %d", res.status)
	}
	if res := app.call("GET", "/api/v1/key", "", "", bearer(old)); res.status != 200 {
		t.Fatalf("token ended by the confirmation: %d", res.status)
	}
	if res := admin.post("/settings/integrations", path, url.Values{}); res.status != 303 {
		t.Fatalf("end tokens: %d %s", res.status, res.body)
	}
	expectError(t, app.call("GET", "/api/v1/key", "", "", bearer(old)), 401, "invalid_token")
	fresh := app.token(f.rw.PublicKey, f.rwSecret)
	if res := app.call("GET", "/api/v1/key", "", "", bearer(fresh)); res.status != 200 {
		t.Errorf("a token issued after ending all tokens: %d", res.status)
	}
	if res := app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now())); res.status != 200 {
		t.Errorf("signed call after ending all tokens: %d", res.status)
	}
	events, _ := app.db.AuditEvents(t.Context(), f.acc.ID, db.AuditFilter{Limit: 10})
	if len(events) == 0 || events[0].Action != db.AuditEndTokens || events[0].KeyID != f.rw.ID {
		t.Errorf("newest audit event %+v, want end_tokens of the key", events)
	}
}

func TestTokenEndpointThrottlesRepeatedFailures(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	wrong := map[string]string{"Authorization": basic(f.rw.PublicKey, keys.NewSecret(keys.Live))}
	for range 30 {
		expectError(t, app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials", wrong), 401, "invalid_client")
	}
	// From this address even the right secret now waits, and says how long.
	right := map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)}
	res := app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials", right)
	expectError(t, res, 429, "invalid_client")
	if res.header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After %q, want 60", res.header.Get("Retry-After"))
	}
	app.clock.Advance(time.Minute)
	if res := app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials", right); res.status != 200 {
		t.Errorf("after the window: %d %s", res.status, res.body)
	}
	// Successes are given back: they never use the budget up.
	for range 40 {
		app.token(f.rw.PublicKey, f.rwSecret)
	}
}
