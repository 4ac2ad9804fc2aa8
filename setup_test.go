package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/web"
)

func TestMasterKeyFileIsCreatedOnceAndReused(t *testing.T) {
	path := testEnv(t)
	keyFile := path + ".key"
	ctx := context.Background()

	store, sealer, err := open(ctx, mustConfig(t), quiet)
	if err != nil {
		t.Fatal(err)
	}
	sealed := sealer.Seal("kds_live_secret", "kd_live_context")
	store.Close()

	info, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("no key file after first open: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %o, want 600", perm)
	}
	first, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.DecodeMasterKey(string(first)); err != nil {
		t.Fatalf("key file does not hold a master key: %v", err)
	}

	_, sealer2 := openStore(t)
	if got, err := sealer2.Open(sealed, "kd_live_context"); err != nil || got != "kds_live_secret" {
		t.Errorf("second start cannot open what the first sealed: %q, %v", got, err)
	}
	second, _ := os.ReadFile(keyFile)
	if !bytes.Equal(first, second) {
		t.Error("the key file changed on the second start")
	}
}

func TestMasterKeyFromVariable(t *testing.T) {
	path := testEnv(t)
	ctx := context.Background()
	t.Setenv("KEYDESK_MASTER_KEY", hex.EncodeToString(bytes.Repeat([]byte{7}, keys.MasterKeySize)))
	store, sealer, err := open(ctx, mustConfig(t), quiet)
	if err != nil {
		t.Fatalf("hex master key on a new database: %v", err)
	}
	sealed := sealer.Seal("secret", "ctx")
	store.Close()
	if _, err := os.Stat(path + ".key"); !errors.Is(err, os.ErrNotExist) {
		t.Error("a key file was written although KEYDESK_MASTER_KEY was set")
	}

	// The same key written another way (base64) opens the same secrets.
	t.Setenv("KEYDESK_MASTER_KEY", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=")
	_, sealer2 := openStore(t)
	if got, err := sealer2.Open(sealed, "ctx"); err != nil || got != "secret" {
		t.Errorf("reopen with the same key: %q, %v", got, err)
	}
}

func TestMasterKeyRefusals(t *testing.T) {
	tests := []struct {
		name     string
		prepare  func(t *testing.T, path string) // runs after a first, successful start
		wantErrs []string
	}{
		{
			name: "a different valid key",
			prepare: func(t *testing.T, path string) {
				t.Setenv("KEYDESK_MASTER_KEY", keys.NewMasterKey())
			},
			wantErrs: []string{"KEYDESK_MASTER_KEY", "does not open the secrets", "refusing to start"},
		},
		{
			name: "a key file replaced by another key",
			prepare: func(t *testing.T, path string) {
				if err := os.WriteFile(path+".key", []byte(keys.NewMasterKey()+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			wantErrs: []string{".key", "does not open the secrets", "refusing to start"},
		},
		{
			name: "a deleted key file",
			prepare: func(t *testing.T, path string) {
				if err := os.Remove(path + ".key"); err != nil {
					t.Fatal(err)
				}
			},
			wantErrs: []string{"master key file", "missing", "KEYDESK_MASTER_KEY"},
		},
		{
			name: "an invalid key",
			prepare: func(t *testing.T, path string) {
				t.Setenv("KEYDESK_MASTER_KEY", "not-a-key")
			},
			wantErrs: []string{"KEYDESK_MASTER_KEY", "32 bytes"},
		},
		{
			name: "a key of the wrong length",
			prepare: func(t *testing.T, path string) {
				t.Setenv("KEYDESK_MASTER_KEY", hex.EncodeToString(make([]byte, 16)))
			},
			wantErrs: []string{"KEYDESK_MASTER_KEY", "32 bytes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := testEnv(t)
			keyFile := path + ".key"
			ctx := context.Background()
			store, sealer, err := open(ctx, mustConfig(t), quiet)
			if err != nil {
				t.Fatal(err)
			}
			sealed := sealer.Seal("secret", "ctx")
			store.Close()
			original, err := os.ReadFile(keyFile)
			if err != nil {
				t.Fatal(err)
			}

			tt.prepare(t, path)
			before, beforeErr := os.ReadFile(keyFile)

			store, _, err = open(ctx, mustConfig(t), quiet)
			if err == nil {
				store.Close()
				t.Fatal("open succeeded")
			}
			for _, want := range tt.wantErrs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			after, afterErr := os.ReadFile(keyFile)
			if !bytes.Equal(before, after) || (beforeErr == nil) != (afterErr == nil) {
				t.Errorf("a refused start changed the key file: before %q (%v), after %q (%v)", before, beforeErr, after, afterErr)
			}

			// The refusal must have left the database as it was: its own key still opens it.
			t.Setenv("KEYDESK_MASTER_KEY", "")
			if err := os.WriteFile(keyFile, original, 0o600); err != nil {
				t.Fatal(err)
			}
			_, good := openStore(t)
			if got, err := good.Open(sealed, "ctx"); err != nil || got != "secret" {
				t.Errorf("after the refusal the original key no longer opens the secrets: %q, %v", got, err)
			}
		})
	}
}

func TestInvalidMasterKeyOnNewDatabase(t *testing.T) {
	path := testEnv(t)
	t.Setenv("KEYDESK_MASTER_KEY", "zzzz")
	_, _, err := open(context.Background(), mustConfig(t), quiet)
	if err == nil || !strings.Contains(err.Error(), "KEYDESK_MASTER_KEY") {
		t.Fatalf("error = %v, want one naming KEYDESK_MASTER_KEY", err)
	}
	if _, err := os.Stat(path + ".key"); !errors.Is(err, os.ErrNotExist) {
		t.Error("a key file was written although KEYDESK_MASTER_KEY was set")
	}
}

func TestBootstrap(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		wantName  string
		wantSlug  string
		wantEmail string
	}{
		{
			name:      "defaults",
			env:       map[string]string{"KEYDESK_ADMIN_EMAIL": "boss@example.com", "KEYDESK_ADMIN_PASSWORD": "a long enough password"},
			wantName:  "Demo Dealership",
			wantSlug:  "demo-dealership",
			wantEmail: "boss@example.com",
		},
		{
			name: "named account",
			env: map[string]string{"KEYDESK_ACCOUNT_NAME": "Main Street Motors",
				"KEYDESK_ADMIN_EMAIL": "boss@example.com", "KEYDESK_ADMIN_PASSWORD": "a long enough password"},
			wantName:  "Main Street Motors",
			wantSlug:  "main-street-motors",
			wantEmail: "boss@example.com",
		},
		{
			name:      "no email",
			env:       map[string]string{"KEYDESK_ADMIN_PASSWORD": "a long enough password"},
			wantName:  "Demo Dealership",
			wantSlug:  "demo-dealership",
			wantEmail: "admin@demo-dealership.example",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			ctx := context.Background()
			store, _ := openStore(t)
			stderr := captureStderr(t, func() {
				if err := bootstrap(ctx, mustConfig(t), store, quiet); err != nil {
					t.Fatal(err)
				}
			})
			if strings.Contains(stderr, "a long enough password") {
				t.Errorf("bootstrap printed the chosen password: %q", stderr)
			}
			accounts, err := store.Accounts(ctx)
			if err != nil || len(accounts) != 1 {
				t.Fatalf("accounts = %+v, %v; want one", accounts, err)
			}
			acc := accounts[0]
			if acc.Name != tt.wantName || acc.Slug != tt.wantSlug || !acc.Holds(db.LicenseLeads) || !acc.Holds(db.LicenseCapture) {
				t.Errorf("account = %+v, want %q (%s) with both licenses", acc, tt.wantName, tt.wantSlug)
			}
			u, err := store.UserByEmail(ctx, tt.wantEmail)
			if err != nil {
				t.Fatalf("admin %s: %v", tt.wantEmail, err)
			}
			if u.AccountID != acc.ID || !u.IsAdmin() {
				t.Errorf("admin = %+v", u)
			}
			if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("a long enough password")) != nil {
				t.Error("the admin's hash does not match KEYDESK_ADMIN_PASSWORD")
			}
		})
	}
}

func TestBootstrapGeneratesPasswordAndRunsOnce(t *testing.T) {
	testEnv(t)
	ctx := context.Background()
	store, _ := openStore(t)
	stderr := captureStderr(t, func() {
		if err := bootstrap(ctx, mustConfig(t), store, quiet); err != nil {
			t.Fatal(err)
		}
	})
	m := regexp.MustCompile(`Sign in as (\S+) with password: (\S+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("bootstrap did not print the generated password: %q", stderr)
	}
	email, password := m[1], m[2]
	if email != "admin@demo-dealership.example" {
		t.Errorf("generated admin email = %q", email)
	}
	if msg := web.NewPasswordProblem(password); msg != "" {
		t.Errorf("generated password %q is too weak: %s", password, msg)
	}
	u, err := store.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil || strings.Contains(u.PasswordHash, password) {
		t.Fatalf("stored password %q is not a bcrypt hash (%v)", u.PasswordHash, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		t.Error("the printed password does not match the stored hash")
	}

	// A second start creates nothing and prints nothing, whatever the variables say.
	t.Setenv("KEYDESK_ACCOUNT_NAME", "Another Dealership")
	t.Setenv("KEYDESK_ADMIN_EMAIL", "second@example.com")
	t.Setenv("KEYDESK_ADMIN_PASSWORD", "another long password")
	stderr = captureStderr(t, func() {
		if err := bootstrap(ctx, mustConfig(t), store, quiet); err != nil {
			t.Fatal(err)
		}
	})
	if stderr != "" {
		t.Errorf("second bootstrap printed %q", stderr)
	}
	if n, _ := store.CountUsers(ctx); n != 1 {
		t.Errorf("%d users after the second bootstrap, want 1", n)
	}
	if accounts, _ := store.Accounts(ctx); len(accounts) != 1 {
		t.Errorf("%d accounts after the second bootstrap, want 1", len(accounts))
	}
	if again, _ := store.User(ctx, u.ID); again.PasswordHash != u.PasswordHash {
		t.Error("the second bootstrap changed the admin's password")
	}
}

func TestBootstrapUsesExistingAccount(t *testing.T) {
	testEnv(t)
	t.Setenv("KEYDESK_ADMIN_EMAIL", "boss@example.com")
	t.Setenv("KEYDESK_ADMIN_PASSWORD", "a long enough password")
	mustRun(t, "", "account", "create", "--name", "Lakeside Auto")
	ctx := context.Background()
	store, _ := openStore(t)
	if err := bootstrap(ctx, mustConfig(t), store, quiet); err != nil {
		t.Fatal(err)
	}
	accounts, _ := store.Accounts(ctx)
	if len(accounts) != 1 || accounts[0].Slug != "lakeside-auto" {
		t.Fatalf("accounts = %+v, want only lakeside-auto", accounts)
	}
	u, err := store.UserByEmail(ctx, "boss@example.com")
	if err != nil || u.AccountID != accounts[0].ID {
		t.Errorf("admin = %+v, %v; want it in lakeside-auto", u, err)
	}
}

func TestBootstrapRefusesBadSettings(t *testing.T) {
	tests := []struct{ variable, value, want string }{
		{"KEYDESK_ADMIN_PASSWORD", "short", "12 characters"},
		{"KEYDESK_ADMIN_EMAIL", "not an email", "not an email address"},
		{"KEYDESK_ADMIN_EMAIL", "boss\u200b@example.com", "U+200B"},
		{"KEYDESK_ACCOUNT_NAME", "Demo \u202eDealership", "U+202E"},
		{"KEYDESK_ACCOUNT_NAME", "Demo\ufeff", "U+FEFF"},
	}
	for _, tt := range tests {
		t.Run(tt.variable+"="+tt.value, func(t *testing.T) {
			testEnv(t)
			t.Setenv(tt.variable, tt.value)
			ctx := context.Background()
			store, _ := openStore(t)
			err := bootstrap(ctx, mustConfig(t), store, quiet)
			if err == nil || !strings.Contains(err.Error(), tt.variable) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one naming %s and saying %q", err, tt.variable, tt.want)
			}
			accounts, _ := store.Accounts(ctx)
			if n, _ := store.CountUsers(ctx); n != 0 || len(accounts) != 0 {
				t.Errorf("%d users and %d accounts created with a refused setting", n, len(accounts))
			}
		})
	}
}

func TestServeRefusesBadMasterKeyBeforeListening(t *testing.T) {
	for _, args := range [][]string{nil, {"serve"}} {
		testEnv(t)
		t.Setenv("KEYDESK_MASTER_KEY", "not-a-key")
		done := make(chan error, 1)
		go func() { done <- run(args, strings.NewReader(""), io.Discard, quiet) }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "KEYDESK_MASTER_KEY") {
				t.Errorf("run %v: error = %v, want one naming KEYDESK_MASTER_KEY", args, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("run %v did not stop on a bad master key", args)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeBootstrapsAndStopsOnInterrupt(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("sends SIGINT to itself")
	}
	path := testEnv(t) // KEYDESK_ADDR is 127.0.0.1:0
	t.Setenv("KEYDESK_ADMIN_EMAIL", "boss@example.com")
	t.Setenv("KEYDESK_ADMIN_PASSWORD", "a long enough password")
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"serve"}, strings.NewReader(""), io.Discard, slog.New(slog.NewTextHandler(logs, nil)))
	}()

	addr := waitListening(t, logs, done)
	if !strings.Contains(logs.String(), "public_url=http://"+addr) {
		t.Errorf("without KEYDESK_PUBLIC_URL the public URL is not http:// and the address bound (%s):\n%s", addr, logs)
	}
	// serve has registered for SIGINT before opening the database, so this
	// interrupts it gracefully instead of killing the test.
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after an interrupt", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after an interrupt")
	}
	if !strings.Contains(logs.String(), "keydesk stopping") {
		t.Errorf("no stop logged:\n%s", logs)
	}

	// The first start made the account, the admin and the key file.
	if _, err := os.Stat(path + ".key"); err != nil {
		t.Errorf("no key file after serve: %v", err)
	}
	store, _ := openStore(t)
	u, err := store.UserByEmail(context.Background(), "boss@example.com")
	if err != nil || !u.IsAdmin() {
		t.Errorf("admin after serve = %+v, %v", u, err)
	}
}

func TestMasterKeyFileReadableByOthers(t *testing.T) {
	tests := []struct {
		mode    os.FileMode
		strict  string
		wantErr bool
		wantLog bool
	}{
		{0o600, "", false, false},
		{0o400, "1", false, false},
		{0o640, "", false, true},
		{0o604, "", false, true},
		{0o644, "0", false, true},
		{0o640, "1", true, false},
		{0o604, "true", true, false},
		{0o666, "on", true, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%04o strict=%q", tt.mode, tt.strict), func(t *testing.T) {
			path := testEnv(t)
			store, _ := openStore(t) // first start writes the key file
			store.Close()
			if err := os.Chmod(path+".key", tt.mode); err != nil {
				t.Fatal(err)
			}
			t.Setenv("KEYDESK_STRICT", tt.strict)
			logs := &syncBuffer{}
			store, _, err := open(context.Background(), mustConfig(t), slog.New(slog.NewTextHandler(logs, nil)))
			if err == nil {
				store.Close()
			}
			if tt.wantErr != (err != nil) {
				t.Fatalf("open: error = %v, want an error: %v", err, tt.wantErr)
			}
			if err != nil && (!strings.Contains(err.Error(), "KEYDESK_STRICT") || !strings.Contains(err.Error(), "chmod 600")) {
				t.Errorf("error %q does not say why and what to do", err)
			}
			warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "group or others")
			if warned != tt.wantLog {
				t.Errorf("warned = %v, want %v; log:\n%s", warned, tt.wantLog, logs)
			}
		})
	}
}
