package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/keys"
)

func TestKeyUsagePage(t *testing.T) {
	a := newTestApp(t)
	f := a.apiFixture("usage")
	other := a.apiFixture("other-usage")
	a.token(f.rw.PublicKey, f.rwSecret)
	a.call("GET", "/api/v1/leads", "", "", signedHeaders(f.acc.Slug, f.rw.PublicKey, f.rwSecret, a.clock.Now()))
	a.call("GET", "/api/v1/leads", "", "", signedHeaders(f.acc.Slug, f.rw.PublicKey, f.writeSecret, a.clock.Now()))
	if err := a.requests.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	admin := a.browser().login(f.admin.Email)
	path := "/settings/integrations/keys/" + itoa(f.rw.ID) + "/usage"

	res := admin.get(path)
	if res.status != http.StatusOK {
		t.Fatalf("usage page: %d", res.status)
	}
	for _, want := range []string{`data-testid="usage-chart"`, `<svg`, `role="img"`, `class="bar-ok"`, `class="bar-failed"`,
		"3 requests, 2 succeeded and 1 failed", `data-testid="top-failures"`, "invalid_signature", "127.0.0.1",
		`data-testid="recent-requests"`, `data-testid="open-debugger"`, "Debug 1 failed"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("usage page lacks %q", want)
		}
	}
	if !strings.Contains(res.body, `<span class="num">1</span> issued in the last 30 minutes`) {
		t.Errorf("usage page does not count the token issued")
	}
	if strings.Contains(res.body, "style=") {
		t.Errorf("the usage page has an inline style the CSP forbids")
	}
	filtered := admin.get(path + "?range=7d&outcome=invalid_signature")
	if filtered.status != http.StatusOK || strings.Count(filtered.body, `<span class="badge badge-revoked">invalid_signature</span>`) != 1 ||
		strings.Contains(filtered.body, `<span class="badge badge-active">ok</span>`) {
		t.Errorf("outcome filter: %d", filtered.status)
	}

	for _, tt := range []struct{ name, query, want string }{
		{"range", "?range=1y", "The chart range must be 24h, 7d or 30d."},
		{"outcome", "?outcome=teapot", "The outcome filter must be one of"},
		{"cursor", "?before=abc", "That page of requests does not exist"},
		{"negative cursor", "?before=-1.5", "That page of requests does not exist"},
	} {
		t.Run("bad "+tt.name, func(t *testing.T) {
			res := admin.get(path + tt.query)
			if res.status != http.StatusBadRequest || !strings.Contains(res.body, tt.want) {
				t.Errorf("%s: %d %q", tt.query, res.status, res.body)
			}
		})
	}
	if res := admin.get("/settings/integrations/keys/" + itoa(other.rw.ID) + "/usage"); res.status != http.StatusNotFound {
		t.Errorf("another account's key: %d, want 404", res.status)
	}
	if res := admin.get("/settings/integrations/keys/" + itoa(other.rw.ID) + "/signature-failures"); res.status != http.StatusNotFound {
		t.Errorf("another account's debugger: %d, want 404", res.status)
	}
	dealer := a.browser().login(f.dealer.Email)
	for _, p := range []string{path, "/settings/integrations/keys/" + itoa(f.rw.ID) + "/signature-failures"} {
		if res := dealer.get(p); res.status != http.StatusForbidden {
			t.Errorf("dealer %s: %d, want 403", p, res.status)
		}
	}
	if res := admin.get("/"); !strings.Contains(res.body, `data-testid="account-usage"`) || !strings.Contains(res.body, "3 requests") {
		t.Errorf("the landing page lacks the account's usage")
	}
}

// sign is the test's own signer, independent of keys.Sign.
func sign(secret, text string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	io.WriteString(m, text)
	return m.Sum(nil)
}

