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

	"keydesk/keys"
)

// The fixture* helpers are shared by every test file of the package.

var fixtureNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// fixtureStore opens a fresh store in a temp dir and closes it when the test ends.
func fixtureStore(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keydesk.db")
	d, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d, path
}

func fixtureAccount(t *testing.T, d *DB, slug string) Account {
	t.Helper()
	a, err := d.CreateAccount(context.Background(), Account{Slug: slug, Name: "Account " + slug,
		Licenses: AllLicenses, CreatedAt: fixtureNow})
	if err != nil {
		t.Fatalf("CreateAccount %s: %v", slug, err)
	}
	return a
}

func fixtureUser(t *testing.T, d *DB, acc Account, email string) User {
	t.Helper()
	u, err := d.CreateUser(context.Background(), User{AccountID: acc.ID, Email: email,
		PasswordHash: "not-a-real-hash", Role: RoleAdmin, CreatedAt: fixtureNow})
	if err != nil {
		t.Fatalf("CreateUser %s: %v", email, err)
	}
	return u
}

func fixtureKey(t *testing.T, d *DB, acc Account, by User, name string) APIKey {
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
		Settings: KeySettings{Theme: "lite", SessionExpiry: 24 * time.Hour}}
}

func TestOpenMigratesOnce(t *testing.T) {
	ctx := context.Background()
	d, path := fixtureStore(t)
	var version int
	if err := d.write.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != len(migrations) {
		t.Fatalf("user_version = %d, want %d", version, len(migrations))
	}
	for _, table := range []string{"meta", "accounts", "users", "sessions", "api_keys", "audit_events", "access_tokens", "leads"} {
		var n int
		if err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("table %s missing after migration", table)
		}
	}
	acc := fixtureAccount(t, d, "kept")
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Reopening must not run any migration again (migration 1 would fail on
	// its existing tables) and must keep the data.
	d2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer d2.Close()
	if err := d2.write.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != len(migrations) {
		t.Fatalf("after reopen user_version = %d, want %d", version, len(migrations))
	}
	got, err := d2.Account(ctx, acc.ID)
	if err != nil || got.Slug != "kept" {
		t.Fatalf("account after reopen = %+v, %v", got, err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keydesk.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.write.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations)+1)); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d2, err := Open(ctx, path)
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

func TestForeignKeysEnforced(t *testing.T) {
	d, _ := fixtureStore(t)
	_, err := d.CreateUser(context.Background(), User{AccountID: 999, Email: "orphan@example.com",
		PasswordHash: "x", Role: RoleAdmin, CreatedAt: fixtureNow})
	if err == nil {
		t.Fatal("a user of a missing account was inserted: foreign keys are off")
	}
}

func TestMeta(t *testing.T) {
	ctx := context.Background()
	d, _ := fixtureStore(t)
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

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	d, _ := fixtureStore(t)
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

func TestUsers(t *testing.T) {
	ctx := context.Background()
	d, _ := fixtureStore(t)
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
