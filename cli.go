package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"time"

	"keydesk/db"
	"keydesk/keys/visible"
	"keydesk/web"
)

const helpText = `keydesk — API keys for a car dealership's integrations.

Commands:
  keydesk serve                 start the dashboard and the API (the default)
  keydesk migrate               apply the database's pending migrations and exit
                                (run it before rolling out a new version)
  keydesk account create --name NAME [--slug SLUG] [--licenses leads,capture]
                                add an account (a dealership); the slug defaults
                                to one derived from the name, licenses to both
  keydesk user create --email EMAIL --role admin|dealer [--account SLUG]
                                add a user; the password is read from standard
                                input (one line), never from an argument; the
                                account may be left out while there is only one
  keydesk user disable --email EMAIL
                                sign a user out everywhere and refuse their
                                sign-ins; "keydesk user enable" undoes it
  keydesk user role --email EMAIL --role admin|dealer
                                change a user's role, from their next request
                                (the last active admin of an account stays)
  keydesk user reset-password --email EMAIL
                                set a user's new password, read from standard
                                input (one line, same rules as user create),
                                and end their sessions
  keydesk backup --to FILE [--force]
                                copy the SQLite database (and its master key file,
                                to FILE.key) while keydesk runs; refuses to replace
                                a file without --force. On PostgreSQL use pg_dump
  keydesk version               show the version, VCS revision and Go version
  keydesk help                  show this text

Environment (every command reads the same variables):
  KEYDESK_ADDR            address to listen on, host:port (default 127.0.0.1:8080)
  KEYDESK_PUBLIC_URL      the address people and integrations use to reach keydesk,
                          e.g. https://keys.example.com; every absolute link keydesk
                          sends out (capture session links, the docs' examples)
                          starts with it, never with a request's Host header.
                          Absolute http:// or https://, no query or fragment
                          (default http:// + KEYDESK_ADDR)
  KEYDESK_MAX_CONNECTIONS connections served at once; more wait until one closes
                          (default 4096; keep it below the open-files limit)
  KEYDESK_DB              SQLite database file (default keydesk.db)
  KEYDESK_DATABASE_URL    postgres://user:password@host:5432/dbname: run on PostgreSQL
                          instead of SQLite, so several instances can share one
                          database; needs KEYDESK_MASTER_KEY, the same on every one
  KEYDESK_MASTER_KEY      32-byte secret-encryption key, base64 or hex; when unset,
                          one is generated on first start into KEYDESK_DB + ".key"
                          (mode 0600) and reused. A key that does not open the
                          stored secrets stops keydesk from starting.
  KEYDESK_ADMIN_EMAIL     first start only: the first admin's email
  KEYDESK_ADMIN_PASSWORD  first start only: the first admin's password; when unset
                          one is generated and printed once
  KEYDESK_ACCOUNT_NAME    first start only: the first account's name
                          (default "Demo Dealership")
  KEYDESK_BEHIND_PROXY    on behind a reverse proxy, to trust its X-Forwarded-Proto
                          header (and a well-formed X-Request-Id):
                          1, true, yes or on;
                          0, false, no, off or unset for off (default off)
  KEYDESK_TRUSTED_PROXIES comma-separated addresses or CIDR ranges of the proxies
                          whose X-Forwarded-For names the client (for IP
                          allowlists and throttles); from any other peer the
                          header is ignored (default none: the peer is the client)
  KEYDESK_STRICT          on (1, true, yes, on) to refuse to start where keydesk
                          otherwise only warns: a master key file that group or
                          others can read (default off)
  KEYDESK_LOG_FORMAT      text (the default) or json; one line per request
  KEYDESK_LOG_LEVEL       debug, info (the default), warn or error
  KEYDESK_METRICS_ADDR    address for Prometheus metrics at /metrics, e.g.
                          127.0.0.1:9090 (default: off); keep it off the public network
  KEYDESK_DEBUG           set to 1 to serve pprof at /debug/pprof/ on the metrics address
  KEYDESK_DRAIN_DELAY     on SIGTERM, how long /readyz fails while requests are
                          still served, when something polls /readyz (default 5s)
  KEYDESK_REQUEST_LOG      off to record no API request in the per-key request log
                          (default on)
  KEYDESK_REQUEST_LOG_DAYS  days the per-key request log keeps each API
                          request (default 30); hourly counts stay 400 days
`

