package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/handlers"
	"keydesk/keys"
)

func TestVersionText(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "keydesk", Version: "v0.0.0-20261123221121-54c16ba67f67"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "54c16ba67f67ddd57ff74b074981d9a27d715acf"},
			{Key: "vcs.time", Value: "2026-11-23T22:11:21Z"}, {Key: "vcs.modified", Value: "true"}}}
	plain := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "keydesk", Version: "(devel)"}}
	for _, tt := range []struct {
		name string
		bi   *debug.BuildInfo
		want []string
	}{
		{"stamped", stamped, []string{"keydesk v0.0.0-20261123221121-54c16ba67f67\n",
			"revision 54c16ba67f67ddd57ff74b074981d9a27d715acf (2026-11-23T22:11:21Z) with uncommitted changes\n", "go1.26.8 "}},
		{"not stamped", plain, []string{"keydesk (devel)\n", "revision unknown", "go build", "go1.26.8 "}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := versionText(tt.bi)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("version text lacks %q:\n%s", w, got)
				}
			}
		})
	}
	testEnv(t)
	if out := mustRun(t, "", "version"); !strings.HasPrefix(out, "keydesk ") || !strings.Contains(out, "go1.") {
		t.Errorf("keydesk version: %q", out)
	}
}

func TestLogFormatAndLevel(t *testing.T) {
	for _, tt := range []struct {
		format, level string
		wantErr       string
		wantInfo      string // how an info line starts; "" when info is filtered out
	}{
		{"", "", "", "time="},
		{"text", "debug", "", "time="},
		{"json", "", "", `{"time":`},
		{"JSON", "warn", "", ""},
		{"logfmt", "", "KEYDESK_LOG_FORMAT", ""},
		{"text", "loud", "KEYDESK_LOG_LEVEL", ""},
	} {
		t.Run(tt.format+"/"+tt.level, func(t *testing.T) {
			t.Setenv("KEYDESK_LOG_FORMAT", tt.format)
			t.Setenv("KEYDESK_LOG_LEVEL", tt.level)
			var out bytes.Buffer
			log, flush, err := newLogger(&out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			log.Info("request", "id", "x1")
			if out.Len() != 0 {
				t.Error("a line was written at once; lines are buffered until a flush")
			}
			flush()
			if got := out.String(); tt.wantInfo == "" && got != "" || !strings.HasPrefix(got, tt.wantInfo) {
				t.Errorf("info line %q, want it to start with %q", got, tt.wantInfo)
			}
		})
	}
}

// testKey makes a live key with the leads license in the first account.
func testKey(t *testing.T, store *db.DB, sealer *keys.Sealer) (public, secret string) {
	t.Helper()
	ctx := context.Background()
	accs, err := store.Accounts(ctx)
	if err != nil || len(accs) == 0 {
		t.Fatalf("accounts: %v %v", accs, err)
	}
	public, secret = keys.NewAPIKey(keys.Live), keys.NewSecret(keys.Live)
	_, err = store.CreateAPIKey(ctx, db.APIKey{AccountID: accs[0].ID, Name: "Website form", Type: db.DigitalRequests,
		Licenses: []string{db.LicenseLeads}, Mode: keys.Live, PublicKey: public, SecretSealed: sealer.Seal(secret, public),
		SecretLast4: keys.Last4(secret), Settings: keys.Settings{Theme: "lite", SessionExpiry: 24 * time.Hour},
		CreatedAt: time.Now()}, db.Actor{Email: "test", RemoteAddr: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	return public, secret
}

// A backup taken while leads keep arriving holds every lead acknowledged
// before it began, passes SQLite's integrity check and starts keydesk as is.
func TestBackupWhileLeadsArrive(t *testing.T) {
	path := testEnv(t)
	t.Setenv("KEYDESK_ADMIN_PASSWORD", "a long enough password")
	ctx := context.Background()
	store, sealer := openStore(t)
	if err := bootstrap(ctx, mustConfig(t), store, quiet); err != nil {
		t.Fatal(err)
	}
	public, secret := testKey(t, store, sealer)
	app, err := handlers.Assemble(ctx, handlers.Config{Store: store, Sealer: sealer, Clock: time.Now, Logger: quiet,
		InstanceID: "backup-test", Addr: "test"})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go app.Run(runCtx)
	srv := httptest.NewServer(app.Echo)
	defer srv.Close()

	res, err := http.PostForm(srv.URL+"/api/v1/auth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {public}, "client_secret": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()

	var (
		backupBegan atomic.Bool
		mu          sync.Mutex
		before      []string // acknowledged before the backup began
		acked       atomic.Int64
		stop        = make(chan struct{})
		wg          sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"contact":{"first_name":"Ann","last_name":"Lee %d-%d","email":"ann@example.com"}}`, w, i)
				req, _ := http.NewRequest("POST", srv.URL+"/api/v1/leads", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				var receipt struct{ ID string }
				json.NewDecoder(res.Body).Decode(&receipt)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					t.Errorf("lead: %d", res.StatusCode)
					return
				}
				if !backupBegan.Load() { // answered before the backup began
					mu.Lock()
					before = append(before, receipt.ID)
					mu.Unlock()
				}
				acked.Add(1)
			}
		}()
	}
	waitFor := func(n int64) {
		for start := time.Now(); acked.Load() < n && !t.Failed(); time.Sleep(time.Millisecond) { // polling the load's progress
			if time.Since(start) > 30*time.Second {
				t.Fatalf("the load stalled at %d leads", acked.Load())
			}
		}
	}
	waitFor(200)
	backup := filepath.Join(t.TempDir(), "copy.db")
	backupBegan.Store(true)
	out := mustRun(t, "", "backup", "--to", backup)
	during := acked.Load()
	waitFor(during + 100) // the load went on past the backup
	close(stop)
	wg.Wait()
	if !strings.Contains(out, backup) || !strings.Contains(out, backup+".key") {
		t.Errorf("backup said %q, want both files named", out)
	}

	for _, f := range []string{backup, backup + ".key"} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", f, err)
		}
	}
	if err := db.CheckIntegrity(ctx, backup); err != nil {
		t.Error(err)
	}
	if sqlite3, err := exec.LookPath("sqlite3"); err == nil {
		if out, err := exec.Command(sqlite3, backup, "PRAGMA integrity_check;").CombinedOutput(); err != nil || string(out) != "ok\n" {
			t.Errorf("sqlite3 integrity_check: %q %v", out, err)
		}
	}
	copied, err := sql.Open("sqlite", "file:"+backup+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := copied.Query(`SELECT public_id FROM leads`)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		have[id] = true
	}
	rows.Close()
	copied.Close()
	missing := 0
	for _, id := range before {
		if !have[id] {
			missing++
		}
	}
	if missing > 0 || len(before) < 200 {
		t.Errorf("%d of %d leads acknowledged before the backup are missing from it", missing, len(before))
	}
	t.Logf("%d leads acknowledged before the backup, %d in it, %d in all", len(before), len(have), acked.Load())

	// KEYDESK_DB=copy keydesk starts straight away: its master key file came along.
	t.Setenv("KEYDESK_DB", backup)
	restored, restoredSealer, err := open(ctx, mustConfig(t), quiet)
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer restored.Close()
	live, err := restored.LiveAPIKeys(ctx)
	if err != nil || len(live) != 1 {
		t.Fatalf("keys in the backup: %v %v", live, err)
	}
	if got, err := restoredSealer.Open(live[0].SecretSealed, live[0].PublicKey); err != nil || got != secret {
		t.Errorf("the key's secret does not open in the backup: %v", err)
	}
	if path == backup {
		t.Fatal("the backup overwrote the database")
	}
}

func TestBackupRefusals(t *testing.T) {
	testEnv(t)
	openStore(t) // the database to back up
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	os.WriteFile(existing, []byte("keep me"), 0o600)
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no --to", nil, []string{"backup"}, "usage: keydesk backup --to FILE"},
		{"an existing file", nil, []string{"backup", "--to", existing}, existing + " exists: choose another file, or pass --force"},
		{"a missing directory", nil, []string{"backup", "--to", filepath.Join(dir, "nope", "b.db")},
			"cannot write " + filepath.Join(dir, "nope", "b.db") + ": no such file or directory"},
		{"under a file", nil, []string{"backup", "--to", filepath.Join(existing, "b.db")},
			"cannot write " + filepath.Join(existing, "b.db") + ": not a directory"},
		{"no database", map[string]string{"KEYDESK_DB": filepath.Join(dir, "missing.db")}, []string{"backup", "--to", filepath.Join(dir, "x.db")},
			"no database to back up at " + filepath.Join(dir, "missing.db")},
		{"PostgreSQL", map[string]string{"KEYDESK_DATABASE_URL": "postgres://keydesk:hunter2@db.internal:5432/keydesk"},
			[]string{"backup", "--to", filepath.Join(dir, "pg.db")}, "use pg_dump"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			err := run(tt.args, strings.NewReader(""), io.Discard, quiet)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Error("the error shows the database password")
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Error("the existing file was changed without --force")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("refused backups left files behind: %v", entries)
	}
	mustRun(t, "", "backup", "--to", existing, "--force")
	if err := db.CheckIntegrity(context.Background(), existing); err != nil {
		t.Errorf("--force: %v", err)
	}
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// On SIGTERM readiness fails first while requests are still served, then
// the listener closes and a request already in flight is answered.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	testEnv(t)
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	t.Setenv("KEYDESK_ADDR", addr)
	t.Setenv("KEYDESK_METRICS_ADDR", metricsAddr)
	t.Setenv("KEYDESK_DRAIN_DELAY", "1s")
	t.Setenv("KEYDESK_ADMIN_PASSWORD", "a long enough password")
	done := make(chan error, 1)
	go func() { done <- run([]string{"serve"}, strings.NewReader(""), io.Discard, quiet) }()
	get := func(base, path string) (int, string) {
		res, err := http.Get("http://" + base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	until := func(what string, ok func() bool) {
		t.Helper()
		for start := time.Now(); !ok(); time.Sleep(20 * time.Millisecond) { // polling the server, not a clock rule
			if time.Since(start) > 10*time.Second {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	until("ready", func() bool { s, _ := get(addr, "/readyz"); return s == 200 })
	if s, body := get(metricsAddr, "/metrics"); s != 200 || !strings.Contains(body, `keydesk_http_request_duration_seconds_count{route="/readyz"}`) {
		t.Errorf("metrics listener: %d", s)
	}
	if s, _ := get(metricsAddr, "/debug/pprof/"); s != 404 {
		t.Errorf("pprof without KEYDESK_DEBUG: %d", s)
	}

	// A request in flight: headers sent, half its body still to come.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "grant_type=client_credentials"
	fmt.Fprintf(conn, "POST /api/v1/auth/token HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		addr, len(body), body[:10])

	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	until("readyz to fail", func() bool { s, _ := get(addr, "/readyz"); return s == 503 })
	if s, _ := get(addr, "/healthz"); s != 200 {
		t.Errorf("healthz while draining: %d, want requests still served", s)
	}
	until("the listener to close", func() bool { s, _ := get(addr, "/healthz"); return s == 0 })
	io.WriteString(conn, body[10:])
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request in flight got no answer: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("the request in flight: %d, want 401 (no credentials)", res.StatusCode)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return")
	}
}
