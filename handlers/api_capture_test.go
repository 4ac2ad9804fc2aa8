package handlers

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/keys"
)

const goodCapture = `{
	"customer": {"name": "Ann Lee", "email": "ann@example.com", "phone": "+1 555 010 2030"},
	"vehicle": {"vin": "1hgcm82633a004352", "year": 2024, "make": "Honda", "model": "Accord", "stock_number": "A123"}
}`

// captureSettings are the capture settings of the keys these tests make.
var captureSettings = keys.Settings{
	Theme: "pro", PIIMask: true, RedirectURL: "https://dealer.example/thanks", SkipOdometer: true,
	IncludeDisclosures: true, WearAndTear: true,
	CaptureSMS:    "Hi {customer}, {dealer} asks you to photograph your {vehicle}: {link}",
	SessionExpiry: 6 * time.Hour,
}

// captureKey creates a key holding the capture license with settings.
func (a *testApp) captureKey(acc db.Account, by db.User, name string, typ db.KeyType, mode keys.Mode, settings keys.Settings) (db.APIKey, string) {
	a.t.Helper()
	public, secret := keys.NewAPIKey(mode), keys.NewSecret(mode)
	k, err := a.db.CreateAPIKey(context.Background(), db.APIKey{
		AccountID: acc.ID, Name: name, Type: typ, Licenses: []string{db.LicenseCapture}, Mode: mode, PublicKey: public,
		SecretSealed: a.sealer.Seal(secret, public), SecretLast4: keys.Last4(secret),
		Settings: settings, CreatedAt: a.clock.Now(), CreatedBy: by.ID,
	}, db.Actor{UserID: by.ID, Email: by.Email, RemoteAddr: "127.0.0.1"})
	if err != nil {
		a.t.Fatal(err)
	}
	return k, secret
}

// captureFixture is an account with a live integration key and a live
// digital-requests key, both holding the capture license.
type captureFixture struct {
	apiFixture
	capture, captureWrite db.APIKey
	captureSecret         string
	auth, writeAuth       map[string]string
}

func (a *testApp) captureFixture(slug string) captureFixture {
	a.t.Helper()
	f := captureFixture{apiFixture: a.apiFixture(slug)}
	var writeSecret string
	f.capture, f.captureSecret = a.captureKey(f.acc, f.admin, "Capture app", db.Integration, keys.Live, captureSettings)
	f.captureWrite, writeSecret = a.captureKey(f.acc, f.admin, "Capture form", db.DigitalRequests, keys.Live, captureSettings)
	f.auth = bearer(a.token(f.capture.PublicKey, f.captureSecret))
	f.writeAuth = bearer(a.token(f.captureWrite.PublicKey, writeSecret))
	return f
}

func postCapture(app *testApp, header map[string]string, body string) response {
	app.t.Helper()
	return app.call("POST", "/api/v1/capture-sessions", "application/json", body, header)
}

// createCapture posts a session that must be created and returns it.
func createCapture(app *testApp, header map[string]string, body string) captureSessionJSON {
	app.t.Helper()
	res := postCapture(app, header, body)
	if res.status != 201 {
		app.t.Fatalf("create: %d %s", res.status, res.body)
	}
	var s captureSessionJSON
	if err := json.Unmarshal([]byte(res.body), &s); err != nil {
		app.t.Fatal(err)
	}
	return s
}

func getCapture(app *testApp, header map[string]string, id string) captureSessionJSON {
	app.t.Helper()
	res := app.call("GET", "/api/v1/capture-sessions/"+id, "", "", header)
	if res.status != 200 {
		app.t.Fatalf("show %s: %d %s", id, res.status, res.body)
	}
	var s captureSessionJSON
	json.Unmarshal([]byte(res.body), &s)
	return s
}