// migrateCommand applies pending migrations (opening the store does) and exits.
func migrateCommand(cfg config, stdout io.Writer) error {
	ctx := context.Background()
	store, err := db.Open(ctx, cfg.dsn())
	if err != nil {
		return err
	}
	defer store.Close()
	v, err := store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is at schema version %d\n", cfg.database(), v)
	return nil
}

func accountCommand(cfg config, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf(`usage: keydesk account create --name NAME [--slug SLUG] [--licenses leads,capture]`)
	}
	fs := flag.NewFlagSet("account create", flag.ContinueOnError)
	name := fs.String("name", "", "the dealership's display name")
	slug := fs.String("slug", "", "lower-case identifier, used in request signatures")
	licenses := fs.String("licenses", strings.Join(db.AllLicenses, ","), "licenses the account holds")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return fmt.Errorf("--name is required, e.g. --name \"Main Street Motors\"")
	}
	if err := visible.Check("--name", *name); err != nil {
		return err
	}
	if *slug == "" {
		*slug = slugify(*name)
	}
	if !validSlug.MatchString(*slug) {
		return fmt.Errorf("--slug %q: use 1–48 lower-case letters, digits and inner hyphens", *slug)
	}
	var ls []string
	for _, l := range strings.Split(*licenses, ",") {
		l = strings.TrimSpace(l)
		if !slices.Contains(db.AllLicenses, l) {
			return fmt.Errorf("--licenses: unknown license %q; choose from %s", l, strings.Join(db.AllLicenses, ", "))
		}
		if !slices.Contains(ls, l) {
			ls = append(ls, l)
		}
	}
	ctx := context.Background()
	store, _, err := open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	acc, err := store.CreateAccount(ctx, db.Account{Name: strings.TrimSpace(*name), Slug: *slug, Licenses: ls, CreatedAt: time.Now()})
	if errors.Is(err, db.ErrDuplicate) {
		return fmt.Errorf("--slug %q: an account with this slug already exists; choose another with --slug: %w", *slug, db.ErrDuplicate)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created account %s (%s) with licenses %s\n", acc.Slug, acc.Name, strings.Join(acc.Licenses, ","))
	return nil
}

const userUsage = `usage: keydesk user create --email EMAIL --role admin|dealer [--account SLUG] < password
       keydesk user disable --email EMAIL
       keydesk user enable --email EMAIL
       keydesk user role --email EMAIL --role admin|dealer
       keydesk user reset-password --email EMAIL < password`

func userCommand(cfg config, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	switch args[0] {
	case "create":
		return userCreate(cfg, args[1:], stdin, stdout)
	case "disable", "enable", "role":
		return userChange(cfg, args[0], args[1:], stdout)
	case "reset-password":
		return userResetPassword(cfg, args[1:], stdin, stdout)
	}
	return errors.New(userUsage)
}

func userCreate(cfg config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	email := fs.String("email", "", "the user's email")
	role := fs.String("role", "", "admin or dealer")
	slug := fs.String("account", "", "the account's slug")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkEmail("--email", *email); err != nil {
		return err
	}
	if *role != db.RoleAdmin && *role != db.RoleDealer {
		return fmt.Errorf("--role must be admin or dealer")
	}
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	ctx := context.Background()
	store, _, err := open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	acc, err := pickAccount(ctx, store, *slug)
	if err != nil {
		return err
	}
	u, err := createUser(ctx, store, acc, *email, *role, password)
	if errors.Is(err, db.ErrDuplicate) {
		return fmt.Errorf("--email %q: a user with this email already exists: %w", *email, db.ErrDuplicate)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s %s in account %s\n", u.Role, u.Email, acc.Slug)
	return nil
}

// readPassword reads a new password, one line, from standard input and
// checks it against the password rules.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if msg := web.NewPasswordProblem(password); msg != "" {
		return "", fmt.Errorf("password (from standard input): %s", msg)
	}
	return password, nil
}