// TestSignatureDebuggerDiagnosesEachMistake makes each common mistake with
// an independent signer, sends it to the API, and reads the diagnosis.
func TestSignatureDebuggerDiagnosesEachMistake(t *testing.T) {
	a := newTestApp(t)
	f := a.apiFixture("debug-me")
	testKey, testSecret := a.key(f.acc, f.admin, "Sandbox", db.Integration, keys.Test, db.LicenseLeads)
	_ = testKey
	admin := a.browser().login(f.admin.Email)
	now := a.clock.Now()
	iso := now.UTC().Format("2006-01-02T15:04:05Z")
	unix := strconv.FormatInt(now.Unix(), 10)

	tests := []struct {
		name     string
		header   func(public, secret string) map[string]string
		finding  string
		sentence string
		wantSkew string
		expected string
	}{
		{"unix seconds", func(p, s string) map[string]string {
			return map[string]string{"API-Key": p, "API-Timestamp": unix, "API-Token": hex.EncodeToString(sign(s, f.acc.Slug+":"+p+"@"+unix))}
		}, keys.FindingUnixTimestamp, "the timestamp must be " + iso, "none", "@" + iso},
		{"local time", func(p, s string) map[string]string {
			ts := now.Add(-5 * time.Hour).Format("2006-01-02T15:04:05Z")
			return map[string]string{"API-Key": p, "API-Timestamp": ts, "API-Token": hex.EncodeToString(sign(s, f.acc.Slug+":"+p+"@"+ts))}
		}, keys.FindingLocalTime, "5 h behind", "the client is 5 h behind the server", ""},
		{"wrong slug", func(p, s string) map[string]string {
			return map[string]string{"API-Key": p, "API-Timestamp": iso, "API-Token": hex.EncodeToString(sign(s, "debug_me:"+p+"@"+iso))}
		}, keys.FindingWrongSlug, "debug_me", "none", "@" + iso},
		{"upper-case hex", func(p, s string) map[string]string {
			return map[string]string{"API-Key": p, "API-Timestamp": iso, "API-Token": strings.ToUpper(hex.EncodeToString(sign(s, f.acc.Slug+":"+p+"@"+iso)))}
		}, keys.FindingUpperHex, "lower case", "none", ""},
		{"base64", func(p, s string) map[string]string {
			return map[string]string{"API-Key": p, "API-Timestamp": iso, "API-Token": base64.StdEncoding.EncodeToString(sign(s, f.acc.Slug+":"+p+"@"+iso))}
		}, keys.FindingBase64, "base64", "none", ""},
		{"the test key's secret", func(p, _ string) map[string]string {
			return map[string]string{"API-Key": p, "API-Timestamp": iso, "API-Token": hex.EncodeToString(sign(testSecret, f.acc.Slug+":"+p+"@"+iso))}
		}, keys.FindingOtherSecret, "the secret of the test key “Sandbox”", "none", ""},
		{"v1 under a v2 header", func(p, s string) map[string]string {
			h := map[string]string{"API-Key": p, "API-Timestamp": iso, "API-Signature-Version": "2",
				"API-Token": hex.EncodeToString(sign(s, f.acc.Slug+":"+p+"@"+iso))}
			h["API-Token"] = strings.ToUpper(h["API-Token"]) // refused today, so it is logged
			return h
		}, keys.FindingV1UnderV2, "version 1 text", "none", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, secret := a.key(f.acc, f.admin, "Debug "+strconv.Itoa(i), db.Integration, keys.Live, db.LicenseLeads)
			res := a.call("GET", "/api/v1/leads", "", "", tt.header(k.PublicKey, secret))
			if res.status < 400 {
				t.Fatalf("the mistaken request passed: %d", res.status)
			}
			if err := a.requests.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			page := admin.get("/settings/integrations/keys/" + itoa(k.ID) + "/signature-failures")
			if page.status != http.StatusOK {
				t.Fatalf("debugger: %d", page.status)
			}
			if !strings.Contains(page.body, `data-code="`+tt.finding+`"`) || !strings.Contains(page.body, tt.sentence) {
				t.Errorf("no %s finding saying %q in:\n%s", tt.finding, tt.sentence, findingsOf(page.body))
			}
			if !strings.Contains(page.body, tt.wantSkew) {
				t.Errorf("skew %q not shown", tt.wantSkew)
			}
			if tt.expected != "" && !strings.Contains(page.body, f.acc.Slug+":"+k.PublicKey+tt.expected) {
				t.Errorf("expected text %q not shown", f.acc.Slug+":"+k.PublicKey+tt.expected)
			}
			if strings.Contains(page.body, secret) || strings.Contains(page.body, testSecret) ||
				strings.Contains(page.body, hex.EncodeToString(sign(secret, f.acc.Slug+":"+k.PublicKey+"@"+iso))) {
				t.Errorf("the debugger shows a secret or the expected MAC")
			}
		})
	}

	t.Run("token endpoint with the secret from before a roll", func(t *testing.T) {
		old, oldSecret := a.key(f.acc, f.admin, "Rolled", db.Integration, keys.Live, db.LicenseLeads)
		newPublic, newSecret := keys.NewAPIKey(keys.Live), keys.NewSecret(keys.Live)
		_, rolled, err := a.db.RollAPIKey(context.Background(), f.acc.ID, old.ID, db.APIKey{PublicKey: newPublic,
			SecretSealed: a.sealer.Seal(newSecret, newPublic), SecretLast4: keys.Last4(newSecret)},
			nil, db.Actor{UserID: f.admin.ID, Email: f.admin.Email}, a.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		res := a.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
			map[string]string{"Authorization": basic(rolled.PublicKey, oldSecret)})
		expectError(t, res, http.StatusUnauthorized, "invalid_client")
		a.requests.Flush(context.Background())
		page := admin.get("/settings/integrations/keys/" + itoa(rolled.ID) + "/signature-failures")
		if !strings.Contains(page.body, `data-code="other_secret"`) || !strings.Contains(page.body, "the old secret of this key, replaced by a roll on") {
			t.Errorf("the old secret is not recognised:\n%s", findingsOf(page.body))
		}
		res = a.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
			map[string]string{"Authorization": basic(rolled.PublicKey, keys.NewSecret(keys.Live))})
		a.requests.Flush(context.Background())
		page = admin.get("/settings/integrations/keys/" + itoa(rolled.ID) + "/signature-failures")
		if !strings.Contains(page.body, "The key exists but the secret does not match — was the key rolled on") {
			t.Errorf("an unknown secret is not explained:\n%s", findingsOf(page.body))
		}
	})

	events, err := a.db.AuditEvents(context.Background(), f.acc.ID, db.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	opened := 0
	for _, e := range events {
		if e.Action == db.AuditDebugSignatures && e.UserID == f.admin.ID {
			opened++
		}
	}
	if opened != len(tests)+2 {
		t.Errorf("debugger opened %d times in the audit log, want %d", opened, len(tests)+2)
	}
}

