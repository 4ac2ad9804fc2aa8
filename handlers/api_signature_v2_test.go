package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// signedV2 signs a request the way the Developer docs tell an integrator to
// (six lines, joined by \n), with nothing from keydesk.
func signedV2(slug, public, secret, method, target, body string, at time.Time) map[string]string {
	ts := at.UTC().Format("2006-01-02T15:04:05Z")
	sum := sha256.Sum256([]byte(body))
	text := strings.Join([]string{"2", method, target, ts, slug + ":" + public, hex.EncodeToString(sum[:])}, "\n")
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(text))
	return map[string]string{"API-Signature-Version": "2", "API-Key": public, "API-Timestamp": ts, "API-Token": hex.EncodeToString(m.Sum(nil))}
}

func TestBodyBoundSignatures(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	now := app.clock.Now()
	post := signedV2("acme", f.rw.PublicKey, f.rwSecret, "POST", "/api/v1/leads", goodLead, now)
	if res := postLead(app, post, goodLead); res.status != 201 {
		t.Fatalf("a v2-signed lead: %d %s", res.status, res.body)
	}
	list := signedV2("acme", f.rw.PublicKey, f.rwSecret, "GET", "/api/v1/leads?limit=10", "", now)
	if res := app.call("GET", "/api/v1/leads?limit=10", "", "", list); res.status != 200 {
		t.Fatalf("a v2-signed list: %d %s", res.status, res.body)
	}
	v1 := signedHeaders("acme", f.rw.PublicKey, f.rwSecret, now)
	v1UnderV2 := map[string]string{"API-Signature-Version": "2"}
	for k, v := range v1 {
		v1UnderV2[k] = v
	}
	tests := []struct {
		name                 string
		method, target, body string
		header               map[string]string
		status               int
		code                 string
	}{
		{"replayed on another method and path", "GET", "/api/v1/leads", "", post, 401, "invalid_signature"},
		{"replayed with another body", "POST", "/api/v1/leads", strings.Replace(goodLead, "Ann", "Eve", 1), post, 401, "invalid_signature"},
		{"replayed with another query", "GET", "/api/v1/leads?limit=50", "", list, 401, "invalid_signature"},
		{"a v1 signature under a v2 header", "GET", "/api/v1/leads", "", v1UnderV2, 401, "invalid_signature"},
		{"an unknown version", "GET", "/api/v1/leads", "", map[string]string{"API-Signature-Version": "3",
			"API-Key": v1["API-Key"], "API-Timestamp": v1["API-Timestamp"], "API-Token": v1["API-Token"]}, 400, "invalid_request"},
		{"a body over the limit", "POST", "/api/v1/leads", strings.Repeat("x", 1<<20+1), post, 413, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := app.call(tc.method, tc.target, "application/json", tc.body, tc.header)
			if tc.code == "" {
				if res.status != tc.status {
					t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
				}
				return
			}
			expectError(t, res, tc.status, tc.code)
		})
	}
	// Version 1 keeps working unchanged.
	if res := app.call("GET", "/api/v1/leads", "", "", v1); res.status != 200 {
		t.Errorf("a v1 signature: %d %s", res.status, res.body)
	}
}
