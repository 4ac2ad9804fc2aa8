package handlers

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/web"
)

const goodLead = `{
	"contact": {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com", "phone": "+1 (555) 010-2030"},
	"vehicle": {"vin": "1hgcm82633a004352", "year": 2024, "make": "Honda", "model": "Accord", "stock_number": "A123"},
	"message": "Is it still available?\nThanks.",
	"source": "website"
}`

func postLead(app *testApp, header map[string]string, body string) response {
	app.t.Helper()
	return app.call("POST", "/api/v1/leads", "application/json", body, header)
}

func TestLeadCreateAndRead(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	res := postLead(app, bearer(app.token(f.write.PublicKey, f.writeSecret)), goodLead)
	if res.status != 201 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	var receipt map[string]any
	json.Unmarshal([]byte(res.body), &receipt)
	id, _ := receipt["id"].(string)
	if len(receipt) != 2 || !strings.HasPrefix(id, "ld_") || receipt["received_at"] != "2026-11-22T12:00:00Z" {
		t.Fatalf("receipt %s", res.body)
	}
	if res.header.Get("Location") != "/api/v1/leads/"+id {
		t.Errorf("Location %q", res.header.Get("Location"))
	}

	read := signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now())
	res = app.call("GET", "/api/v1/leads/"+id, "", "", read)
	if res.status != 200 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	var got leadJSON
	json.Unmarshal([]byte(res.body), &got)
	want := leadJSON{ID: id, ReceivedAt: "2026-11-22T12:00:00Z", Mode: "live", APIKeyName: "Website form",
		Contact: leadContact{FirstName: "Ann", LastName: "Lee", Email: "ann@example.com", Phone: "+1 (555) 010-2030"},
		Vehicle: leadVehicle{VIN: "1HGCM82633A004352", Year: 2024, Make: "Honda", Model: "Accord", StockNumber: "A123"},
		Message: "Is it still available?\nThanks.", Source: "website"}
	if g, w := mustJSON(got), mustJSON(want); g != w {
		t.Fatalf("got  %s\nwant %s", g, w)
	}
}

