package db

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keydesk/db/dbtest"
	"keydesk/keys"
)

// The fixture* helpers are shared by every test file of the package.

var fixtureNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// backends is the table of databases every store test runs against: each
// entry makes a fresh, empty database and returns the dsn that opens it.
var backends = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "keydesk.db") }},
	{"postgres", func(t *testing.T) string { return dbtest.URL(t) }},
}

// forEachBackend runs test once per backend, as a subtest named after it.
func forEachBackend(t *testing.T, test func(t *testing.T, dsn string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.dsn(t)) })
	}
}

// fixtureOpen opens dsn and closes the store when the test ends.
func fixtureOpen(t testing.TB, dsn string) *DB {
	t.Helper()
	d, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// fixtureStore opens a fresh SQLite store in a temp dir, for the tests of
// what only SQLite has.
func fixtureStore(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keydesk.db")
	return fixtureOpen(t, path), path
}

func fixtureAccount(t testing.TB, d *DB, slug string) Account {
	t.Helper()
	a, err := d.CreateAccount(context.Background(), Account{Slug: slug, Name: "Account " + slug,
		Licenses: AllLicenses, CreatedAt: fixtureNow})
	if err != nil {
		t.Fatalf("CreateAccount %s: %v", slug, err)
	}
	return a
}

func fixtureUser(t testing.TB, d *DB, acc Account, email string) User {
	t.Helper()
	u, err := d.CreateUser(context.Background(), User{AccountID: acc.ID, Email: email,
		PasswordHash: "not-a-real-hash", Role: RoleAdmin, CreatedAt: fixtureNow})
	if err != nil {
		t.Fatalf("CreateUser %s: %v", email, err)
	}
	return u
}

func fixtureKey(t testing.TB, d *DB, acc Account, by User, name string) APIKey {
	t.Helper()
	k, err := d.CreateAPIKey(context.Background(), fixtureKeyValue(acc, by, name),
		Actor{UserID: by.ID, Email: by.Email, RemoteAddr: "192.0.2.1"})
	if err != nil {
		t.Fatalf("CreateAPIKey %s: %v", name, err)
	}
	return k
}

func fixtureKeyValue(acc Account, by User, name string) APIKey {
	return APIKey{AccountID: acc.ID, Name: name, Type: Integration, Licenses: []string{LicenseLeads},
		Mode: keys.Live, PublicKey: keys.NewAPIKey(keys.Live), SecretSealed: []byte("sealed"),
		SecretLast4: "abcd", CreatedAt: fixtureNow, CreatedBy: by.ID,
		Settings: keys.Settings{Theme: "lite", SessionExpiry: 24 * time.Hour}}
}

func TestOpenMigratesOnce(t *testing.T) { forEachBackend(t, testOpenMigratesOnce) }

func testOpenMigratesOnce(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	if v, err := d.SchemaVersion(ctx); err != nil || v != len(sqliteMigrations) {
		t.Fatalf("schema version = %d, %v; want %d", v, err, len(sqliteMigrations))
	}
	for _, table := range []string{"meta", "accounts", "users", "sessions", "api_keys", "audit_events", "leads", "capture_sessions", "login_throttle", "changes", "instances", "revoked_tokens"} {
		var n int
		if err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Errorf("table %s after migration: %v", table, err)
		}
	}
	acc := fixtureAccount(t, d, "kept")
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Reopening must not run any migration again (migration 1 would fail on
	// its existing tables) and must keep the data.
	d2 := fixtureOpen(t, dsn)
	if v, err := d2.SchemaVersion(ctx); err != nil || v != len(sqliteMigrations) {
		t.Fatalf("after reopen schema version = %d, %v; want %d", v, err, len(sqliteMigrations))
	}
	got, err := d2.Account(ctx, acc.ID)
	if err != nil || got.Slug != "kept" {
		t.Fatalf("account after reopen = %+v, %v", got, err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) { forEachBackend(t, testOpenRefusesNewerSchema) }

func testOpenRefusesNewerSchema(t *testing.T, dsn string) {
	ctx := context.Background()
	d, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	newer := fmt.Sprintf(`PRAGMA user_version = %d`, len(sqliteMigrations)+1)
	if d.Backend() == Postgres {
		newer = fmt.Sprintf(`INSERT INTO schema_migrations (id, description, applied_at) VALUES (%d, 'from the future', 0)`, len(postgresMigrations)+1)
	}
	if _, err := d.write.ExecContext(ctx, newer); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d2, err := Open(ctx, dsn)
	if err == nil {
		d2.Close()
		t.Fatal("Open of a database from a newer keydesk succeeded")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("error %q does not say the schema is newer", err)
	}
}

func TestPragmas(t *testing.T) {
	ctx := context.Background()
	d, _ := fixtureStore(t)
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"synchronous", "2"}, // FULL: a commit survives a power loss
		{"busy_timeout", "10000"},
		{"query_only", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			var got string
			if err := d.write.QueryRowContext(ctx, `PRAGMA `+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("write connection: PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}

	var readOnly, fk int
	if err := d.read.QueryRowContext(ctx, `PRAGMA query_only`).Scan(&readOnly); err != nil {
		t.Fatal(err)
	}
	if err := d.read.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if readOnly != 1 || fk != 1 {
		t.Errorf("read pool: query_only = %d, foreign_keys = %d; want 1, 1", readOnly, fk)
	}
	if _, err := d.read.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ('x', 'y')`); err == nil {
		t.Error("the read pool accepted a write")
	}
}

func TestForeignKeysEnforced(t *testing.T) { forEachBackend(t, testForeignKeysEnforced) }

func testForeignKeysEnforced(t *testing.T, dsn string) {
	d := fixtureOpen(t, dsn)
	_, err := d.CreateUser(context.Background(), User{AccountID: 999, Email: "orphan@example.com",
		PasswordHash: "x", Role: RoleAdmin, CreatedAt: fixtureNow})
	if err == nil {
		t.Fatal("a user of a missing account was inserted: foreign keys are off")
	}
}

func TestMeta(t *testing.T) { forEachBackend(t, testMeta) }

func testMeta(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	if _, err := d.Meta(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Meta(missing) error = %v, want ErrNotFound", err)
	}
	for _, v := range []string{"first", "second"} {
		if err := d.SetMeta(ctx, "k", []byte(v)); err != nil {
			t.Fatal(err)
		}
		got, err := d.Meta(ctx, "k")
		if err != nil || string(got) != v {
			t.Fatalf("Meta(k) = %q, %v; want %q", got, err, v)
		}
	}
}

func TestAccounts(t *testing.T) { forEachBackend(t, testAccounts) }

func testAccounts(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	a, err := d.CreateAccount(ctx, Account{Slug: "main-street", Name: "Main Street", Licenses: []string{LicenseCapture}, CreatedAt: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.AccountBySlug(ctx, "main-street")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID || got.Name != "Main Street" || !got.CreatedAt.Equal(fixtureNow) ||
		len(got.Licenses) != 1 || !got.Holds(LicenseCapture) || got.Holds(LicenseLeads) {
		t.Errorf("AccountBySlug = %+v", got)
	}
	if _, err := d.CreateAccount(ctx, Account{Slug: "main-street", Name: "Other", CreatedAt: fixtureNow}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second account with the same slug: error = %v, want ErrDuplicate", err)
	}
	if _, err := d.AccountBySlug(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("AccountBySlug(nope) error = %v, want ErrNotFound", err)
	}
	if _, err := d.Account(ctx, a.ID+100); !errors.Is(err, ErrNotFound) {
		t.Errorf("Account(unknown) error = %v, want ErrNotFound", err)
	}
	fixtureAccount(t, d, "second")
	all, err := d.Accounts(ctx)
	if err != nil || len(all) != 2 || all[0].Slug != "main-street" || all[1].Slug != "second" {
		t.Errorf("Accounts = %+v, %v; want main-street then second", all, err)
	}
}

func TestUsers(t *testing.T) { forEachBackend(t, testUsers) }

func testUsers(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	u := fixtureUser(t, d, acc, "Ann@Example.com")

	got, err := d.UserByEmail(ctx, "ann@example.COM")
	if err != nil || got.ID != u.ID {
		t.Fatalf("UserByEmail is not case-insensitive: %+v, %v", got, err)
	}
	_, err = d.CreateUser(ctx, User{AccountID: acc.ID, Email: "ANN@example.com", PasswordHash: "x", Role: RoleDealer, CreatedAt: fixtureNow})
	if !errors.Is(err, ErrDuplicate) {
		t.Errorf("same email in another case: error = %v, want ErrDuplicate", err)
	}
	if _, err := d.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("UserByEmail(unknown) error = %v, want ErrNotFound", err)
	}
	if err := d.SetUserRole(ctx, u.ID, RoleDealer); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.User(ctx, u.ID); got.Role != RoleDealer || got.IsAdmin() {
		t.Errorf("role after SetUserRole = %q", got.Role)
	}
	if err := d.SetUserRole(ctx, u.ID+100, RoleAdmin); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetUserRole(unknown) error = %v, want ErrNotFound", err)
	}
	if n, err := d.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v; want 1", n, err)
	}
}

func TestNewDatabaseIsOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keydesk.db")
	store, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, name := range []string{path, path + "-wal"} {
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(name), mode)
		}
	}
}