// userResetPassword gives a user a new password, read from standard input,
// and ends their sessions: a lost password is never a dead end.
func userResetPassword(cfg config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("user reset-password", flag.ContinueOnError)
	email := fs.String("email", "", "the user's email")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return fmt.Errorf("--email is required: keydesk user reset-password --email EMAIL < password")
	}
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	hash, err := web.HashPassword(password)
	if err != nil {
		return err
	}
	ctx := context.Background()
	store, u, err := openUser(ctx, cfg, *email)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.SetUserPassword(ctx, u.ID, hash); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "set a new password for %s; their sessions have ended\n", u.Email)
	if u.Disabled {
		fmt.Fprintf(stdout, "%s is disabled: \"keydesk user enable --email %s\" lets them sign in\n", u.Email, u.Email)
	}
	return nil
}

// userChange disables, re-enables or changes the role of a user; it counts
// from that user's next request. The last active admin of an account stays.
func userChange(cfg config, what string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("user "+what, flag.ContinueOnError)
	email := fs.String("email", "", "the user's email")
	role := fs.String("role", "", "admin or dealer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return fmt.Errorf("--email is required: keydesk user %s --email EMAIL", what)
	}
	if what == "role" && *role != db.RoleAdmin && *role != db.RoleDealer {
		return fmt.Errorf("--role must be admin or dealer")
	}
	ctx := context.Background()
	store, u, err := openUser(ctx, cfg, *email)
	if err != nil {
		return err
	}
	defer store.Close()
	losesAdmin := u.IsAdmin() && !u.Disabled && (what == "disable" || what == "role" && *role != db.RoleAdmin)
	if losesAdmin {
		n, err := store.CountActiveAdmins(ctx, u.AccountID)
		if err != nil {
			return err
		}
		if n <= 1 {
			return fmt.Errorf("%s is the account's last active admin: make another admin first", u.Email)
		}
	}
	switch what {
	case "disable", "enable":
		err = store.SetUserDisabled(ctx, u.ID, what == "disable")
	case "role":
		err = store.SetUserRole(ctx, u.ID, *role)
	}
	if err != nil {
		return err
	}
	switch what {
	case "disable":
		fmt.Fprintf(stdout, "disabled %s; their sessions have ended\n", u.Email)
	case "enable":
		fmt.Fprintf(stdout, "enabled %s\n", u.Email)
	default:
		fmt.Fprintf(stdout, "%s is now %s, from their next request\n", u.Email, *role)
	}
	return nil
}

// checkEmail refuses what is not a plain email address, or hides characters.
func checkEmail(field, email string) error {
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return fmt.Errorf("%s %q is not an email address", field, email)
	}
	return visible.Check(field, email)
}

// openUser opens the store and finds the user with email in it; the
// caller closes the store.
func openUser(ctx context.Context, cfg config, email string) (*db.DB, db.User, error) {
	store, _, err := open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, db.User{}, err
	}
	u, err := store.UserByEmail(ctx, email)
	if err != nil {
		store.Close()
		if errors.Is(err, db.ErrNotFound) {
			return nil, db.User{}, fmt.Errorf("--email %q: no such user", email)
		}
		return nil, db.User{}, err
	}
	return store, u, nil
}

func pickAccount(ctx context.Context, store *db.DB, slug string) (db.Account, error) {
	if slug != "" {
		acc, err := store.AccountBySlug(ctx, slug)
		if errors.Is(err, db.ErrNotFound) {
			return db.Account{}, fmt.Errorf("--account %q: no such account", slug)
		}
		return acc, err
	}
	accounts, err := store.Accounts(ctx)
	if err != nil {
		return db.Account{}, err
	}
	if len(accounts) != 1 {
		return db.Account{}, fmt.Errorf("there are %d accounts: name one with --account SLUG", len(accounts))
	}
	return accounts[0], nil
}
