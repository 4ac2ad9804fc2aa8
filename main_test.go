package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"keydesk/db"
	"keydesk/keys"
)

var quiet = slog.New(slog.DiscardHandler)

// testEnv points every KEYDESK_* variable at a fresh temp dir (or unsets it)
// and returns the database path.
func testEnv(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keydesk.db")
	for _, name := range []string{"KEYDESK_DATABASE_URL", "KEYDESK_MASTER_KEY", "KEYDESK_ADMIN_EMAIL", "KEYDESK_ADMIN_PASSWORD",
		"KEYDESK_ACCOUNT_NAME", "KEYDESK_BEHIND_PROXY", "KEYDESK_PUBLIC_URL", "KEYDESK_MAX_CONNECTIONS", "KEYDESK_STRICT",
		"KEYDESK_LOG_FORMAT", "KEYDESK_LOG_LEVEL", "KEYDESK_METRICS_ADDR", "KEYDESK_DEBUG", "KEYDESK_DRAIN_DELAY"} {
		t.Setenv(name, "") // configFromEnv treats empty as unset
	}
	t.Setenv("KEYDESK_DB", path)
	t.Setenv("KEYDESK_ADDR", "127.0.0.1:0")
	return path
}

// mustConfig reads the environment and fails the test if it is refused.
func mustConfig(t *testing.T) config {
	t.Helper()
	cfg, err := configFromEnv()
	if err != nil {
		t.Fatalf("configFromEnv: %v", err)
	}
	return cfg
}

// openStore opens the configured database and sealer, closing them when the test ends.
func openStore(t *testing.T) (*db.DB, *keys.Sealer) {
	t.Helper()
	store, sealer, err := open(context.Background(), mustConfig(t), quiet)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	return store, sealer
}

// captureStderr returns what fn wrote to os.Stderr.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&buf, r); close(done) }()
	defer func() {
		os.Stderr = saved
		w.Close()
		<-done
		r.Close()
	}()
	fn()
	os.Stderr = saved
	w.Close()
	<-done
	return buf.String()
}

