package handlers

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/keys"
)

// lastRequest writes the request log now and returns the newest request of a key.
func (a *testApp) lastRequest(accountID, keyID int64) (db.LoggedRequest, bool) {
	a.t.Helper()
	if err := a.requests.Flush(context.Background()); err != nil {
		a.t.Fatal(err)
	}
	rows, _, err := a.db.RecentRequests(context.Background(), accountID, keyID, db.RequestFilter{Limit: 1})
	if err != nil {
		a.t.Fatal(err)
	}
	if len(rows) == 0 {
		return db.LoggedRequest{}, false
	}
	return rows[0], true
}

// TestRequestLogRecordsEachOutcome sends one request per outcome and finds
// it in the key's log with its route, status, outcome and way of authenticating.
func TestRequestLogRecordsEachOutcome(t *testing.T) {
	a := newTestApp(t)
	f := a.apiFixture("log")
	revoked, revokedSecret := a.key(f.acc, f.admin, "Old", db.Integration, keys.Live, db.LicenseLeads)
	if _, err := a.db.RevokeAPIKey(context.Background(), f.acc.ID, revoked.ID, db.Actor{UserID: f.admin.ID}, a.clock.Now()); err != nil {
		t.Fatal(err)
	}
	ended, endedSecret := a.key(f.acc, f.admin, "Ended", db.Integration, keys.Live, db.LicenseLeads)
	endedToken := a.token(ended.PublicKey, endedSecret)
	if _, err := a.db.EndKeyTokens(context.Background(), f.acc.ID, ended.ID, db.Actor{UserID: f.admin.ID}, a.clock.Now()); err != nil {
		t.Fatal(err)
	}
	now := a.clock.Now()
	stale := signedHeaders(f.acc.Slug, f.rw.PublicKey, f.rwSecret, now.Add(-10*time.Minute))
	badSig := signedHeaders(f.acc.Slug, f.rw.PublicKey, "kds_live_not-the-secret", now)
	badTime := signedHeaders(f.acc.Slug, f.rw.PublicKey, f.rwSecret, now)
	badTime["API-Timestamp"] = "1732390000"

	tests := []struct {
		name        string
		key         db.APIKey
		method      string
		path, ctype string
		body        string
		header      map[string]string
		status      int
		outcome     string
		auth        string
		route       string
		sent        bool
	}{
		{"ok, token by Basic", f.rw, "POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
			map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)}, 200, "ok", db.AuthBasic, db.RouteToken, false},
		{"ok, token by form", f.rw, "POST", "/api/v1/auth/token", formType,
			"grant_type=client_credentials&client_id=" + f.rw.PublicKey + "&client_secret=" + f.rwSecret, nil, 200, "ok", db.AuthForm, db.RouteToken, false},
		{"ok, signed", f.rw, "GET", "/api/v1/key", "", "", signedHeaders(f.acc.Slug, f.rw.PublicKey, f.rwSecret, now),
			200, "ok", db.AuthSignature, "GET /api/v1/key", false},
		{"ok, Bearer", f.rw, "GET", "/api/v1/leads", "", "", bearer(a.token(f.rw.PublicKey, f.rwSecret)),
			200, "ok", db.AuthBearer, "GET /api/v1/leads", false},
		{"invalid_client", f.rw, "POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
			map[string]string{"Authorization": basic(f.rw.PublicKey, keys.NewSecret(keys.Live))}, 401, "invalid_client", db.AuthBasic, db.RouteToken, true},
		{"invalid_client of a revoked key", revoked, "POST", "/api/v1/auth/token", "application/json",
			`{"api_key":"` + revoked.PublicKey + `","api_secret":"` + revokedSecret + `"}`, nil, 401, "invalid_client", db.AuthJSON, db.RouteToken, true},
		{"invalid_token of ended tokens", ended, "GET", "/api/v1/leads", "", "", bearer(endedToken),
			401, "invalid_token", db.AuthBearer, "GET /api/v1/leads", false},
		{"invalid_signature", f.rw, "GET", "/api/v1/leads", "", "", badSig, 401, "invalid_signature", db.AuthSignature, "GET /api/v1/leads", true},
		{"invalid_signature of a revoked key", revoked, "GET", "/api/v1/key", "", "",
			signedHeaders(f.acc.Slug, revoked.PublicKey, revokedSecret, now), 401, "invalid_signature", db.AuthSignature, "GET /api/v1/key", true},
		{"stale_timestamp", f.rw, "GET", "/api/v1/leads", "", "", stale, 401, "stale_timestamp", db.AuthSignature, "GET /api/v1/leads", true},
		{"invalid_timestamp", f.rw, "GET", "/api/v1/leads", "", "", badTime, 400, "invalid_timestamp", db.AuthSignature, "GET /api/v1/leads", true},
		{"insufficient_scope", f.write, "GET", "/api/v1/leads", "", "", signedHeaders(f.acc.Slug, f.write.PublicKey, f.writeSecret, now),
			403, "insufficient_scope", db.AuthSignature, "GET /api/v1/leads", false},
		{"missing_license_capture", f.rw, "POST", "/api/v1/capture-sessions", "application/json", `{}`,
			signedHeaders(f.acc.Slug, f.rw.PublicKey, f.rwSecret, now), 403, "missing_license_capture", db.AuthSignature, "POST /api/v1/capture-sessions", false},
		{"invalid_scope", f.write, "POST", "/api/v1/auth/token", formType, "grant_type=client_credentials&scope=read",
			map[string]string{"Authorization": basic(f.write.PublicKey, f.writeSecret)}, 400, "invalid_scope", db.AuthBasic, db.RouteToken, false},
		{"validation_failed", f.write, "POST", "/api/v1/leads", "application/json", `{}`,
			signedHeaders(f.acc.Slug, f.write.PublicKey, f.writeSecret, now), 400, "validation_failed", db.AuthSignature, "POST /api/v1/leads", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := map[string]string{"User-Agent": "dealer-crm/2.1 (" + tt.name + ")"}
			for k, v := range tt.header {
				header[k] = v
			}
			res := a.call(tt.method, tt.path, tt.ctype, tt.body, header)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			r, ok := a.lastRequest(f.acc.ID, tt.key.ID)
			if !ok {
				t.Fatal("the request is not in the key's log")
			}
			if r.Outcome != tt.outcome || r.Status != tt.status || r.Auth != tt.auth || r.Route != tt.route {
				t.Errorf("logged %s %d %s %s, want %s %d %s %s", r.Outcome, r.Status, r.Auth, r.Route, tt.outcome, tt.status, tt.auth, tt.route)
			}
			if r.UserAgent != header["User-Agent"] || !r.Addr.IsLoopback() || !r.At.Equal(now) || r.Latency <= 0 {
				t.Errorf("logged agent %q, address %v, at %v, latency %v", r.UserAgent, r.Addr, r.At, r.Latency)
			}
			fails, err := a.db.RequestFailures(context.Background(), f.acc.ID, tt.key.ID, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(fails) == 1 && fails[0].At.Equal(now) && fails[0].Outcome == tt.outcome; got != tt.sent {
				t.Errorf("what the client sent kept: %v, want %v (%+v)", got, tt.sent, fails)
			}
			a.clock.Advance(time.Second)
			now = a.clock.Now()
		})
	}
}