// findingsOf cuts the findings lists out of a page, for failure messages.
func findingsOf(body string) string {
	var out []string
	for _, part := range strings.Split(body, `<ul class="findings"`)[1:] {
		out = append(out, strings.SplitN(part, "</ul>", 2)[0])
	}
	return strings.Join(out, "\n")
}

// TestSignatureDebuggerVersion2 sends body-signed requests with the common
// mistakes, signed as the Developer docs tell a client to (six lines joined
// by \n), and reads the debugger's diagnosis of each.
func TestSignatureDebuggerVersion2(t *testing.T) {
	a := newTestApp(t)
	f := a.apiFixture("debug-v2")
	admin := a.browser().login(f.admin.Email)
	iso := a.clock.Now().UTC().Format("2006-01-02T15:04:05Z")
	body := `{"contact":{"first_name":"Ann","email":"ann@example.com"}}`
	hexSum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	v2 := func(secret, method, target, slugKey, bodyHex string) string {
		return hex.EncodeToString(sign(secret, strings.Join([]string{"2", method, target, iso, slugKey, bodyHex}, "\n")))
	}
	tests := []struct {
		name, target    string
		token           func(public, secret string) string
		finding, saying string
	}{
		{"signed before the body was attached", "/api/v1/leads", func(p, s string) string {
			return v2(s, "POST", "/api/v1/leads", f.acc.Slug+":"+p, hexSum(""))
		}, keys.FindingEmptyBody, "whose SHA-256 is " + hexSum(body)},
		{"the body changed after signing", "/api/v1/leads", func(p, s string) string {
			return v2(s, "POST", "/api/v1/leads", f.acc.Slug+":"+p, hexSum(`{"contact": {"first_name": "Ann", "email": "ann@example.com"}}`))
		}, keys.FindingBodyChanged, "body that changed after it was signed"},
		{"the query left out", "/api/v1/leads?dry_run=1", func(p, s string) string {
			return v2(s, "POST", "/api/v1/leads", f.acc.Slug+":"+p, hexSum(body))
		}, keys.FindingTargetQuery, "exactly as sent, /api/v1/leads?dry_run=1"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, secret := a.key(f.acc, f.admin, "V2 "+strconv.Itoa(i), db.DigitalRequests, keys.Live, db.LicenseLeads)
			res := a.call("POST", tt.target, "application/json", body, map[string]string{"API-Key": k.PublicKey,
				"API-Timestamp": iso, "API-Signature-Version": "2", "API-Token": tt.token(k.PublicKey, secret)})
			expectError(t, res, http.StatusUnauthorized, "invalid_signature")
			if err := a.requests.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			page := admin.get("/settings/integrations/keys/" + itoa(k.ID) + "/signature-failures")
			if !strings.Contains(page.body, `data-code="`+tt.finding+`"`) || !strings.Contains(page.body, tt.saying) {
				t.Errorf("no %s finding saying %q in:\n%s", tt.finding, tt.saying, findingsOf(page.body))
			}
			want := html.EscapeString(strings.Join([]string{"2", "POST", tt.target, iso, f.acc.Slug + ":" + k.PublicKey, hexSum(body)}, "\n"))
			if !strings.Contains(page.body, want) {
				t.Errorf("the version 2 text to sign is not shown: %q", want)
			}
			if strings.Contains(page.body, secret) {
				t.Errorf("the debugger shows the secret")
			}
		})
	}
}