func TestCaptureSessionCreateWithKeyDefaults(t *testing.T) {
	app := newTestApp(t)
	f := app.captureFixture("acme")
	res := postCapture(app, f.writeAuth, goodCapture)
	if res.status != 201 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	var got captureSessionJSON
	json.Unmarshal([]byte(res.body), &got)
	if !strings.HasPrefix(got.ID, "cs_") || strings.HasPrefix(got.ID, "cs_test_") {
		t.Fatalf("id %q", got.ID)
	}
	if res.header.Get("Location") != "/api/v1/capture-sessions/"+got.ID {
		t.Errorf("Location %q", res.header.Get("Location"))
	}
	link := app.srv.URL + "/capture/" + got.ID
	want := captureSessionJSON{
		ID: got.ID, Status: "pending", Mode: "live", APIKeyName: "Capture form", CaptureURL: link,
		Customer: captureCustomer{Name: "Ann Lee", Email: "ann@example.com", Phone: "+1 555 010 2030"},
		Vehicle:  leadVehicle{VIN: "1HGCM82633A004352", Year: 2024, Make: "Honda", Model: "Accord", StockNumber: "A123"},
		Settings: captureSettingsJSON{Theme: "pro", PIIMask: true, RedirectURL: "https://dealer.example/thanks",
			SkipOdometer: true, IncludeDisclosures: true, WearAndTear: true},
		RequiresManualOdometer: true,
		CaptureSMS:             "Hi Ann Lee, ACME asks you to photograph your 2024 Honda Accord: " + link,
		CreatedAt:              "2026-11-22T12:00:00Z",
		ExpiresAt:              "2026-11-22T18:00:00Z",
	}
	if g, w := mustJSON(got), mustJSON(want); g != w {
		t.Fatalf("got  %s\nwant %s", g, w)
	}
	// An integration key of the same account and mode reads it back unchanged.
	if g, w := mustJSON(getCapture(app, f.auth, got.ID)), mustJSON(want); g != w {
		t.Fatalf("show got  %s\nwant %s", g, w)
	}
}