func TestHelpListsCommandsAndVariables(t *testing.T) {
	testEnv(t)
	// Every variable the code reads must be explained.
	vars := map[string]bool{}
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`"(KEYDESK_[A-Z_]+)"`).FindAllStringSubmatch(string(src), -1) {
			vars[m[1]] = true
		}
	}
	for _, v := range []string{"KEYDESK_ADDR", "KEYDESK_DB", "KEYDESK_MASTER_KEY", "KEYDESK_ADMIN_EMAIL",
		"KEYDESK_ADMIN_PASSWORD", "KEYDESK_ACCOUNT_NAME", "KEYDESK_BEHIND_PROXY", "KEYDESK_PUBLIC_URL",
		"KEYDESK_MAX_CONNECTIONS", "KEYDESK_STRICT"} {
		if !vars[v] {
			t.Errorf("the code no longer reads %s (or the scan broke)", v)
		}
	}
	wants := []string{"keydesk serve", "keydesk account create", "--name", "--slug", "--licenses",
		"keydesk migrate", "keydesk user create", "--email", "--role", "--account", "keydesk user disable", "keydesk user enable", "keydesk user role", "keydesk user reset-password", "keydesk help", "password is read from"}
	for v := range vars {
		wants = append(wants, v)
	}

	for _, arg := range []string{"help", "-h", "--help"} {
		var out bytes.Buffer
		if err := run([]string{arg}, strings.NewReader(""), &out, quiet); err != nil {
			t.Fatalf("run %s: %v", arg, err)
		}
		for _, w := range wants {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s does not mention %q", arg, w)
			}
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	path := testEnv(t)
	err := run([]string{"frobnicate"}, strings.NewReader(""), io.Discard, quiet)
	if err == nil || !strings.Contains(err.Error(), "frobnicate") || !strings.Contains(err.Error(), "keydesk help") {
		t.Errorf("unknown command: error = %v, want one naming it and pointing at help", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("an unknown command created the database")
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Demo Dealership", "demo-dealership"},
		{"Main Street Motors", "main-street-motors"},
		{"  O'Brien & Sons, Inc.  ", "o-brien-sons-inc"},
		{"Café Zürich", "caf-z-rich"},
		{"!!!", "account"},
		{"", "account"},
		{strings.Repeat("ab ", 30), "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab"},
	}
	for _, tt := range tests {
		got := slugify(tt.name)
		if got != tt.want {
			t.Errorf("slugify(%q) = %q, want %q", tt.name, got, tt.want)
		}
		if !validSlug.MatchString(got) {
			t.Errorf("slugify(%q) = %q, which is not a valid slug", tt.name, got)
		}
	}
}

func TestAccountCreate(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		wantErr      string // part of the error; "" for success
		wantSlug     string
		wantName     string
		wantLicenses []string
	}{
		{name: "slug from name", args: []string{"--name", "Main Street Motors"},
			wantSlug: "main-street-motors", wantName: "Main Street Motors", wantLicenses: db.AllLicenses},
		{name: "explicit slug", args: []string{"--name", "Main Street Motors", "--slug", "msm2"},
			wantSlug: "msm2", wantName: "Main Street Motors", wantLicenses: db.AllLicenses},
		{name: "name is trimmed", args: []string{"--name", "  Lakeside Auto  "},
			wantSlug: "lakeside-auto", wantName: "Lakeside Auto", wantLicenses: db.AllLicenses},
		{name: "one license", args: []string{"--name", "Leads Only", "--licenses", "leads"},
			wantSlug: "leads-only", wantName: "Leads Only", wantLicenses: []string{"leads"}},
		{name: "licenses deduplicated", args: []string{"--name", "Capture", "--licenses", "capture, capture"},
			wantSlug: "capture", wantName: "Capture", wantLicenses: []string{"capture"}},
		{name: "missing name", args: nil, wantErr: "--name"},
		{name: "blank name", args: []string{"--name", "   "}, wantErr: "--name"},
		{name: "slug with space", args: []string{"--name", "X", "--slug", "Bad Slug"}, wantErr: "--slug"},
		{name: "slug upper case", args: []string{"--name", "X", "--slug", "ACME"}, wantErr: "--slug"},
		{name: "slug leading hyphen", args: []string{"--name", "X", "--slug", "-acme"}, wantErr: "--slug"},
		{name: "slug too long", args: []string{"--name", "X", "--slug", strings.Repeat("a", 49)}, wantErr: "--slug"},
		{name: "unknown license", args: []string{"--name", "X", "--licenses", "leads,sales"}, wantErr: "--licenses"},
		{name: "empty licenses", args: []string{"--name", "X", "--licenses", ""}, wantErr: "--licenses"},
		{name: "right-to-left override in name", args: []string{"--name", "Main \u202eStreet", "--slug", "main"}, wantErr: "--name contains an invisible"},
		{name: "zero-width space in name", args: []string{"--name", "Main\u200bStreet", "--slug", "main"}, wantErr: "U+200B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testEnv(t)
			var out bytes.Buffer
			err := run(append([]string{"account", "create"}, tt.args...), strings.NewReader(""), &out, quiet)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one naming %s", err, tt.wantErr)
				}
				store, _ := openStore(t)
				if accounts, _ := store.Accounts(context.Background()); len(accounts) != 0 {
					t.Errorf("a refused command created %+v", accounts)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.wantSlug) {
				t.Errorf("output %q does not name the slug %s", out.String(), tt.wantSlug)
			}
			store, _ := openStore(t)
			acc, err := store.AccountBySlug(context.Background(), tt.wantSlug)
			if err != nil {
				t.Fatalf("account %s: %v", tt.wantSlug, err)
			}
			if acc.Name != tt.wantName || strings.Join(acc.Licenses, ",") != strings.Join(tt.wantLicenses, ",") {
				t.Errorf("account = %+v, want name %q licenses %v", acc, tt.wantName, tt.wantLicenses)
			}
		})
	}
}

func TestAccountCreateUsage(t *testing.T) {
	testEnv(t)
	for _, args := range [][]string{{"account"}, {"account", "delete"}} {
		err := run(args, strings.NewReader(""), io.Discard, quiet)
		if err == nil || !strings.Contains(err.Error(), "usage: keydesk account create") {
			t.Errorf("run %v: error = %v, want the usage", args, err)
		}
	}
}