// TestKeyHealthFlagsFailingKeys: a key whose requests of the last day fail
// 10 % of the time or more is flagged, on its usage page and on the landing
// page, with its commonest failure and where to look; a key that fails less,
// or had too few requests to judge, is not.
func TestKeyHealthFlagsFailingKeys(t *testing.T) {
	a := newTestApp(t)
	f := a.apiFixture("failing")
	for i := range 28 {
		secret := f.rwSecret
		if i%3 == 0 { // 10 of 28 signed with the wrong secret: 35.7 %
			secret = f.writeSecret
		}
		a.call("GET", "/api/v1/leads", "", "", signedHeaders(f.acc.Slug, f.rw.PublicKey, secret, a.clock.Now()))
	}
	for range 25 { // the write key: 1 in 25 fails (4 %)
		postLead(a, signedHeaders(f.acc.Slug, f.write.PublicKey, f.writeSecret, a.clock.Now()), goodLead)
	}
	postLead(a, signedHeaders(f.acc.Slug, f.write.PublicKey, f.rwSecret, a.clock.Now()), goodLead)
	if err := a.requests.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	admin := a.browser().login(f.admin.Email)
	want := "10 of its 28 requests in the last 24 hours failed (35.7 %), most with invalid_signature."
	debugger := `href="/settings/integrations/keys/` + itoa(f.rw.ID) + `/signature-failures">Open the signature debugger`
	for _, path := range []string{"/settings/integrations/keys/" + itoa(f.rw.ID) + "/usage", "/"} {
		res := admin.get(path)
		if !strings.Contains(res.body, want) || !strings.Contains(res.body, debugger) {
			t.Errorf("%s: Key health does not flag the failing key: %d", path, res.status)
		}
		if strings.Contains(res.body, "Nothing to flag") {
			t.Errorf("%s: Nothing to flag beside a key failing a third of the time", path)
		}
	}
	if res := admin.get("/settings/integrations/keys/" + itoa(f.write.ID) + "/usage"); strings.Contains(res.body, "requests in the last 24 hours failed") {
		t.Error("a key failing 4 % of the time is flagged")
	}
	// The landing page reuses what it found for a minute; the key's own page does not.
	for range 30 {
		postLead(a, signedHeaders(f.acc.Slug, f.write.PublicKey, f.rwSecret, a.clock.Now()), goodLead)
	}
	if err := a.requests.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	writeFailing := "31 of its 56 requests in the last 24 hours failed"
	if res := admin.get("/settings/integrations/keys/" + itoa(f.write.ID) + "/usage"); !strings.Contains(res.body, writeFailing) {
		t.Error("the usage page does not flag the key failing now")
	}
	if res := admin.get("/"); strings.Contains(res.body, writeFailing) {
		t.Error("the landing page read the failing keys again within the minute")
	}
	a.clock.Advance(61 * time.Second)
	if res := admin.get("/"); !strings.Contains(res.body, writeFailing) {
		t.Error("the landing page still shows what it found over a minute ago")
	}
	// A day later the failures are out of the span.
	a.clock.Advance(25 * time.Hour)
	if res := a.browser().login(f.admin.Email).get("/"); res.status != http.StatusOK || strings.Contains(res.body, "requests in the last 24 hours failed") {
		t.Errorf("yesterday's failures still flag the key: %d", res.status)
	}
}