func TestCaptureSessionOverrides(t *testing.T) {
	app := newTestApp(t)
	f := app.captureFixture("acme")
	keyDefaults := captureSettingsJSON{Theme: "pro", PIIMask: true, RedirectURL: "https://dealer.example/thanks",
		SkipOdometer: true, IncludeDisclosures: true, WearAndTear: true}
	tests := []struct {
		name      string
		overrides string
		want      func(s *captureSettingsJSON)
	}{
		{"none", `{}`, func(*captureSettingsJSON) {}},
		{"nulls keep defaults", `{"theme": null, "skip_odometer": null}`, func(*captureSettingsJSON) {}},
		{"theme", `{"theme": "lite"}`, func(s *captureSettingsJSON) { s.Theme = "lite" }},
		{"turn options off", `{"pii_mask": false, "skip_odometer": false, "include_disclosures": false, "wear_and_tear": false}`,
			func(s *captureSettingsJSON) {
				s.PIIMask, s.SkipOdometer, s.IncludeDisclosures, s.WearAndTear = false, false, false, false
			}},
		{"turn options on", `{"skip_interior": true, "include_announcements": true}`,
			func(s *captureSettingsJSON) { s.SkipInterior, s.IncludeAnnouncements = true, true }},
		{"redirect", `{"redirect_url": " https://other.example/done "}`,
			func(s *captureSettingsJSON) { s.RedirectURL = "https://other.example/done" }},
		{"redirect to localhost", `{"redirect_url": "http://localhost:3000/done"}`,
			func(s *captureSettingsJSON) { s.RedirectURL = "http://localhost:3000/done" }},
		{"no redirect", `{"redirect_url": ""}`, func(s *captureSettingsJSON) { s.RedirectURL = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"customer": {"phone": "5550102030"}, "settings": ` + tt.overrides + `}`
			got := createCapture(app, f.auth, body)
			want := keyDefaults
			tt.want(&want)
			if g, w := mustJSON(got.Settings), mustJSON(want); g != w {
				t.Fatalf("settings %s\nwant     %s", g, w)
			}
			if got.RequiresManualOdometer != want.SkipOdometer {
				t.Errorf("requires_manual_odometer %v with skip_odometer %v", got.RequiresManualOdometer, want.SkipOdometer)
			}
			if g, w := mustJSON(getCapture(app, f.auth, got.ID).Settings), mustJSON(want); g != w {
				t.Fatalf("stored settings %s\nwant            %s", g, w)
			}
		})
	}
}

func TestCaptureSessionSMS(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	tests := []struct {
		name, template, body, want string
	}{
		{"every placeholder", "{customer}: {dealer} needs photos of your {vehicle}. {link}",
			goodCapture, "Ann Lee: ACME needs photos of your 2024 Honda Accord. {link}"},
		{"placeholders twice", "{customer} {customer} {vehicle}",
			`{"customer":{"name":"Bo","email":"bo@example.com"},"vehicle":{"make":"Kia"}}`, "Bo Bo Kia"},
		{"vehicle by VIN", "Your {vehicle}",
			`{"customer":{"email":"bo@example.com"},"vehicle":{"vin":"1HGCM82633A004352"}}`, "Your 1HGCM82633A004352"},
		{"no customer name or vehicle", "Hi {customer}, photos of your {vehicle} please",
			`{"customer":{"email":"bo@example.com"}}`, "Hi , photos of your  please"},
		{"no template", "", goodCapture, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings := captureSettings
			settings.CaptureSMS = tt.template
			k, secret := app.captureKey(f.acc, f.admin, "SMS "+itoa(int64(i)), db.Integration, keys.Live, settings)
			res := postCapture(app, bearer(app.token(k.PublicKey, secret)), tt.body)
			var got captureSessionJSON
			if err := json.Unmarshal([]byte(res.body), &got); err != nil || res.status != 201 {
				t.Fatalf("create: %d %s", res.status, res.body)
			}
			want := strings.ReplaceAll(tt.want, "{link}", got.CaptureURL)
			if got.CaptureSMS != want {
				t.Fatalf("capture_sms %q, want %q", got.CaptureSMS, want)
			}
			// A key without a Capture SMS gets none in the answer: left out, never "".
			if sent := strings.Contains(res.body, `"capture_sms"`); sent != (want != "") {
				t.Errorf("capture_sms in the answer: %v, want %v: %s", sent, want != "", res.body)
			}
		})
	}
}

func TestCaptureSessionExpires(t *testing.T) {
	app := newTestApp(t)
	f := app.captureFixture("acme")
	s := createCapture(app, f.auth, goodCapture)
	if s.CreatedAt != "2026-11-22T12:00:00Z" || s.ExpiresAt != "2026-11-22T18:00:00Z" {
		t.Fatalf("created %s, expires %s; want 6 hours apart", s.CreatedAt, s.ExpiresAt)
	}
	steps := []struct {
		advance time.Duration
		status  string
	}{
		{0, "pending"},
		{6*time.Hour - time.Second, "pending"},
		{time.Second, "expired"},
		{30 * 24 * time.Hour, "expired"},
	}
	for _, st := range steps {
		app.clock.Advance(st.advance)
		// A fresh token each step: the clock moves past a token's 1800 seconds.
		auth := bearer(app.token(f.capture.PublicKey, f.captureSecret))
		if got := getCapture(app, auth, s.ID); got.Status != st.status || got.ExpiresAt != s.ExpiresAt {
			t.Fatalf("at %s: status %q expires %s, want %q", app.clock.Now().Format(time.RFC3339), got.Status, got.ExpiresAt, st.status)
		}
		res := app.call("GET", "/api/v1/capture-sessions", "", "", auth)
		var page captureSessionsPage
		json.Unmarshal([]byte(res.body), &page)
		if len(page.Data) != 1 || page.Data[0].Status != st.status {
			t.Fatalf("at %s: list %s", app.clock.Now().Format(time.RFC3339), res.body)
		}
	}
}

func TestCaptureSessionAccess(t *testing.T) {
	app := newTestApp(t)
	f := app.captureFixture("acme")
	other := app.captureFixture("other")
	testKey, testSecret := app.captureKey(f.acc, f.admin, "Sandbox", db.Integration, keys.Test, captureSettings)
	testAuth := bearer(app.token(testKey.PublicKey, testSecret))
	noCaptureAcc, noCaptureAdmin, _ := app.account("leadsonly", db.LicenseLeads)
	claimKey, claimSecret := app.captureKey(noCaptureAcc, noCaptureAdmin, "Claims capture", db.Integration, keys.Live, captureSettings)

	live := createCapture(app, f.auth, goodCapture)
	sandbox := createCapture(app, testAuth, goodCapture)
	if !strings.HasPrefix(sandbox.ID, "cs_test_") || sandbox.Mode != "test" {
		t.Fatalf("test key made %s in mode %s", sandbox.ID, sandbox.Mode)
	}
	foreign := createCapture(app, other.auth, goodCapture)

	leadsOnly := bearer(app.token(f.rw.PublicKey, f.rwSecret))
	tests := []struct {
		name         string
		method, path string
		header       map[string]string
		status       int
		code         string
	}{
		{"key without capture license creates", "POST", "/api/v1/capture-sessions", leadsOnly, 403, "missing_license_capture"},
		{"key without capture license lists", "GET", "/api/v1/capture-sessions", leadsOnly, 403, "missing_license_capture"},
		{"key without capture license reads", "GET", "/api/v1/capture-sessions/" + live.ID, leadsOnly, 403, "missing_license_capture"},
		{"account without capture license", "GET", "/api/v1/capture-sessions",
			bearer(app.token(claimKey.PublicKey, claimSecret)), 403, "missing_license_capture"},
		{"digital-requests key lists", "GET", "/api/v1/capture-sessions", f.writeAuth, 403, "insufficient_scope"},
		{"digital-requests key reads", "GET", "/api/v1/capture-sessions/" + live.ID, f.writeAuth, 403, "insufficient_scope"},
		{"another account's session", "GET", "/api/v1/capture-sessions/" + foreign.ID, f.auth, 404, "not_found"},
		{"test key reads a live session", "GET", "/api/v1/capture-sessions/" + live.ID, testAuth, 404, "not_found"},
		{"live key reads a test session", "GET", "/api/v1/capture-sessions/" + sandbox.ID, f.auth, 404, "not_found"},
		{"unknown id", "GET", "/api/v1/capture-sessions/cs_nothing", f.auth, 404, "not_found"},
		{"no credentials", "GET", "/api/v1/capture-sessions", nil, 401, "missing_credentials"},
		{"bad limit", "GET", "/api/v1/capture-sessions?limit=101", f.auth, 400, "invalid_request"},
		{"bad cursor", "GET", "/api/v1/capture-sessions?cursor=%21", f.auth, 400, "invalid_cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := "", ""
			if tt.method == "POST" {
				body, ct = goodCapture, "application/json"
			}
			res := app.call(tt.method, tt.path, ct, body, tt.header)
			expectError(t, res, tt.status, tt.code)
			if tt.code == "insufficient_scope" && !strings.Contains(res.header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
				t.Errorf("WWW-Authenticate %q", res.header.Get("WWW-Authenticate"))
			}
		})
	}

	lists := []struct {
		name   string
		header map[string]string
		want   []string
	}{
		{"live key sees live sessions only", f.auth, []string{live.ID}},
		{"test key sees test sessions only", testAuth, []string{sandbox.ID}},
		{"other account sees its own only", other.auth, []string{foreign.ID}},
	}
	for _, tt := range lists {
		t.Run(tt.name, func(t *testing.T) {
			res := app.call("GET", "/api/v1/capture-sessions", "", "", tt.header)
			var page captureSessionsPage
			json.Unmarshal([]byte(res.body), &page)
			var ids []string
			for _, s := range page.Data {
				ids = append(ids, s.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("ids %v, want %v", ids, tt.want)
			}
		})
	}
}

func TestCaptureSessionValidation(t *testing.T) {
	app := newTestApp(t)
	f := app.captureFixture("acme")
	tests := []struct {
		name   string
		body   string
		fields []string
	}{
		{"empty object", `{}`, []string{"customer.phone"}},
		{"name only", `{"customer":{"name":"Ann"}}`, []string{"customer.phone"}},
		{"bad email", `{"customer":{"email":"Ann <ann@example.com>"}}`, []string{"customer.email"}},
		{"bad phone", `{"customer":{"phone":"call me"}}`, []string{"customer.phone"}},
		{"bad vin", `{"customer":{"phone":"5550102030"},"vehicle":{"vin":"1HGCM82633A00435"}}`, []string{"vehicle.vin"}},
		{"old year", `{"customer":{"phone":"5550102030"},"vehicle":{"year":1800}}`, []string{"vehicle.year"}},
		{"year as text", `{"customer":{"phone":"5550102030"},"vehicle":{"year":"2024"}}`, []string{"vehicle.year"}},
		{"long name", `{"customer":{"name":"` + strings.Repeat("x", 101) + `","phone":"5550102030"}}`, []string{"customer.name"}},
		{"control character", `{"customer":{"name":"Ann\u0007","phone":"5550102030"}}`, []string{"customer.name"}},
		{"bad theme", `{"customer":{"phone":"5550102030"},"settings":{"theme":"dark"}}`, []string{"settings.theme"}},
		{"plain http redirect", `{"customer":{"phone":"5550102030"},"settings":{"redirect_url":"http://dealer.example/"}}`, []string{"settings.redirect_url"}},
		{"relative redirect", `{"customer":{"phone":"5550102030"},"settings":{"redirect_url":"/thanks"}}`, []string{"settings.redirect_url"}},
		{"option as text", `{"customer":{"phone":"5550102030"},"settings":{"skip_odometer":"yes"}}`, []string{"settings.skip_odometer"}},
		{"several at once", `{"customer":{"email":"nope"},"vehicle":{"vin":"X"},"settings":{"theme":"x"}}`,
			[]string{"customer.email", "vehicle.vin", "settings.theme"}},
		{"unknown field", `{"customer":{"phone":"5550102030"},"session_expiry":"1h"}`, []string{"session_expiry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := postCapture(app, f.auth, tt.body)
			expectError(t, res, 400, "validation_failed")
			var out struct {
				Fields map[string]string `json:"fields"`
			}
			json.Unmarshal([]byte(res.body), &out)
			if len(out.Fields) != len(tt.fields) {
				t.Fatalf("fields %v, want %v", out.Fields, tt.fields)
			}
			for _, name := range tt.fields {
				if out.Fields[name] == "" {
					t.Errorf("no message for %s: %v", name, out.Fields)
				}
			}
		})
	}
	bad := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"not json", "application/json", `{"customer":`, 400, "invalid_json"},
		{"array", "application/json", `[1]`, 400, "invalid_json"},
		{"two objects", "application/json", `{} {}`, 400, "invalid_json"},
		{"form body", formType, "phone=5550102030", 415, "unsupported_media_type"},
		{"no content type", "", goodCapture, 415, "unsupported_media_type"},
		{"over 1 MiB", "application/json", `{"customer":{"name":"` + strings.Repeat("x", 1<<20) + `"}}`, 413, "request_too_large"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			expectError(t, app.call("POST", "/api/v1/capture-sessions", tt.contentType, tt.body, f.auth), tt.status, tt.code)
		})
	}
	long := map[string]string{"Authorization": f.auth["Authorization"], "Idempotency-Key": strings.Repeat("k", 256)}
	expectError(t, postCapture(app, long, goodCapture), 400, "invalid_request")

	sessions, err := app.db.CaptureSessions(t.Context(), f.acc.ID, db.CaptureSessionFilter{Limit: 100})
	if err != nil || len(sessions) != 0 {
		t.Errorf("%d sessions stored by refused requests (%v)", len(sessions), err)
	}
}

func TestCaptureSessionIdempotency(t *testing.T) {
	app := newTestApp(t)
	f := app.captureFixture("acme")
	h := map[string]string{"Authorization": f.auth["Authorization"], "Idempotency-Key": "visit-42"}
	first := postCapture(app, h, goodCapture)
	app.clock.Advance(time.Minute)
	again := postCapture(app, h, strings.ReplaceAll(goodCapture, "\n", " "))
	if first.status != 201 || again.status != 201 || first.body != again.body {
		t.Fatalf("retry answered differently:\n%d %s\n%d %s", first.status, first.body, again.status, again.body)
	}
	if again.header.Get("Idempotent-Replayed") != "true" || first.header.Get("Idempotent-Replayed") != "" {
		t.Error("replay not marked, or first answer marked")
	}
	expectError(t, postCapture(app, h, strings.Replace(goodCapture, "Ann", "Bob", 1)), 422, "idempotency_key_reused")
	// The same idempotency key from another key is another request.
	otherKey := map[string]string{"Authorization": f.writeAuth["Authorization"], "Idempotency-Key": "visit-42"}
	if res := postCapture(app, otherKey, goodCapture); res.status != 201 || res.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("other key: %d %s", res.status, res.body)
	}
	sessions, _ := app.db.CaptureSessions(t.Context(), f.acc.ID, db.CaptureSessionFilter{Limit: 100})
	if len(sessions) != 2 {
		t.Errorf("%d sessions, want 2", len(sessions))
	}
}

func TestCaptureSessionListPages(t *testing.T) {
	app := newTestApp(t)
	f := app.captureFixture("acme")
	var ids []string
	for range 5 {
		ids = append(ids, createCapture(app, f.auth, goodCapture).ID)
		app.clock.Advance(time.Millisecond)
	}
	var seen []string
	cursor := ""
	for page := 0; page < 5; page++ {
		path := "/api/v1/capture-sessions?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		res := app.call("GET", path, "", "", f.auth)
		if res.status != 200 {
			t.Fatalf("%d %s", res.status, res.body)
		}
		var p captureSessionsPage
		json.Unmarshal([]byte(res.body), &p)
		for _, s := range p.Data {
			seen = append(seen, s.ID)
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Fatalf("pages gave %v, want newest first %v", seen, want)
	}
}