// TestRequestLogSkipsRequestsNamingNoKey: an unknown key or no credential
// at all names no key of the account, and nothing is logged.
func TestRequestLogSkipsRequestsNamingNoKey(t *testing.T) {
	a := newTestApp(t)
	f := a.apiFixture("nokey")
	stranger := keys.NewAPIKey(keys.Live)
	a.call("GET", "/api/v1/key", "", "", signedHeaders(f.acc.Slug, stranger, keys.NewSecret(keys.Live), a.clock.Now()))
	a.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
		map[string]string{"Authorization": basic(stranger, keys.NewSecret(keys.Live))})
	a.call("GET", "/api/v1/key", "", "", nil)
	if err := a.requests.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, k := range []db.APIKey{f.rw, f.write} {
		if rows, _, _ := a.db.RecentRequests(context.Background(), f.acc.ID, k.ID, db.RequestFilter{}); len(rows) != 0 {
			t.Errorf("key %s has %d logged requests", k.Name, len(rows))
		}
	}
}

// TestRequestLogHoldsNoSecret reads the database file after logged
// requests of every kind and finds no secret, token or correct signature.
func TestRequestLogHoldsNoSecret(t *testing.T) {
	a := newTestApp(t)
	f := a.apiFixture("nosecret")
	token := a.token(f.rw.PublicKey, f.rwSecret)
	good := signedHeaders(f.acc.Slug, f.rw.PublicKey, f.rwSecret, a.clock.Now())
	a.call("GET", "/api/v1/key", "", "", good)
	a.call("GET", "/api/v1/key", "", "", bearer(token))
	a.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
		map[string]string{"Authorization": basic(f.rw.PublicKey, f.writeSecret)})
	if err := a.requests.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.stop()
	var raw strings.Builder
	for _, suffix := range []string{"", "-wal"} {
		b, _ := os.ReadFile(a.dbPath + suffix)
		raw.Write(b)
	}
	for _, s := range []string{f.rwSecret, f.writeSecret, token, good["API-Token"]} {
		if strings.Contains(raw.String(), s) {
			t.Errorf("the database holds %q", s[:12]+"…")
		}
	}
}