func TestAccountCreateDuplicateSlug(t *testing.T) {
	testEnv(t)
	args := []string{"account", "create", "--name", "Main Street Motors"}
	if err := run(args, strings.NewReader(""), io.Discard, quiet); err != nil {
		t.Fatal(err)
	}
	err := run(args, strings.NewReader(""), io.Discard, quiet)
	if !errors.Is(err, db.ErrDuplicate) || !strings.Contains(err.Error(), "main-street-motors") {
		t.Errorf("second account with the same slug: error = %v, want ErrDuplicate naming the slug", err)
	}
}

func mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(args, strings.NewReader(stdin), &out, quiet); err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String()
}

func TestUserCreate(t *testing.T) {
	const password = "correct horse battery"
	tests := []struct {
		name      string
		accounts  []string // slugs created first
		args      []string
		stdin     string
		wantErr   string // part of the error; "" for success
		wantIn    string // account slug the user lands in
		wantRole  string
		wantEmail string
	}{
		{name: "only account needs no --account", accounts: []string{"acme"},
			args: []string{"--email", "ann@example.com", "--role", "admin"}, stdin: password + "\n",
			wantIn: "acme", wantRole: db.RoleAdmin, wantEmail: "ann@example.com"},
		{name: "dealer", accounts: []string{"acme"},
			args: []string{"--email", "dan@example.com", "--role", "dealer"}, stdin: password,
			wantIn: "acme", wantRole: db.RoleDealer, wantEmail: "dan@example.com"},
		{name: "reads one line only", accounts: []string{"acme"},
			args: []string{"--email", "ann@example.com", "--role", "admin"}, stdin: password + "\nsecond line\n",
			wantIn: "acme", wantRole: db.RoleAdmin, wantEmail: "ann@example.com"},
		{name: "CRLF line ending", accounts: []string{"acme"},
			args: []string{"--email", "ann@example.com", "--role", "admin"}, stdin: password + "\r\n",
			wantIn: "acme", wantRole: db.RoleAdmin, wantEmail: "ann@example.com"},
		{name: "named account among two", accounts: []string{"acme", "globex"},
			args: []string{"--email", "gil@example.com", "--role", "admin", "--account", "globex"}, stdin: password + "\n",
			wantIn: "globex", wantRole: db.RoleAdmin, wantEmail: "gil@example.com"},
		{name: "two accounts need --account", accounts: []string{"acme", "globex"},
			args: []string{"--email", "gil@example.com", "--role", "admin"}, stdin: password + "\n", wantErr: "--account"},
		{name: "no accounts", accounts: nil,
			args: []string{"--email", "gil@example.com", "--role", "admin"}, stdin: password + "\n", wantErr: "0 accounts"},
		{name: "unknown account", accounts: []string{"acme"},
			args: []string{"--email", "gil@example.com", "--role", "admin", "--account", "nope"}, stdin: password + "\n",
			wantErr: `--account "nope"`},
		{name: "short password", accounts: []string{"acme"},
			args: []string{"--email", "ann@example.com", "--role", "admin"}, stdin: "short\n", wantErr: "12 characters"},
		{name: "empty password", accounts: []string{"acme"},
			args: []string{"--email", "ann@example.com", "--role", "admin"}, stdin: "", wantErr: "standard input"},
		{name: "password over 72 bytes", accounts: []string{"acme"},
			args: []string{"--email", "ann@example.com", "--role", "admin"}, stdin: strings.Repeat("p", 73), wantErr: "72 bytes"},
		{name: "unknown role", accounts: []string{"acme"},
			args: []string{"--email", "ann@example.com", "--role", "owner"}, stdin: password + "\n", wantErr: "--role"},
		{name: "missing role", accounts: []string{"acme"},
			args: []string{"--email", "ann@example.com"}, stdin: password + "\n", wantErr: "--role"},
		{name: "bad email", accounts: []string{"acme"},
			args: []string{"--email", "not an email", "--role", "admin"}, stdin: password + "\n", wantErr: "--email"},
		{name: "email with display name", accounts: []string{"acme"},
			args: []string{"--email", "Ann <ann@example.com>", "--role", "admin"}, stdin: password + "\n", wantErr: "--email"},
		{name: "zero-width space in email", accounts: []string{"acme"},
			args: []string{"--email", "an\u200bn@example.com", "--role", "admin"}, stdin: password + "\n", wantErr: "--email contains an invisible"},
		{name: "bidi isolate in email", accounts: []string{"acme"},
			args: []string{"--email", "ann@exa\u2066mple.com", "--role", "admin"}, stdin: password + "\n", wantErr: "U+2066"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testEnv(t)
			for _, slug := range tt.accounts {
				mustRun(t, "", "account", "create", "--name", slug)
			}
			var out bytes.Buffer
			err := run(append([]string{"user", "create"}, tt.args...), strings.NewReader(tt.stdin), &out, quiet)
			store, _ := openStore(t)
			ctx := context.Background()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if n, _ := store.CountUsers(ctx); n != 0 {
					t.Errorf("a refused command created %d user(s)", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.wantEmail) || !strings.Contains(out.String(), tt.wantIn) {
				t.Errorf("output %q does not name the user and account", out.String())
			}
			u, err := store.UserByEmail(ctx, tt.wantEmail)
			if err != nil {
				t.Fatal(err)
			}
			acc, err := store.AccountBySlug(ctx, tt.wantIn)
			if err != nil {
				t.Fatal(err)
			}
			if u.AccountID != acc.ID || u.Role != tt.wantRole || u.Disabled {
				t.Errorf("user = %+v, want role %s in account %s (id %d)", u, tt.wantRole, tt.wantIn, acc.ID)
			}
			if u.PasswordHash == password || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
				t.Errorf("stored hash %q is not a bcrypt hash of the first line of standard input", u.PasswordHash)
			}
		})
	}
}

