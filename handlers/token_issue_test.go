package handlers

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"keydesk/db"
	"keydesk/keys"
)

func TestTokenIssue(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	tests := []struct {
		name        string
		contentType string
		body        string
		header      map[string]string
		scope       string
	}{
		{"basic", formType, "grant_type=client_credentials", map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)}, "read write"},
		{"basic lower-case scheme", formType, "grant_type=client_credentials", map[string]string{"Authorization": "basic " + strings.TrimPrefix(basic(f.rw.PublicKey, f.rwSecret), "Basic ")}, "read write"},
		{"form credentials", formType + "; charset=utf-8", url.Values{"grant_type": {"client_credentials"}, "client_id": {f.write.PublicKey}, "client_secret": {f.writeSecret}}.Encode(), nil, "write"},
		{"json", "application/json", `{"api_key":"` + f.write.PublicKey + `","api_secret":"` + f.writeSecret + `"}`, nil, "write"},
		{"json with grant type", "application/json", `{"grant_type":"client_credentials","api_key":"` + f.rw.PublicKey + `","api_secret":"` + f.rwSecret + `"}`, nil, "read write"},
		{"narrower scope", formType, "grant_type=client_credentials&scope=read", map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)}, "read"},
		{"same scope reordered", formType, "grant_type=client_credentials&scope=write+read", map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)}, "read write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := app.call("POST", "/api/v1/auth/token", tt.contentType, tt.body, tt.header)
			if res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			if res.header.Get("Cache-Control") != "no-store" || res.header.Get("Pragma") != "no-cache" {
				t.Errorf("caching headers: %v", res.header)
			}
			var out map[string]any
			if err := json.Unmarshal([]byte(res.body), &out); err != nil {
				t.Fatal(err)
			}
			tok, _ := out["access_token"].(string)
			if len(tok) != keys.TokenLen || out["token_type"] != "Bearer" || out["expires_in"] != 1800.0 || out["scope"] != tt.scope {
				t.Fatalf("answer %s", res.body)
			}
			if len(out) != 4 {
				t.Errorf("unexpected fields (a refresh token?): %s", res.body)
			}
			if r := app.call("GET", "/api/v1/key", "", "", bearer(tok)); r.status != 200 {
				t.Errorf("the new token does not work: %d %s", r.status, r.body)
			}
		})
	}
}

