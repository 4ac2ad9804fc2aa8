package handlers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func (a *testApp) readyz() response {
	a.t.Helper()
	return a.call("GET", "/readyz", "", "", nil)
}

func TestReadyzFailsFirstWhenDraining(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	if res := app.readyz(); res.status != 200 || res.body != "ready\n" {
		t.Fatalf("readyz: %d %q, want 200 ready", res.status, res.body)
	}
	if probed := app.app.Drain(); !probed {
		t.Error("Drain: /readyz was asked, yet it says nothing watches it")
	}
	if res := app.readyz(); res.status != 503 || !strings.Contains(res.body, "shutting down") {
		t.Errorf("readyz while draining: %d %q, want 503 shutting down", res.status, res.body)
	}
	// Everything else is still served while the load balancer moves on.
	if res := app.call("GET", "/healthz", "", "", nil); res.status != 200 {
		t.Errorf("healthz while draining: %d", res.status)
	}
	if res := app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now())); res.status != 200 {
		t.Errorf("API call while draining: %d %s", res.status, res.body)
	}
}

func TestDrainWithoutProbesSaysSo(t *testing.T) {
	app := newTestApp(t)
	if probed := app.app.Drain(); probed {
		t.Error("Drain: nothing asked /readyz, yet it says something watches it")
	}
}

func TestReadyzFailsWhenTheDatabaseIsGone(t *testing.T) {
	app := newTestApp(t)
	if res := app.readyz(); res.status != 200 {
		t.Fatalf("readyz: %d %q", res.status, res.body)
	}
	app.db.Close()
	// The answer is cached for a second of the clock, then asked again.
	if res := app.readyz(); res.status != 200 {
		t.Errorf("readyz within the cached second: %d %q, want the cached 200", res.status, res.body)
	}
	app.clock.Advance(readyCacheFor)
	res := app.readyz()
	if res.status != 503 || !strings.Contains(res.body, "database") {
		t.Errorf("readyz with the database closed: %d %q, want 503 naming the database", res.status, res.body)
	}
	if res := app.call("GET", "/healthz", "", "", nil); res.status != 200 {
		t.Errorf("healthz is liveness and stays 200: %d", res.status)
	}
}