// TestKeyHealthNamesLinkAndSkipRetiringKeys: each flag's key name opens the
// key, and a key retiring after a roll is not flagged beside its successor.
func TestKeyHealthNamesLinkAndSkipRetiringKeys(t *testing.T) {
	a := newTestApp(t)
	acc, admin, _ := a.account("acme", db.LicenseLeads)
	spare, _ := a.key(acc, admin, "Spare", db.DigitalRequests, keys.Live, db.LicenseLeads)
	b := a.browser().login(admin.Email)
	if home := b.get("/").body; !strings.Contains(home, `href="/settings/integrations/keys/`+itoa(spare.ID)+`" data-testid="health-key">Spare</a>`) {
		t.Error("the flag's key name does not link to the key")
	}
	b.shownOnce(b.post("/settings/integrations", "/settings/integrations/keys/"+itoa(spare.ID)+"/roll",
		url.Values{"old": {"retire"}, "window": {"1h"}, "deadline": {"7d"}}))
	if n := strings.Count(b.get("/").body, `data-testid="health-key">Spare</a>:</strong> Never used yet.`); n != 1 {
		t.Errorf("Spare is flagged %d times after a roll that keeps the old pair working, want once (the new pair)", n)
	}
	// Failing calls still count on the retiring pair: its clients are the ones to move.
	for range 25 {
		a.call("GET", "/api/v1/key", "", "", signedHeaders("acme", spare.PublicKey, keys.NewSecret(keys.Live), a.clock.Now()))
	}
	if err := a.requests.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := b.get("/settings/integrations/keys/" + itoa(spare.ID) + "/usage"); !strings.Contains(res.body, "25 of its 25 requests in the last 24 hours failed") {
		t.Error("the retiring pair's failing calls are not flagged on its usage page")
	}
}

// TestSignatureDebuggerGroupsARepeatedMistake: the same mistake sent 25
// times shows once, counted, and an older, different mistake still shows.
func TestSignatureDebuggerGroupsARepeatedMistake(t *testing.T) {
	a := newTestApp(t)
	f := a.apiFixture("acme")
	unix := strconv.FormatInt(a.clock.Now().Unix(), 10)
	text := f.acc.Slug + ":" + f.rw.PublicKey + "@" + unix
	a.call("GET", "/api/v1/key", "", "", map[string]string{"API-Key": f.rw.PublicKey, "API-Timestamp": unix,
		"API-Token": hex.EncodeToString(sign(f.rwSecret, text))})
	for range 25 {
		a.clock.Advance(time.Second)
		a.call("GET", "/api/v1/key", "", "", signedHeaders(f.acc.Slug, f.rw.PublicKey, f.writeSecret, a.clock.Now()))
	}
	if err := a.requests.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	page := a.browser().login(f.admin.Email).get("/settings/integrations/keys/" + itoa(f.rw.ID) + "/signature-failures")
	if n := strings.Count(page.body, `data-testid="debug-attempt"`); n != 2 {
		t.Errorf("%d attempts shown, want 2 (the repeated mistake once, and the older one)", n)
	}
	if !strings.Contains(page.body, `data-testid="attempt-like">25 failures like this, `) || !strings.Contains(page.body, "unix_timestamp") {
		t.Error("the repeated mistake is not counted, or the older one is gone")
	}
}

// TestKeyHealthFlagsALiveKeyWithoutAllowlist: a live key with no IP
// allowlist is flagged with the way to add one; a test key, or a live key
// with a Report-only list, is not.
func TestKeyHealthFlagsALiveKeyWithoutAllowlist(t *testing.T) {
	a := newTestApp(t)
	f := a.apiFixture("acme")
	sandbox, _ := a.key(f.acc, f.admin, "Sandbox", db.DigitalRequests, keys.Test, db.LicenseLeads)
	b := a.browser().login(f.admin.Email)
	flag := "A live key with no IP allowlist"
	usage := func(id int64) string { return b.get("/settings/integrations/keys/" + itoa(id) + "/usage").body }
	if body := usage(f.rw.ID); !strings.Contains(body, flag) || !strings.Contains(body, `href="/settings/integrations/keys/`+itoa(f.rw.ID)+`/edit">Add an allowlist`) {
		t.Error("a live key without an allowlist is not flagged with the way to add one")
	}
	if strings.Contains(usage(sandbox.ID), flag) {
		t.Error("a test key is flagged for its allowlist")
	}
	form := validKeyForm("CRM", db.Integration)
	form.Del("type")
	form.Set("ip_mode", "report")
	form.Set("ip_allow", "203.0.113.0/24")
	keyPage := "/settings/integrations/keys/" + itoa(f.rw.ID)
	if res := b.post(keyPage, keyPage, form); res.status != http.StatusSeeOther {
		t.Fatalf("set a Report-only allowlist: %d %s", res.status, res.body)
	}
	if strings.Contains(usage(f.rw.ID), flag) {
		t.Error("a key with a Report-only allowlist is still flagged")
	}
	if home := b.get("/").body; !strings.Contains(home, `data-testid="health-key">Website form</a>:</strong> `+flag) {
		t.Error("the landing page does not flag the other live key without an allowlist")
	}
}
