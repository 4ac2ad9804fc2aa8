package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/web"
)

// BenchmarkAPI is the API's own cost per call, in process: each call goes
// through the real router and every middleware, over a real SQLite file,
// with the request log on and the access log formatted (to io.Discard), as
// bench/run.sh's calls do but without the network, wrk and the noise of a
// shared machine. What matters is each call's extra_ns over /healthz: the
// ratios bench/run.sh measures are /healthz's whole cost per request
// (server, kernel and wrk) over that plus extra_ns.
//
//	go test -run '^$' -bench API -benchtime 200000x ./handlers
func BenchmarkAPI(b *testing.B) {
	bench := startBench(b)
	key := func(name string) (string, string) { return bench.key(name, db.Integration) }
	tokenKey, tokenSecret := key("Bench token")
	bearerKey, bearerSecret := key("Bench bearer")
	signedKey, signedSecret := key("Bench signed")

	serve, tokenRequest := bench.serve, benchTokenRequest
	now := time.Now().UTC()
	bearerToken := bench.accessToken(bearerKey, bearerSecret)
	signed := signedHeaders("bench-motors", signedKey, signedSecret, now)

	calls := []struct {
		name string
		req  func() *http.Request
	}{
		{"healthz", func() *http.Request { return httptest.NewRequest("GET", "/healthz", nil) }},
		{"token", func() *http.Request { return tokenRequest(tokenKey, tokenSecret) }},
		{"bearer_key", func() *http.Request {
			req := httptest.NewRequest("GET", "/api/v1/key", nil)
			req.Header.Set("Authorization", "Bearer "+bearerToken)
			return req
		}},
		{"signed_key", func() *http.Request {
			req := httptest.NewRequest("GET", "/api/v1/key", nil)
			for k, v := range signed {
				req.Header.Set(k, v)
			}
			return req
		}},
	}
	var healthz float64
	for _, c := range calls {
		b.Run(c.name, func(b *testing.B) {
			if rec := serve(c.req()); rec.Code != 200 {
				b.Fatalf("%s: %d %s", c.name, rec.Code, rec.Body.String())
			}
			// One request is served again and again (a body is read
			// afresh each time): building requests is the client's work.
			req := c.req()
			body, _ := io.ReadAll(req.Body)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				req.Body = io.NopCloser(strings.NewReader(string(body)))
				if rec := serve(req); rec.Code != 200 {
					b.Fatalf("%s: %d", c.name, rec.Code)
				}
			}
			b.StopTimer()
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if c.name == "healthz" {
				healthz = ns
			} else if healthz > 0 {
				b.ReportMetric(ns-healthz, "extra_ns/op")
			}
		})
	}
}

// benchWriter is the ResponseWriter of BenchmarkAPI: a fresh header map per
// answer, as net/http makes, and the body kept; unlike httptest's recorder
// it copies no header when the status is written, a cost net/http does not have.
type benchWriter struct {
	header http.Header
	Code   int
	Body   strings.Builder
}

func (w *benchWriter) Header() http.Header         { return w.header }
func (w *benchWriter) WriteHeader(code int)        { w.Code = code }
func (w *benchWriter) Write(p []byte) (int, error) { return w.Body.Write(p) }

// benchApp is a running app over a fresh SQLite file, with one account and
// its admin, for the benchmarks here.
type benchApp struct {
	b      *testing.B
	store  *db.DB
	sealer *keys.Sealer
	app    *App
	acc    db.Account
	admin  db.User
}

// startBench starts a benchApp, stopped and closed when b ends; the access
// log is formatted to io.Discard, as bench/run.sh's server writes it.
func startBench(b *testing.B) *benchApp {
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(b.TempDir(), "keydesk.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	sealer, err := keys.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(web.WithAccessLog(slog.NewTextHandler(io.Discard, nil), web.NewAccessLog(io.Discard, false, slog.LevelInfo)))
	app, err := Assemble(ctx, Config{Store: store, Sealer: sealer, Clock: time.Now, Logger: logger,
		PublicURL: "http://127.0.0.1:18080", InstanceID: "bench", Addr: "127.0.0.1:18080"})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { app.Run(runCtx); close(ran) }()
	b.Cleanup(func() { cancel(); <-ran })

	now := time.Now().UTC()
	acc, err := store.CreateAccount(ctx, db.Account{Slug: "bench-motors", Name: "Bench Motors", Licenses: db.AllLicenses, CreatedAt: now})
	if err != nil {
		b.Fatal(err)
	}
	admin, err := store.CreateUser(ctx, db.User{AccountID: acc.ID, Email: "bench@bench-motors.test", PasswordHash: "!", Role: db.RoleAdmin, CreatedAt: now})
	if err != nil {
		b.Fatal(err)
	}
	return &benchApp{b: b, store: store, sealer: sealer, app: app, acc: acc, admin: admin}
}

// key creates a live key of type typ with the leads license, and returns its public key and secret.
func (a *benchApp) key(name string, typ db.KeyType) (string, string) {
	public, secret := keys.NewAPIKey(keys.Live), keys.NewSecret(keys.Live)
	_, err := a.store.CreateAPIKey(context.Background(), db.APIKey{AccountID: a.acc.ID, Name: name, Type: typ, Licenses: []string{db.LicenseLeads},
		Mode: keys.Live, PublicKey: public, SecretSealed: a.sealer.Seal(secret, public), SecretLast4: keys.Last4(secret),
		Settings: keys.Settings{Theme: "lite", SessionExpiry: 24 * time.Hour}, CreatedAt: time.Now().UTC(), CreatedBy: a.admin.ID},
		db.Actor{UserID: a.admin.ID, Email: a.admin.Email, RemoteAddr: "127.0.0.1"})
	if err != nil {
		a.b.Fatal(err)
	}
	return public, secret
}

// serve runs req through the router, from 127.0.0.1.
func (a *benchApp) serve(req *http.Request) *benchWriter {
	req.RemoteAddr = "127.0.0.1:40000"
	w := &benchWriter{header: http.Header{}, Code: http.StatusOK}
	a.app.Echo.ServeHTTP(w, req)
	return w
}

// accessToken is a fresh access token of a key.
func (a *benchApp) accessToken(public, secret string) string {
	w := a.serve(benchTokenRequest(public, secret))
	if w.Code != http.StatusOK {
		a.b.Fatalf("token: %d %s", w.Code, w.Body.String())
	}
	token := w.Body.String()
	token = token[strings.Index(token, `"access_token":"`)+len(`"access_token":"`):]
	return token[:strings.IndexByte(token, '"')]
}

// benchTokenRequest is a client-credentials token request with HTTP Basic.
func benchTokenRequest(public, secret string) *http.Request {
	req := httptest.NewRequest("POST", "/api/v1/auth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", formType)
	req.Header.Set("Authorization", basic(public, secret))
	return req
}