func TestUserCreateDuplicateEmail(t *testing.T) {
	testEnv(t)
	mustRun(t, "", "account", "create", "--name", "Acme")
	mustRun(t, "correct horse battery\n", "user", "create", "--email", "ann@example.com", "--role", "admin")
	err := run([]string{"user", "create", "--email", "ANN@example.com", "--role", "dealer"},
		strings.NewReader("another long password\n"), io.Discard, quiet)
	if !errors.Is(err, db.ErrDuplicate) || !strings.Contains(err.Error(), "ANN@example.com") {
		t.Fatalf("duplicate email: error = %v, want ErrDuplicate naming the email", err)
	}
	store, _ := openStore(t)
	if n, _ := store.CountUsers(context.Background()); n != 1 {
		t.Errorf("%d users after a refused duplicate, want 1", n)
	}
}

func TestUserCreateUsage(t *testing.T) {
	testEnv(t)
	for _, args := range [][]string{{"user"}, {"user", "add"}} {
		err := run(args, strings.NewReader(""), io.Discard, quiet)
		if err == nil || !strings.Contains(err.Error(), "usage: keydesk user create") {
			t.Errorf("run %v: error = %v, want the usage", args, err)
		}
	}
}

func TestUserDisableEnableAndRole(t *testing.T) {
	testEnv(t)
	mustRun(t, "", "account", "create", "--name", "Acme")
	mustRun(t, "correct horse battery\n", "user", "create", "--email", "ann@example.com", "--role", "admin")
	mustRun(t, "correct horse battery\n", "user", "create", "--email", "bob@example.com", "--role", "dealer")

	steps := []struct {
		args    []string
		wantErr string
		check   func(ann, bob db.User) bool
	}{
		{[]string{"user", "disable", "--email", "ann@example.com"}, "last active admin", func(a, _ db.User) bool { return !a.Disabled }},
		{[]string{"user", "role", "--email", "ann@example.com", "--role", "dealer"}, "last active admin", func(a, _ db.User) bool { return a.IsAdmin() }},
		{[]string{"user", "role", "--email", "bob@example.com", "--role", "owner"}, "--role must be admin or dealer", nil},
		{[]string{"user", "disable", "--email", "nobody@example.com"}, "no such user", nil},
		{[]string{"user", "disable"}, "--email is required", nil},
		{[]string{"user", "role", "--email", "bob@example.com", "--role", "admin"}, "", func(_, b db.User) bool { return b.IsAdmin() }},
		{[]string{"user", "disable", "--email", "ann@example.com"}, "", func(a, _ db.User) bool { return a.Disabled }},
		{[]string{"user", "enable", "--email", "ann@example.com"}, "", func(a, _ db.User) bool { return !a.Disabled }},
		{[]string{"user", "role", "--email", "BOB@example.com", "--role", "dealer"}, "", func(_, b db.User) bool { return !b.IsAdmin() }},
	}
	for _, s := range steps {
		err := run(s.args, strings.NewReader(""), io.Discard, quiet)
		switch {
		case s.wantErr == "" && err != nil:
			t.Fatalf("run %v: %v", s.args, err)
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Fatalf("run %v: error %v, want one saying %q", s.args, err, s.wantErr)
		}
		if s.check == nil {
			continue
		}
		store, _ := openStore(t)
		ann, _ := store.UserByEmail(context.Background(), "ann@example.com")
		bob, _ := store.UserByEmail(context.Background(), "bob@example.com")
		store.Close()
		if !s.check(ann, bob) {
			t.Fatalf("after %v: ann %+v, bob %+v", s.args, ann, bob)
		}
	}
}

