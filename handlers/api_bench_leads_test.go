package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/web"
)

const benchLead = `{"contact":{"first_name":"Ann","last_name":"Lee","email":"ann@example.com","phone":"+1 555 010 2030"},` +
	`"vehicle":{"vin":"1HGCM82633A004352","year":2024,"make":"Honda","model":"Accord","stock_number":"A123"},` +
	`"message":"Is it still available?","source":"website"}`

// BenchmarkLeadIntake is bench/run.sh's leads_post in process: 32 clients
// at once push bench/leads.lua's lead through the real router with a
// Bearer token, each answered after its batch commits (synchronous=FULL).
//
//	go test -run '^$' -bench LeadIntake -benchtime 100000x -cpuprofile /tmp/leads.prof ./handlers
func BenchmarkLeadIntake(b *testing.B) {
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(b.TempDir(), "keydesk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
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
	defer func() { cancel(); <-ran }()

	now := time.Now().UTC()
	acc, err := store.CreateAccount(ctx, db.Account{Slug: "bench-motors", Name: "Bench Motors", Licenses: db.AllLicenses, CreatedAt: now})
	if err != nil {
		b.Fatal(err)
	}
	admin, err := store.CreateUser(ctx, db.User{AccountID: acc.ID, Email: "bench@bench-motors.test", PasswordHash: "!", Role: db.RoleAdmin, CreatedAt: now})
	if err != nil {
		b.Fatal(err)
	}
	public, secret := keys.NewAPIKey(keys.Live), keys.NewSecret(keys.Live)
	if _, err := store.CreateAPIKey(ctx, db.APIKey{AccountID: acc.ID, Name: "Bench website form", Type: db.DigitalRequests, Licenses: []string{db.LicenseLeads},
		Mode: keys.Live, PublicKey: public, SecretSealed: sealer.Seal(secret, public), SecretLast4: keys.Last4(secret),
		Settings: keys.Settings{Theme: "lite", SessionExpiry: 24 * time.Hour}, CreatedAt: now, CreatedBy: admin.ID},
		db.Actor{UserID: admin.ID, Email: admin.Email, RemoteAddr: "127.0.0.1"}); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/api/v1/auth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", formType)
	req.Header.Set("Authorization", basic(public, secret))
	req.RemoteAddr = "127.0.0.1:40000"
	w := &benchWriter{header: map[string][]string{}, Code: 200}
	app.Echo.ServeHTTP(w, req)
	if w.Code != 200 {
		b.Fatalf("token: %d %s", w.Code, w.Body.String())
	}
	token := w.Body.String()
	token = token[strings.Index(token, `"access_token":"`)+len(`"access_token":"`):]
	token = token[:strings.IndexByte(token, '"')]

	b.SetParallelism(16) // 32 clients on 2 cores, as bench/run.sh's wrk
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("POST", "/api/v1/leads", nil)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.RemoteAddr = "127.0.0.1:40000"
		for pb.Next() {
			req.Body = io.NopCloser(strings.NewReader(benchLead))
			w := &benchWriter{header: map[string][]string{}, Code: 200}
			app.Echo.ServeHTTP(w, req)
			if w.Code != 201 {
				b.Fatalf("lead: %d %s", w.Code, w.Body.String())
			}
		}
	})
}
