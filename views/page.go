// Package views holds keydesk's templ components: one layout, shared
// pieces, and one file per page. Pages take one view-model struct.
package views

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"keydesk/db"
)

// Page is what the layout needs to know about the request.
type Page struct {
	Title       string
	Active      string // nav entry to highlight
	Email       string
	Role        string
	AccountName string
	AccountSlug string
	CSRF        string
	Now         time.Time // when the request started, for relative times
	Flash       string    // a one-time notice from the previous request
}

// IsAdmin reports whether the viewer may manage keys.
func (p Page) IsAdmin() bool { return p.Role == db.RoleAdmin }

// ErrorVM is an error page.
type ErrorVM struct {
	Page      Page
	Status    int
	Title     string
	Message   string
	RequestID string // quoted to whoever runs keydesk
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// exactTime is a time to the second, in UTC: scripts turn it into the viewer's zone.
func exactTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// relTime says how long before or after now t is: "just now", "3 min ago", "in 5 days".
func relTime(t, now time.Time) string {
	d := now.Sub(t)
	future := d < 0
	if future {
		// A time ahead is rounded to its unit, not cut down: an expiry set
		// to 7 days a minute ago is "in 7 days", not "in 6 days".
		d = -d
		size, _ := relUnit(d)
		d = d.Round(size)
	}
	if d < time.Minute {
		return "just now"
	}
	size, unit := relUnit(d)
	n := int(d / size)
	if n != 1 && unit != "min" && unit != "h" {
		unit += "s"
	}
	s := fmt.Sprintf("%d %s", n, unit)
	if future {
		return "in " + s
	}
	return s + " ago"
}

// relUnits are the units relTime counts in, each for durations below its bound.
var relUnits = []struct {
	below, size time.Duration
	name        string
}{
	{time.Hour, time.Minute, "min"},
	{24 * time.Hour, time.Hour, "h"},
	{31 * 24 * time.Hour, 24 * time.Hour, "day"},
	{365 * 24 * time.Hour, 30 * 24 * time.Hour, "month"},
}

// relUnit is the unit relTime counts d in, and its name.
func relUnit(d time.Duration) (time.Duration, string) {
	for _, u := range relUnits {
		if d < u.below {
			return u.size, u.name
		}
	}
	return 365 * 24 * time.Hour, "year"
}

func typeLabel(t db.KeyType) string {
	if t == db.Integration {
		return "Extensive integration"
	}
	return "Digital requests"
}

func licenseLabel(l string) string {
	switch l {
	case db.LicenseLeads:
		return "Leads"
	case db.LicenseCapture:
		return "Capture"
	}
	return l
}

func licenseList(ls []string) string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = licenseLabel(l)
	}
	return strings.Join(out, ", ")
}

func modeLabel(k db.APIKey) string {
	if k.Mode == "live" {
		return "Live"
	}
	return "Test"
}

func maskSecret(last4 string) string { return "••••" + last4 }

func keyPath(id int64, suffix string) string {
	return "/settings/integrations/keys/" + strconv.FormatInt(id, 10) + suffix
}

// KeyPagePath is a key's page: the admin's, or the read-only one under /keys.
func KeyPagePath(id int64, admin bool) string {
	if admin {
		return keyPath(id, "")
	}
	return "/keys/" + strconv.FormatInt(id, 10)
}

// shortKey keeps the mode prefix and the last characters of an API key.
func shortKey(public string) string {
	if len(public) <= 20 {
		return public
	}
	return public[:12] + "…" + public[len(public)-4:]
}

func revealPath(id int64) string { return "/keys/" + strconv.FormatInt(id, 10) + "/reveal" }

func rowID(id int64) string { return "key-" + strconv.FormatInt(id, 10) }

func secretID(id int64) string { return "secret-" + strconv.FormatInt(id, 10) }

func tableID(t db.KeyType) string { return "rows-" + string(t) }

func csrfHeaders(token string) string {
	if token == "" {
		return ""
	}
	return `{"X-CSRF-Token":"` + token + `"}`
}
