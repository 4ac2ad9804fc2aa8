package handlers

import (
	"fmt"
	"strings"
	"time"

	"keydesk/db"
	"keydesk/keys"
)

// editDetail says in words what an edit changed, old → new, for the audit log.
// A key's settings hold no secret, so every value may be written.
func editDetail(before, after db.APIKey) string {
	var out []string
	if before.Name != after.Name {
		out = append(out, fmt.Sprintf("Renamed from “%s” to “%s”", before.Name, after.Name))
	}
	if a, b := strings.Join(before.Licenses, ", "), strings.Join(after.Licenses, ", "); a != b {
		out = append(out, fmt.Sprintf("Licenses %s → %s", a, b))
	}
	b, a := before.Settings, after.Settings
	onOff := func(label string, was, is bool) {
		if was != is {
			word := "off"
			if is {
				word = "on"
			}
			out = append(out, label+" turned "+word)
		}
	}
	quoted := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return "“" + s + "”"
	}
	text := func(label, was, is string) {
		if was != is {
			out = append(out, label+" "+quoted(was)+" → "+quoted(is))
		}
	}
	text("Theme", b.Theme, a.Theme)
	onOff("PII mask", b.PIIMask, a.PIIMask)
	text("Redirect URL", b.RedirectURL, a.RedirectURL)
	onOff("Skip interior", b.SkipInterior, a.SkipInterior)
	onOff("Skip odometer", b.SkipOdometer, a.SkipOdometer)
	onOff("Include disclosures", b.IncludeDisclosures, a.IncludeDisclosures)
	onOff("Include announcements", b.IncludeAnnouncements, a.IncludeAnnouncements)
	text("Capture SMS", b.CaptureSMS, a.CaptureSMS)
	text("Results SMS", b.ResultsSMS, a.ResultsSMS)
	onOff("Wear and tear estimates", b.WearAndTear, a.WearAndTear)
	if b.SessionExpiry != a.SessionExpiry {
		out = append(out, fmt.Sprintf("Expired sessions %s → %s", expiryLabel(b.SessionExpiry), expiryLabel(a.SessionExpiry)))
	}
	if len(out) == 0 {
		return "no change"
	}
	return strings.Join(out, "; ")
}

func expiryLabel(d time.Duration) string {
	if e, ok := keys.ExpiryByDuration(d); ok {
		return e.Label
	}
	return d.String()
}
