package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"

	"keydesk/db"
	"keydesk/keys"
)

// config is keydesk's environment, read and checked once at start.
type config struct {
	Addr, DBPath, MasterKey, AdminEmail, AdminPassword, AccountName string
	// DatabaseURL, when set, is a postgres:// URL used instead of the SQLite file DBPath.
	DatabaseURL string
	// PublicURL starts every absolute link keydesk sends out, without a
	// trailing slash; "" means http:// and the address serve binds.
	PublicURL string
	// MaxConnections caps the connections served at once; more wait to be accepted.
	MaxConnections int
	BehindProxy    bool
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// Strict refuses to start on settings that are only warned about otherwise.
	Strict bool
	// RequestLogDays is how long the per-key request log keeps each request.
	RequestLogDays int
	// RequestLogOff turns the per-key request log off (KEYDESK_REQUEST_LOG=off).
	RequestLogOff bool
}

const defaultMaxConnections = 4096

// dsn is the database to open: the PostgreSQL URL when set, else the SQLite file.
func (c config) dsn() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return c.DBPath
}

// database names the database for people, without a password.
func (c config) database() string { return db.Describe(c.dsn()) }

// configFromEnv reads the KEYDESK_* variables (an empty one counts as unset)
// and says at once, naming the variable, what is wrong with any of them.
func configFromEnv() (config, error) {
	get := func(name, fallback string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return fallback
	}
	cfg := config{
		Addr:          get("KEYDESK_ADDR", "127.0.0.1:8080"),
		DBPath:        get("KEYDESK_DB", "keydesk.db"),
		DatabaseURL:   os.Getenv("KEYDESK_DATABASE_URL"),
		MasterKey:     os.Getenv("KEYDESK_MASTER_KEY"),
		AdminEmail:    os.Getenv("KEYDESK_ADMIN_EMAIL"),
		AdminPassword: os.Getenv("KEYDESK_ADMIN_PASSWORD"),
		AccountName:   get("KEYDESK_ACCOUNT_NAME", "Demo Dealership"),
	}
	var errs []error
	check := func(name string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	check("KEYDESK_ADDR", checkAddr(cfg.Addr))
	var err error
	if raw := os.Getenv("KEYDESK_PUBLIC_URL"); raw != "" {
		cfg.PublicURL, err = publicURL(raw)
		check("KEYDESK_PUBLIC_URL", err)
	}
	cfg.MaxConnections, err = positiveInt(get("KEYDESK_MAX_CONNECTIONS", strconv.Itoa(defaultMaxConnections)))
	check("KEYDESK_MAX_CONNECTIONS", err)
	cfg.BehindProxy, err = parseBool(os.Getenv("KEYDESK_BEHIND_PROXY"))
	check("KEYDESK_BEHIND_PROXY", err)
	if raw := os.Getenv("KEYDESK_TRUSTED_PROXIES"); raw != "" {
		var msg string
		if cfg.TrustedProxies, msg = keys.ParseAllowlist(raw); msg != "" {
			check("KEYDESK_TRUSTED_PROXIES", errors.New(msg))
		}
	}
	cfg.Strict, err = parseBool(os.Getenv("KEYDESK_STRICT"))
	check("KEYDESK_STRICT", err)
	on, err := parseBool(get("KEYDESK_REQUEST_LOG", "on"))
	check("KEYDESK_REQUEST_LOG", err)
	cfg.RequestLogOff = !on
	days := get("KEYDESK_REQUEST_LOG_DAYS", "30")
	if cfg.RequestLogDays, err = strconv.Atoi(days); err != nil || cfg.RequestLogDays < 1 || cfg.RequestLogDays > 400 {
		check("KEYDESK_REQUEST_LOG_DAYS", fmt.Errorf("%q: use a whole number of days from 1 to 400", days))
	}
	return cfg, errors.Join(errs...)
}

// checkAddr accepts host:port with a numeric port, as net.Listen would.
func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:8080 or :8080): %w", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: the port must be a number from 0 to 65535", addr)
	}
	if strings.ContainsAny(host, " /?#@") {
		return fmt.Errorf("%q: %q is not a host name or IP address", addr, host)
	}
	return nil
}

// defaultPublicURL is http:// and the address bound, with localhost for an
// address that listens everywhere.
func defaultPublicURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// publicURL accepts an absolute http or https URL without user, query or
// fragment, and returns it without a trailing slash.
func publicURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("%q is not a URL: %w", raw, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("%q: use an absolute http:// or https:// URL such as https://keys.example.com", raw)
	case u.User != nil:
		return "", fmt.Errorf("%q: a public URL carries no user name or password", raw)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return "", fmt.Errorf("%q: a public URL has no query (?…) or fragment (#…)", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func positiveInt(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q: use a whole number of at least 1", s)
	}
	return n, nil
}

// parseBool reads the usual spellings of a yes/no setting; unset is no.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, fmt.Errorf("%q: use 1, true, yes or on to switch it on; 0, false, no or off (or leave it unset) to leave it off", s)
}