func TestTokenIssueErrors(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	other := app.apiFixture("other")
	revoked, revokedSecret := app.key(f.acc, f.admin, "Old", db.Integration, keys.Live, db.LicenseLeads)
	if _, err := app.db.RevokeAPIKey(t.Context(), f.acc.ID, revoked.ID, db.Actor{UserID: f.admin.ID}, app.clock.Now()); err != nil {
		t.Fatal(err)
	}
	good := basic(f.rw.PublicKey, f.rwSecret)
	grant := "grant_type=client_credentials"
	auth := func(v string) map[string]string { return map[string]string{"Authorization": v} }
	b64 := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	typo := []byte(f.rwSecret)
	typo[12] ^= 1
	tests := []struct {
		name        string
		contentType string
		body        string
		header      map[string]string
		status      int
		code        string
	}{
		{"no credentials", formType, grant, nil, 401, "invalid_client"},
		{"wrong secret", formType, grant, auth(basic(f.rw.PublicKey, f.writeSecret)), 401, "invalid_client"},
		{"typo in secret", formType, grant, auth(basic(f.rw.PublicKey, string(typo))), 401, "invalid_client"},
		{"unknown key", formType, grant, auth(basic(keys.NewAPIKey(keys.Live), f.rwSecret)), 401, "invalid_client"},
		{"another account's secret", formType, grant, auth(basic(f.rw.PublicKey, other.rwSecret)), 401, "invalid_client"},
		{"revoked key", formType, grant, auth(basic(revoked.PublicKey, revokedSecret)), 401, "invalid_client"},
		{"test secret for live key", formType, grant, auth(basic(f.rw.PublicKey, keys.NewSecret(keys.Test))), 401, "invalid_client"},
		{"basic not base64", formType, grant, auth("Basic %%%"), 401, "invalid_client"},
		{"basic without colon", formType, grant, auth(b64(f.rw.PublicKey)), 401, "invalid_client"},
		{"basic empty", formType, grant, auth("Basic "), 401, "invalid_client"},
		{"basic bad escape", formType, grant, auth(b64(f.rw.PublicKey + ":%zz")), 401, "invalid_client"},
		{"bearer scheme", formType, grant, auth("Bearer abc"), 401, "invalid_client"},
		{"form secret missing", formType, grant + "&client_id=" + f.rw.PublicKey, nil, 400, "invalid_request"},
		{"json secret missing", "application/json", `{"api_key":"` + f.rw.PublicKey + `"}`, nil, 400, "invalid_request"},
		{"two methods", formType, grant + "&client_id=" + f.rw.PublicKey + "&client_secret=" + f.rwSecret, auth(good), 400, "invalid_request"},
		{"grant type missing", formType, "", auth(good), 400, "invalid_request"},
		{"no body at all", "", "", auth(good), 400, "invalid_request"},
		{"grant type repeated", formType, grant + "&" + grant, auth(good), 400, "invalid_request"},
		{"bad form", formType, "grant_type=%zz", auth(good), 400, "invalid_request"},
		{"password grant", formType, "grant_type=password", auth(good), 400, "unsupported_grant_type"},
		{"authorization code grant", formType, "grant_type=authorization_code", auth(good), 400, "unsupported_grant_type"},
		{"json wrong grant", "application/json", `{"grant_type":"password","api_key":"x","api_secret":"y"}`, nil, 400, "unsupported_grant_type"},
		{"unknown scope", formType, grant + "&scope=admin", auth(good), 400, "invalid_scope"},
		{"scope beyond key type", formType, grant + "&scope=read", auth(basic(f.write.PublicKey, f.writeSecret)), 400, "invalid_scope"},
		{"not json", "application/json", `{"api_key":`, nil, 400, "invalid_request"},
		{"json wrong types", "application/json", `{"api_key":1,"api_secret":2}`, nil, 400, "invalid_request"},
		{"json array", "application/json", `[]`, nil, 400, "invalid_request"},
		{"xml", "application/xml", `<x/>`, auth(good), 415, "unsupported_media_type"},
		{"multipart", "multipart/form-data; boundary=x", "--x--", auth(good), 415, "unsupported_media_type"},
		{"bad content type", "???", grant, auth(good), 415, "unsupported_media_type"},
		{"body without content type", "", grant, auth(good), 415, "unsupported_media_type"},
		{"too large", formType, grant + "&pad=" + strings.Repeat("a", 1<<20), auth(good), 413, "request_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := app.call("POST", "/api/v1/auth/token", tt.contentType, tt.body, tt.header)
			expectError(t, res, tt.status, tt.code)
			if res.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", res.header.Get("Cache-Control"))
			}
			challenge := res.header.Get("WWW-Authenticate")
			if tt.code == "invalid_client" && challenge != `Basic realm="keydesk"` {
				t.Errorf("WWW-Authenticate %q", challenge)
			}
			if tt.code != "invalid_client" && challenge != "" {
				t.Errorf("unexpected WWW-Authenticate %q", challenge)
			}
		})
	}
	// No error says which part was wrong.
	a := app.call("POST", "/api/v1/auth/token", formType, grant, auth(basic(f.rw.PublicKey, f.writeSecret)))
	b := app.call("POST", "/api/v1/auth/token", formType, grant, auth(basic(keys.NewAPIKey(keys.Live), f.rwSecret)))
	if withoutRequestID(a.body) != withoutRequestID(b.body) {
		t.Errorf("wrong secret and unknown key answer differently:\n%s\n%s", a.body, b.body)
	}
}