func TestLeadValidation(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	h := signedHeaders("acme", f.write.PublicKey, f.writeSecret, app.clock.Now())
	tests := []struct {
		name   string
		body   string
		fields []string
	}{
		{"empty object", `{}`, []string{"contact.last_name", "contact.email"}},
		{"bad email", `{"contact":{"last_name":"Lee","email":"Ann <ann@example.com>"}}`, []string{"contact.email"}},
		{"bad phone", `{"contact":{"last_name":"Lee","phone":"call me"}}`, []string{"contact.phone"}},
		{"short phone", `{"contact":{"last_name":"Lee","phone":"12345"}}`, []string{"contact.phone"}},
		{"bad vin", `{"contact":{"last_name":"Lee","phone":"5550102030"},"vehicle":{"vin":"1HGCM82633A00435O"}}`, []string{"vehicle.vin"}},
		{"old year", `{"contact":{"last_name":"Lee","phone":"5550102030"},"vehicle":{"year":1800}}`, []string{"vehicle.year"}},
		{"future year", `{"contact":{"last_name":"Lee","phone":"5550102030"},"vehicle":{"year":2029}}`, []string{"vehicle.year"}},
		{"year as text", `{"contact":{"last_name":"Lee","phone":"5550102030"},"vehicle":{"year":"2024"}}`, []string{"vehicle.year"}},
		{"long name", `{"contact":{"last_name":"` + strings.Repeat("x", 101) + `","phone":"5550102030"}}`, []string{"contact.last_name"}},
		{"control character", `{"contact":{"last_name":"Lee\u0007","phone":"5550102030"}}`, []string{"contact.last_name"}},
		{"long message", `{"contact":{"last_name":"Lee","phone":"5550102030"},"message":"` + strings.Repeat("x", 4001) + `"}`, []string{"message"}},
		{"unknown field", `{"contact":{"last_name":"Lee","phone":"5550102030"},"budget":1}`, []string{"budget"}},
		{"unknown field in vehicle", `{"contact":{"last_name":"Lee","phone":"5550102030"},"vehicle":{"make":"Honda","colour":"red"}}`, []string{"vehicle.colour"}},
		{"unknown field in contact", `{"contact":{"last_name":"Lee","phone":"5550102030","nickname":"Al"}}`, []string{"contact.nickname"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := postLead(app, h, tt.body)
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
		{"not json", "application/json", `{"contact":`, 400, "invalid_json"},
		{"array", "application/json", `[1]`, 400, "invalid_json"},
		{"two objects", "application/json", `{} {}`, 400, "invalid_json"},
		{"form body", formType, "first_name=Ann", 415, "unsupported_media_type"},
		{"text body", "text/plain", goodLead, 415, "unsupported_media_type"},
		{"no content type", "", goodLead, 415, "unsupported_media_type"},
		{"over 1 MiB", "application/json", `{"message":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "request_too_large"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			expectError(t, app.call("POST", "/api/v1/leads", tt.contentType, tt.body, h), tt.status, tt.code)
		})
	}
	if n := app.leadCount(f.acc.ID); n != 0 {
		t.Errorf("%d leads stored by refused requests", n)
	}
}

func TestLeadIdempotency(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	tok := app.token(f.write.PublicKey, f.writeSecret)
	h := map[string]string{"Authorization": "Bearer " + tok, "Idempotency-Key": "order-42"}
	first := postLead(app, h, goodLead)
	app.clock.Advance(time.Minute)
	again := postLead(app, h, strings.ReplaceAll(goodLead, "\n", " ")) // same lead, other whitespace
	if first.status != 201 || again.status != 201 || first.body != again.body {
		t.Fatalf("retry answered differently:\n%d %s\n%d %s", first.status, first.body, again.status, again.body)
	}
	if again.header.Get("Idempotent-Replayed") != "true" {
		t.Error("replay not marked")
	}
	expectError(t, postLead(app, h, strings.Replace(goodLead, "Ann", "Bob", 1)), 422, "idempotency_key_reused")
	other := map[string]string{"Authorization": "Bearer " + tok, "Idempotency-Key": "order-43"}
	if res := postLead(app, other, goodLead); res.status != 201 || res.body == first.body {
		t.Fatalf("new key: %d %s", res.status, res.body)
	}
	long := map[string]string{"Authorization": "Bearer " + tok, "Idempotency-Key": strings.Repeat("k", 256)}
	expectError(t, postLead(app, long, goodLead), 400, "invalid_request")
	if n := app.leadCount(f.acc.ID); n != 2 {
		t.Errorf("%d leads, want 2", n)
	}
}

func TestLeadIdempotencyConcurrent(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	tok := app.token(f.write.PublicKey, f.writeSecret)
	h := map[string]string{"Authorization": "Bearer " + tok, "Idempotency-Key": "same"}
	bodies := make(chan string, 8)
	for range 8 {
		go func() { bodies <- postLead(app, h, goodLead).body }()
	}
	first := <-bodies
	for range 7 {
		if b := <-bodies; b != first {
			t.Fatalf("concurrent retries answered differently: %s vs %s", first, b)
		}
	}
	if n := app.leadCount(f.acc.ID); n != 1 {
		t.Errorf("%d leads, want 1", n)
	}
}

func TestLeadListPagesAndIsolation(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	other := app.apiFixture("other")
	testKey, testSecret := app.key(f.acc, f.admin, "Sandbox", db.Integration, keys.Test, db.LicenseLeads)
	write := bearer(app.token(f.write.PublicKey, f.writeSecret))
	var ids []string
	for i := range 5 {
		res := postLead(app, write, strings.Replace(goodLead, "Ann", "Ann"+itoa(int64(i)), 1))
		var r leadReceipt
		json.Unmarshal([]byte(res.body), &r)
		ids = append(ids, r.ID)
	}
	otherRes := postLead(app, bearer(app.token(other.write.PublicKey, other.writeSecret)), goodLead)
	var otherReceipt leadReceipt
	json.Unmarshal([]byte(otherRes.body), &otherReceipt)
	testRes := postLead(app, signedHeaders("acme", testKey.PublicKey, testSecret, app.clock.Now()), goodLead)
	var testReceipt leadReceipt
	json.Unmarshal([]byte(testRes.body), &testReceipt)

	read := bearer(app.token(f.rw.PublicKey, f.rwSecret))
	var seen []string
	cursor := ""
	for page := 0; page < 5; page++ {
		path := "/api/v1/leads?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		res := app.call("GET", path, "", "", read)
		if res.status != 200 {
			t.Fatalf("%d %s", res.status, res.body)
		}
		var p struct {
			Data       []leadJSON `json:"data"`
			NextCursor *string    `json:"next_cursor"`
		}
		json.Unmarshal([]byte(res.body), &p)
		for _, l := range p.Data {
			seen = append(seen, l.ID)
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

	// Another account's lead, and a test lead for a live key, are 404 like a missing one.
	for _, id := range []string{otherReceipt.ID, testReceipt.ID, "ld_missing", "../../key"} {
		expectError(t, app.call("GET", "/api/v1/leads/"+id, "", "", read), 404, "not_found")
	}
	// The test key sees only test data.
	sandbox := bearer(app.token(testKey.PublicKey, testSecret))
	res := app.call("GET", "/api/v1/leads", "", "", sandbox)
	if !strings.Contains(res.body, testReceipt.ID) || strings.Contains(res.body, ids[0]) {
		t.Errorf("test key list: %s", res.body)
	}
	expectError(t, app.call("GET", "/api/v1/leads/"+ids[0], "", "", sandbox), 404, "not_found")

	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=abc", "cursor=LTE"} {
		res := app.call("GET", "/api/v1/leads?"+q, "", "", read)
		if res.status != 400 {
			t.Errorf("%s: %d %s", q, res.status, res.body)
		}
	}
}

// TestLeadWithoutOptionalFieldsLeavesThemOut: what the integrator did not
// send is absent from the answer, never "" (which a VIN's pattern, an
// email's format and a client's own checks would refuse).
func TestLeadWithoutOptionalFieldsLeavesThemOut(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	res := postLead(app, bearer(app.token(f.write.PublicKey, f.writeSecret)), `{"contact":{"last_name":"Lee","phone":"5550102030"}}`)
	if res.status != 201 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	var receipt leadReceipt
	json.Unmarshal([]byte(res.body), &receipt)
	read := bearer(app.token(f.rw.PublicKey, f.rwSecret))
	// Both answers are checked against openapi.json by the harness as well.
	one := app.call("GET", "/api/v1/leads/"+receipt.ID, "", "", read)
	list := app.call("GET", "/api/v1/leads", "", "", read)
	for _, body := range []string{one.body, list.body} {
		for _, absent := range []string{`""`, `"vehicle"`, `"first_name"`, `"email"`, `"message"`, `"source"`, `null,`} {
			if strings.Contains(body, absent) {
				t.Errorf("%s in %s", absent, body)
			}
		}
		if !strings.Contains(body, `"contact":{"last_name":"Lee","phone":"5550102030"}`) {
			t.Errorf("contact not as sent: %s", body)
		}
	}
}

// A lead whose sender closed the connection before keydesk read it is not
// stored, and is logged as 499 client_closed_request: not as a server error.
func TestLeadOfAGoneClientIs499(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("gone")
	req := httptest.NewRequest("POST", "/api/v1/leads", strings.NewReader(goodLead))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", bearer(app.token(f.write.PublicKey, f.writeSecret))["Authorization"])
	ctx, cancel := context.WithCancel(req.Context())
	cancel() // the client has gone
	rec := httptest.NewRecorder()
	app.srv.Config.Handler.ServeHTTP(rec, req.WithContext(ctx))
	if rec.Code != web.StatusClientClosedRequest {
		t.Fatalf("status %d, want 499: %s", rec.Code, rec.Body)
	}
	r, ok := app.lastRequest(f.acc.ID, f.write.ID)
	if !ok || r.Status != web.StatusClientClosedRequest || r.Outcome != "client_closed_request" {
		t.Errorf("request log: %+v (found %v), want 499 client_closed_request", r, ok)
	}
	if logs := app.logs.String(); strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "status=499") {
		t.Errorf("want a 499 line and no ERROR:\n%s", logs)
	}
	if leads, err := app.db.Leads(context.Background(), f.acc.ID, db.LeadFilter{PageFilter: db.PageFilter{Limit: 10}}); err != nil || len(leads) != 0 {
		t.Errorf("stored %d leads (%v), want none", len(leads), err)
	}
}