func TestUserResetPassword(t *testing.T) {
	testEnv(t)
	mustRun(t, "", "account", "create", "--name", "Acme")
	mustRun(t, "correct horse battery\n", "user", "create", "--email", "ann@example.com", "--role", "admin")
	mustRun(t, "correct horse battery\n", "user", "create", "--email", "bob@example.com", "--role", "dealer")
	ctx := context.Background()
	store, _ := openStore(t)
	ann, _ := store.UserByEmail(ctx, "ann@example.com")
	bob, _ := store.UserByEmail(ctx, "bob@example.com")
	for _, s := range []struct {
		sid string
		id  int64
	}{{"ann-laptop", ann.ID}, {"ann-phone", ann.ID}, {"bob-laptop", bob.ID}} {
		if err := store.CreateSession(ctx, s.sid, s.id, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()

	refusals := []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"--email", "ann@example.com"}, "short\n", "12 characters"},
		{[]string{"--email", "ann@example.com"}, "", "standard input"},
		{[]string{"--email", "ann@example.com"}, strings.Repeat("p", 73), "72 bytes"},
		{[]string{"--email", "nobody@example.com"}, "a brand new password\n", "no such user"},
		{nil, "a brand new password\n", "--email is required"},
	}
	for _, r := range refusals {
		err := run(append([]string{"user", "reset-password"}, r.args...), strings.NewReader(r.stdin), io.Discard, quiet)
		if err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("reset-password %v with %q: error = %v, want one saying %q", r.args, r.stdin, err, r.want)
		}
	}

	out := mustRun(t, "a brand new password\n", "user", "reset-password", "--email", "ANN@example.com")
	if !strings.Contains(out, "ann@example.com") || !strings.Contains(out, "sessions have ended") {
		t.Errorf("output %q", out)
	}
	store, _ = openStore(t)
	ann, _ = store.UserByEmail(ctx, "ann@example.com")
	if bcrypt.CompareHashAndPassword([]byte(ann.PasswordHash), []byte("a brand new password")) != nil {
		t.Error("the new password does not sign in")
	}
	if bcrypt.CompareHashAndPassword([]byte(ann.PasswordHash), []byte("correct horse battery")) == nil {
		t.Error("the old password still signs in")
	}
	for _, sid := range []string{"ann-laptop", "ann-phone"} {
		if _, err := store.Session(ctx, sid); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("session %s survived the reset: %v", sid, err)
		}
	}
	if _, err := store.Session(ctx, "bob-laptop"); err != nil {
		t.Errorf("another user's session ended: %v", err)
	}
	bob, _ = store.UserByEmail(ctx, "bob@example.com")
	if bcrypt.CompareHashAndPassword([]byte(bob.PasswordHash), []byte("correct horse battery")) != nil {
		t.Error("another user's password changed")
	}
}
