package keys

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Expiry is one choice of the Expired Sessions setting.
type Expiry struct {
	Value    string
	Duration time.Duration
	Label    string
}

// Expiries are the lifetimes an unfinished capture session may have.
var Expiries = []Expiry{
	{"1h", time.Hour, "1 hour"},
	{"6h", 6 * time.Hour, "6 hours"},
	{"12h", 12 * time.Hour, "12 hours"},
	{"24h", 24 * time.Hour, "24 hours"},
	{"48h", 48 * time.Hour, "48 hours"},
	{"72h", 72 * time.Hour, "72 hours"},
	{"7d", 7 * 24 * time.Hour, "7 days"},
	{"14d", 14 * 24 * time.Hour, "14 days"},
	{"30d", 30 * 24 * time.Hour, "30 days"},
}

// ExpiryByValue finds an Expiries entry by its form value.
func ExpiryByValue(v string) (Expiry, bool) {
	for _, e := range Expiries {
		if e.Value == v {
			return e, true
		}
	}
	return Expiry{}, false
}

// ExpiryByDuration finds an Expiries entry by its duration.
func ExpiryByDuration(d time.Duration) (Expiry, bool) {
	for _, e := range Expiries {
		if e.Duration == d {
			return e, true
		}
	}
	return Expiry{}, false
}

// SMSPlaceholders are the only {…} placeholders an SMS template may use.
var SMSPlaceholders = []string{"{dealer}", "{customer}", "{link}", "{vehicle}"}

// MaxSMS is the longest SMS template, in characters.
const MaxSMS = 320

// MaxName is the longest key name, in characters.
const MaxName = 64

// MaxRedirectURL is the longest redirect URL, in bytes.
const MaxRedirectURL = 2048

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// CheckSMS returns a sentence saying what is wrong with an SMS template, or "".
func CheckSMS(s string) string {
	if n := utf8.RuneCountInString(s); n > MaxSMS {
		return fmt.Sprintf("Keep the message to %d characters or fewer (it has %d).", MaxSMS, n)
	}
	for _, p := range placeholder.FindAllString(s, -1) {
		known := false
		for _, ok := range SMSPlaceholders {
			known = known || p == ok
		}
		if !known {
			return fmt.Sprintf("%s is not a placeholder keydesk knows. Use %s.", p, strings.Join(SMSPlaceholders, ", "))
		}
	}
	if strings.ContainsAny(placeholder.ReplaceAllString(s, ""), "{}") {
		return "A brace is not closed. Write placeholders as {dealer}, {customer}, {link} or {vehicle}."
	}
	return ""
}

// CheckRedirectURL returns a sentence saying what is wrong with a redirect
// URL, or "". It must be absolute https, or http for localhost only.
func CheckRedirectURL(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > MaxRedirectURL {
		return fmt.Sprintf("Keep the URL to %d characters or fewer.", MaxRedirectURL)
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "Enter a full address such as https://www.example.com/thanks."
	}
	if u.User != nil {
		return "Leave user names and passwords out of the URL."
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		host := u.Hostname()
		if strings.EqualFold(host, "localhost") || (net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback()) {
			return ""
		}
		return "Use https:// (plain http:// is allowed only for localhost)."
	}
	return "Use an https:// address."
}