// scrape reads the app's /metrics as Prometheus would.
func (a *testApp) scrape(debug bool, path string) (int, string) {
	a.t.Helper()
	srv := httptest.NewServer(a.app.Metrics.Handler(debug))
	defer srv.Close()
	res, err := http.Get(srv.URL + path)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func TestMetricsExposeTheNamedSeries(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	tok := app.token(f.write.PublicKey, f.writeSecret)
	if res := postLead(app, bearer(tok), goodLead); res.status != 201 {
		t.Fatalf("lead: %d %s", res.status, res.body)
	}
	expectError(t, app.call("GET", "/api/v1/key", "", "", bearer("kdt_"+strings.Repeat("A", 94))), 401, "invalid_token")
	expectError(t, app.call("GET", "/api/v1/leads", "", "", bearer(tok)), 403, "insufficient_scope")
	res := app.browser().post("/login", "/login", url.Values{"email": {f.admin.Email}, "password": {"wrong password"}})
	if res.status != 401 {
		t.Fatalf("bad sign-in: %d", res.status)
	}

	status, body := app.scrape(false, "/metrics")
	if status != 200 {
		t.Fatalf("/metrics: %d", status)
	}
	for _, want := range []string{
		"keydesk_tokens_issued_total 1\n",
		"keydesk_leads_received_total 1\n",
		`keydesk_api_requests_total{outcome="ok",route="/api/v1/auth/token"} 1` + "\n",
		`keydesk_api_requests_total{outcome="ok",route="/api/v1/leads"} 1` + "\n",
		`keydesk_api_requests_total{outcome="invalid_token",route="/api/v1/key"} 1` + "\n",
		`keydesk_api_requests_total{outcome="insufficient_scope",route="/api/v1/leads"} 1` + "\n",
		`keydesk_http_request_duration_seconds_count{route="/api/v1/leads"} 2` + "\n",
		`keydesk_http_request_duration_seconds_bucket{route="/login",le="+Inf"} 2` + "\n",
		`keydesk_sign_in_failures_total{reason="credentials"} 1` + "\n",
		"keydesk_write_batch_rows_count 1\n",
		"keydesk_write_batch_commit_seconds_count 1\n",
		"keydesk_change_log_lag_seconds ",
		"keydesk_build_info{",
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if status, _ := app.scrape(false, "/debug/pprof/"); status != 404 {
		t.Errorf("pprof without KEYDESK_DEBUG: %d, want 404", status)
	}
	if status, body := app.scrape(true, "/debug/pprof/"); status != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("pprof with KEYDESK_DEBUG: %d", status)
	}
}

// logLine is the request line of the log with this request id.
func (a *testApp) logLine(id string) string {
	a.t.Helper()
	for _, line := range strings.Split(a.logs.String(), "\n") {
		if strings.Contains(line, "msg=request ") && strings.Contains(line, " id="+id+" ") {
			return line
		}
	}
	a.t.Fatalf("no request line with id %s in the log:\n%s", id, a.logs.String())
	return ""
}

func TestRequestLogHasOneLinePerRequestAndNoSecret(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	tok := app.token(f.write.PublicKey, f.writeSecret)
	signed := signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now())
	badSig := signedHeaders("acme", f.rw.PublicKey, f.writeSecret, app.clock.Now())
	form := "grant_type=client_credentials&client_id=" + f.rw.PublicKey + "&client_secret=" + url.QueryEscape(f.rwSecret)
	type want struct{ route, status, key, reason string }
	for _, tt := range []struct {
		name   string
		do     func() response
		expect want
	}{
		{"token in the form", func() response { return app.call("POST", "/api/v1/auth/token", formType, form, nil) },
			want{"/api/v1/auth/token", "200", itoa(f.rw.ID), ""}},
		{"wrong secret", func() response {
			return app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
				map[string]string{"Authorization": basic(f.rw.PublicKey, f.writeSecret)})
		}, want{"/api/v1/auth/token", "401", "", "invalid_client"}},
		{"bearer with a query string", func() response {
			return app.call("GET", "/api/v1/key?client_secret="+url.QueryEscape(f.writeSecret), "", "", bearer(tok))
		}, want{"/api/v1/key", "200", itoa(f.write.ID), ""}},
		{"signed", func() response { return app.call("GET", "/api/v1/key", "", "", signed) },
			want{"/api/v1/key", "200", itoa(f.rw.ID), ""}},
		{"bad signature", func() response { return app.call("GET", "/api/v1/key", "", "", badSig) },
			want{"/api/v1/key", "401", "", "invalid_signature"}},
		{"insufficient scope", func() response { return app.call("GET", "/api/v1/leads", "", "", bearer(tok)) },
			want{"/api/v1/leads", "403", itoa(f.write.ID), "insufficient_scope"}},
		{"invalid lead", func() response { return postLead(app, bearer(tok), `{"contact":{}}`) },
			want{"/api/v1/leads", "400", itoa(f.write.ID), "validation_failed"}},
		{"lead", func() response { return postLead(app, bearer(tok), goodLead) },
			want{"/api/v1/leads", "201", itoa(f.write.ID), ""}},
		{"capture link", func() response { return app.call("GET", "/capture/cs_live_secretcapability", "", "", nil) },
			want{"/capture/:id", "404", "", ""}},
		{"dashboard with a query", func() response { return app.call("GET", "/login?next=/keys&token="+tok, "", "", nil) },
			want{"/login", "200", "", ""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.do()
			id := res.header.Get("X-Request-Id")
			if !regexp.MustCompile(`^[0-9a-f]{12}-[0-9a-z]+$`).MatchString(id) {
				t.Fatalf("X-Request-Id %q: want a generated id", id)
			}
			if res.status >= 400 && strings.HasPrefix(res.header.Get("Content-Type"), "application/json") &&
				!strings.Contains(res.body, `"request_id":"`+id+`"`) {
				t.Errorf("error body lacks request_id %s: %s", id, res.body)
			}
			line := app.logLine(id)
			for _, part := range []string{"level=INFO", "route=" + tt.expect.route, "status=" + tt.expect.status, "took="} {
				if !strings.Contains(line, part) {
					t.Errorf("log line lacks %q: %s", part, line)
				}
			}
			if has := strings.Contains(line, " key="); has != (tt.expect.key != "") || has && !strings.Contains(line, " key="+tt.expect.key) {
				t.Errorf("log line: want key %q: %s", tt.expect.key, line)
			}
			if has := strings.Contains(line, " reason="); has != (tt.expect.reason != "") || has && !strings.HasSuffix(line, " reason="+tt.expect.reason) {
				t.Errorf("log line: want reason %q: %s", tt.expect.reason, line)
			}
		})
	}
	logs := app.logs.String()
	for name, secret := range map[string]string{"write secret": f.writeSecret, "rw secret": f.rwSecret, "token": tok,
		"signature": signed["API-Token"], "capture id": "secretcapability", "query": "client_secret"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}
}

func TestErrorPageShowsTheRequestID(t *testing.T) {
	app := newTestApp(t)
	_, admin, _ := app.account("acme")
	res := app.browser().login(admin.Email).get("/settings/integrations/keys/999999/edit")
	id := res.header.Get("X-Request-Id")
	if res.status != 404 || id == "" || !strings.Contains(res.body, `data-testid="request-id"`) || !strings.Contains(res.body, id) {
		t.Errorf("404 page: status %d, X-Request-Id %q, want the id on the page", res.status, id)
	}
}

func TestRequestIDFromAProxy(t *testing.T) {
	app := newTestApp(t)
	proxied := newTestAppBehindProxy(t)
	long := strings.Repeat("a", 65)
	for _, tt := range []struct {
		name, sent string
		proxy      bool
		kept       bool
	}{
		{"trusted and well-formed", "lb-4f2a.9_c", true, true},
		{"64 characters", strings.Repeat("b", 64), true, true},
		{"too long", long, true, false},
		{"a space", "abc def", true, false},
		{"a tab", "abc\tdef", true, false},
		{"not ASCII", "caf\u00e9", true, false},
		{"a slash", "a/b", true, false},
		{"log syntax", "x level=ERROR", true, false},
		{"a quote", `abc"def`, true, false},
		{"not behind a proxy", "lb-4f2a", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := app
			if tt.proxy {
				a = proxied
			}
			res := a.call("GET", "/api/v1/nowhere", "", "", map[string]string{"X-Request-Id": tt.sent})
			id := res.header.Get("X-Request-Id")
			if kept := id == tt.sent; kept != tt.kept {
				t.Errorf("sent %q, answered %q: kept %v, want %v", tt.sent, id, kept, tt.kept)
			}
			if !strings.Contains(res.body, `"request_id":"`+id+`"`) {
				t.Errorf("body lacks request_id %q: %s", id, res.body)
			}
			a.logLine(id)
			if !tt.kept && strings.Contains(a.logs.String(), tt.sent) {
				t.Errorf("the refused id %q is in the log", tt.sent)
			}
		})
	}
}
