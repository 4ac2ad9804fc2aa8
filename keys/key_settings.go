package keys

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Settings are everything an admin sets on a key besides its name and
// licenses: the capture settings of the PAVE model and the key's lifecycle
// rules. Fields lists each one with its form field, column, audit label and
// parser, so a new setting is one struct field and one Fields entry here.
type Settings struct {
	Theme                string
	PIIMask              bool
	RedirectURL          string
	SkipInterior         bool
	SkipOdometer         bool
	IncludeDisclosures   bool
	IncludeAnnouncements bool
	CaptureSMS           string
	ResultsSMS           string
	WearAndTear          bool
	SessionExpiry        time.Duration

	// ExpiresAt is when the key stops working; zero for never.
	ExpiresAt time.Time
	// IPMode says what happens to calls from outside IPAllow.
	IPMode IPMode
	// IPAllow is the allowlist, one canonical address or CIDR range a line.
	IPAllow string
	// RateLimit is the most requests a minute; 0 for no limit.
	RateLimit int64
	// DailyLeadLimit is the most leads a day (digital-requests keys); 0 for no limit.
	DailyLeadLimit int64
	// RequireV2 refuses PAVE-style (v1) signatures: only body-bound ones count.
	RequireV2 bool
	// Note says what the key is for and whom to call about it; at most MaxNote characters.
	Note string
}

// MaxNote is the longest note of a key, in characters.
const MaxNote = 500

func checkNote(s string) string {
	if n := utf8.RuneCountInString(s); n > MaxNote {
		return fmt.Sprintf("The note is %d characters long: shorten it to %d or fewer, e.g. what the key is for and whom to call.", n, MaxNote)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return "The note holds a control character: type it as plain text, on as many lines as you like."
	}
	return ""
}

// IPMode is what an allowlist does: nothing, report, or enforce.
type IPMode string

// The allowlist modes; the zero value is Off.
const (
	IPOff     IPMode = ""
	IPReport  IPMode = "report"
	IPEnforce IPMode = "enforce"
)

// String is the mode's stored and form value: off, report or enforce.
func (m IPMode) String() string {
	if m == IPOff {
		return "off"
	}
	return string(m)
}

// ParseIPMode reads a stored mode.
func ParseIPMode(s string) IPMode {
	if s == "off" {
		return IPOff
	}
	return IPMode(s)
}

// DefaultSettings are the settings of a new key.
func DefaultSettings() Settings {
	return Settings{Theme: "lite", SessionExpiry: 24 * time.Hour}
}

// Limits of the lifecycle settings.
const (
	MaxAllowlist      = 50
	MaxRateLimit      = 100_000   // requests a minute
	MaxDailyLeadLimit = 1_000_000 // leads a day
	// ExpiringSoon is how long before its expiry a key is flagged.
	ExpiringSoon = 14 * 24 * time.Hour
)

// KeyExpiries are the choices of the key's Expires field, in days (0: never).
var KeyExpiries = []struct {
	Value string
	Days  int
	Label string
}{
	{"never", 0, "Never"}, {"30d", 30, "In 30 days"}, {"90d", 90, "In 90 days"},
	{"180d", 180, "In 180 days"}, {"365d", 365, "In 365 days"}, {"date", -1, "On a date…"},
}

// Field is one setting: where it lives in the form and the table, what the
// audit log calls it, and how it is read from and written to the form.
type Field struct {
	Kind   FieldKind
	Name   string // the form field (and its error key)
	Column string // the api_keys column
	Label  string // the audit's "what changed"
	// Ref points at the setting, for the store to scan into and write from.
	Ref func(*Settings) any
	// Form puts the setting's form values (name → text) into v.
	Form func(s Settings, v map[string]string)
	// Parse reads the setting from the form's values into s, returning a
	// sentence naming what is wrong and how to fix it, or "".
	Parse func(get func(string) string, s *Settings, now time.Time) string

	// A setting with an Input is shown by the views with no code of its
	// own: the Create/Edit form gives it that control ("switch", "text" or
	// "textarea", at most MaxLen characters, with Help) in Group ("about" at
	// the top, "access" under Expiry and access), and the key's page says
	// Words of its value under Heading (the Title when empty) in that group.
	Input   string
	Group   string
	Help    string
	MaxLen  int
	Heading string
	Words   func(Settings) string
}

// Title is the setting's name as a label: "Require body-signed requests".
func (f Field) Title() string { return strings.ToUpper(f.Label[:1]) + f.Label[1:] }

// PageHeading is what the key's page calls the setting.
func (f Field) PageHeading() string {
	if f.Heading != "" {
		return f.Heading
	}
	return f.Title()
}

// shown gives f the views' presentation v (Input, Group, Help, MaxLen, Heading, Words).
func (f Field) shown(v Field) Field {
	f.Input, f.Group, f.Help, f.MaxLen, f.Heading, f.Words = v.Input, v.Group, v.Help, v.MaxLen, v.Heading, v.Words
	return f
}

// Shown are the settings of a group that the views show by themselves, in order.
func Shown(group string) []Field {
	var out []Field
	for _, f := range Fields {
		if f.Input != "" && f.Group == group {
			out = append(out, f)
		}
	}
	return out
}

// FieldKind says how a setting reads in words.
type FieldKind int

// The kinds of setting: a value, or a switch that is on or off.
const (
	ValueField FieldKind = iota
	BoolField
)

func boolField(name, column, label string, ref func(*Settings) *bool) Field {
	return Field{Kind: BoolField, Name: name, Column: column, Label: label,
		Ref: func(s *Settings) any { return ref(s) },
		Form: func(s Settings, v map[string]string) {
			if *ref(&s) {
				v[name] = "on"
			}
		},
		Parse: func(get func(string) string, s *Settings, _ time.Time) string {
			*ref(s) = get(name) != ""
			return ""
		}}
}

func textField(name, column, label string, ref func(*Settings) *string, trim bool, check func(string) string) Field {
	return Field{Name: name, Column: column, Label: label,
		Ref:  func(s *Settings) any { return ref(s) },
		Form: func(s Settings, v map[string]string) { v[name] = *ref(&s) },
		Parse: func(get func(string) string, s *Settings, _ time.Time) string {
			t := get(name)
			if trim {
				t = strings.TrimSpace(t)
			}
			*ref(s) = t
			return check(t)
		}}
}

func limitField(name, column, label string, ref func(*Settings) *int64, max int64, unit string) Field {
	return Field{Name: name, Column: column, Label: label,
		Ref: func(s *Settings) any { return ref(s) },
		Form: func(s Settings, v map[string]string) {
			if n := *ref(&s); n > 0 {
				v[name] = strconv.FormatInt(n, 10)
			}
		},
		Parse: func(get func(string) string, s *Settings, _ time.Time) string {
			t := strings.TrimSpace(strings.ReplaceAll(get(name), ",", ""))
			*ref(s) = 0
			if t == "" {
				return ""
			}
			n, err := strconv.ParseInt(t, 10, 64)
			if err != nil || n <= 0 || n > max {
				return fmt.Sprintf("Enter a whole number of %s from 1 to %d, or leave it empty for no limit.", unit, max)
			}
			*ref(s) = n
			return ""
		}}
}

// Fields are every setting, in the form's order.
var Fields = []Field{
	{Name: "theme", Column: "theme", Label: "theme",
		Ref:  func(s *Settings) any { return &s.Theme },
		Form: func(s Settings, v map[string]string) { v["theme"] = s.Theme },
		Parse: func(get func(string) string, s *Settings, _ time.Time) string {
			s.Theme = get("theme")
			if s.Theme != "lite" && s.Theme != "pro" {
				return "Choose Lite or Pro."
			}
			return ""
		}},
	boolField("pii_mask", "pii_mask", "PII mask", func(s *Settings) *bool { return &s.PIIMask }),
	textField("redirect_url", "redirect_url", "redirect URL", func(s *Settings) *string { return &s.RedirectURL }, true, CheckRedirectURL),
	boolField("skip_interior", "skip_interior", "skip interior", func(s *Settings) *bool { return &s.SkipInterior }),
	boolField("skip_odometer", "skip_odometer", "skip odometer", func(s *Settings) *bool { return &s.SkipOdometer }),
	boolField("include_disclosures", "include_disclosures", "disclosures", func(s *Settings) *bool { return &s.IncludeDisclosures }),
	boolField("include_announcements", "include_announcements", "announcements", func(s *Settings) *bool { return &s.IncludeAnnouncements }),
	textField("capture_sms", "capture_sms", "capture SMS", func(s *Settings) *string { return &s.CaptureSMS }, false, CheckSMS),
	textField("results_sms", "results_sms", "results SMS", func(s *Settings) *string { return &s.ResultsSMS }, false, CheckSMS),
	boolField("wear_and_tear", "wear_and_tear", "wear and tear", func(s *Settings) *bool { return &s.WearAndTear }),
	{Name: "session_expiry", Column: "session_expiry", Label: "expired sessions",
		Ref: func(s *Settings) any { return &s.SessionExpiry },
		Form: func(s Settings, v map[string]string) {
			if e, ok := ExpiryByDuration(s.SessionExpiry); ok {
				v["session_expiry"] = e.Value
			}
		},
		Parse: func(get func(string) string, s *Settings, _ time.Time) string {
			e, ok := ExpiryByValue(get("session_expiry"))
			if !ok {
				return "Choose one of the listed times, from 1 hour to 30 days."
			}
			s.SessionExpiry = e.Duration
			return ""
		}},
	{Name: "expires", Column: "expires_at", Label: "expiry",
		Ref: func(s *Settings) any { return &s.ExpiresAt },
		Form: func(s Settings, v map[string]string) {
			v["expires"] = "never"
			if !s.ExpiresAt.IsZero() {
				v["expires"], v["expires_on"] = "keep", s.ExpiresAt.UTC().Add(-time.Second).Format(time.DateOnly)
				v["expires_until"] = s.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC") // the Unchanged choice's label
			}
		},
		Parse: parseKeyExpiry},
	{Name: "ip_mode", Column: "ip_mode", Label: "IP allowlist mode",
		Ref:  func(s *Settings) any { return &s.IPMode },
		Form: func(s Settings, v map[string]string) { v["ip_mode"] = s.IPMode.String() },
		Parse: func(get func(string) string, s *Settings, _ time.Time) string {
			switch m := IPMode(get("ip_mode")); m {
			case "", "off":
				s.IPMode = IPOff
			case IPReport, IPEnforce:
				s.IPMode = m
			default:
				return "Choose Off, Report only or Enforce."
			}
			return ""
		}},
	{Name: "ip_allow", Column: "ip_allow", Label: "allowed IP addresses",
		Ref:  func(s *Settings) any { return &s.IPAllow },
		Form: func(s Settings, v map[string]string) { v["ip_allow"] = s.IPAllow },
		Parse: func(get func(string) string, s *Settings, _ time.Time) string {
			list, msg := ParseAllowlist(get("ip_allow"))
			if msg != "" {
				return msg
			}
			s.IPAllow = FormatAllowlist(list)
			return ""
		}},
	limitField("rate_limit", "rate_limit", "rate limit", func(s *Settings) *int64 { return &s.RateLimit }, MaxRateLimit, "requests a minute"),
	limitField("daily_lead_limit", "daily_lead_limit", "daily lead limit", func(s *Settings) *int64 { return &s.DailyLeadLimit }, MaxDailyLeadLimit, "leads a day"),
	boolField("require_v2", "require_v2", "require body-signed requests", func(s *Settings) *bool { return &s.RequireV2 }).shown(Field{
		Input: "switch", Group: "access", Heading: "Signatures",
		Help: "Refuse PAVE-style (version 1) signatures: signed calls must send API-Signature-Version: 2, which binds the method, path and body.",
		Words: func(s Settings) string {
			if s.RequireV2 {
				return "Body-signed (version 2) only."
			}
			return "Version 1 (PAVE-style) and version 2 accepted."
		}}),
	Field{Name: "note", Column: "note", Label: "note",
		Ref:  func(s *Settings) any { return &s.Note },
		Form: func(s Settings, v map[string]string) { v["note"] = s.Note },
		Parse: func(get func(string) string, s *Settings, _ time.Time) string {
			s.Note = strings.TrimSpace(strings.ReplaceAll(get("note"), "\r\n", "\n"))
			return checkNote(s.Note)
		}}.shown(Field{Input: "textarea", Group: "about", MaxLen: MaxNote,
		Help: "Optional: what the key is for and whom to call about it, e.g. “Website contact form; agency: Jo Park, 555-0100”.",
		Words: func(s Settings) string {
			if s.Note == "" {
				return "None."
			}
			return s.Note
		}}),
}

// FieldByName finds a setting by its form field.
func FieldByName(name string) (Field, bool) {
	for _, f := range Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

func parseKeyExpiry(get func(string) string, s *Settings, now time.Time) string {
	switch choice := get("expires"); choice {
	case "keep":
		if s.ExpiresAt.IsZero() {
			return "Choose when the key expires: Never, after a number of days, or on a date."
		}
		return ""
	case "", "never":
		s.ExpiresAt = time.Time{}
		return ""
	case "date":
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(get("expires_on")))
		if err != nil {
			return "Enter the expiry date as YYYY-MM-DD, e.g. " + now.AddDate(0, 3, 0).UTC().Format(time.DateOnly) + "."
		}
		end := day.Add(24 * time.Hour) // the key works through that day (UTC)
		if !end.After(now) {
			return "The expiry date " + day.Format(time.DateOnly) + " is in the past: choose today or a later date."
		}
		s.ExpiresAt = end
		return ""
	default:
		for _, e := range KeyExpiries {
			if e.Value == choice && e.Days > 0 {
				s.ExpiresAt = now.UTC().Truncate(time.Second).AddDate(0, 0, e.Days)
				return ""
			}
		}
		return "Choose Never, 30, 90, 180 or 365 days, or a date."
	}
}

// ParseSettings reads the settings from a form's values over base (the
// defaults when creating, the stored settings when editing) and returns them
// with a sentence per bad field, named by form field.
func ParseSettings(base Settings, get func(string) string, now time.Time) (Settings, map[string]string) {
	s, errs := base, map[string]string{}
	for _, f := range Fields {
		if msg := f.Parse(get, &s, now); msg != "" {
			errs[f.Name] = msg
		}
	}
	if errs["ip_allow"] == "" && errs["ip_mode"] == "" {
		if msg := checkAllowlistMode(s); msg != "" {
			errs["ip_allow"] = msg
		}
	}
	return s, errs
}

// FormValues are the settings as the form shows them, by form field.
func FormValues(s Settings) map[string]string {
	v := map[string]string{}
	for _, f := range Fields {
		f.Form(s, v)
	}
	return v
}

// Changes says in words what differs between two settings, old → new, for
// the audit log ("PII mask turned on", "Theme “lite” → “pro”"). Settings
// hold no secret, so every value may be written.
func Changes(before, after Settings) []string {
	var out []string
	b, a := FormValues(before), FormValues(after)
	for _, f := range Fields {
		label := f.Title()
		switch {
		case f.Name == "expires":
			if !before.ExpiresAt.Equal(after.ExpiresAt) {
				out = append(out, label+" "+expiryWords(before.ExpiresAt)+" → "+expiryWords(after.ExpiresAt))
			}
		case b[f.Name] == a[f.Name]:
		case f.Kind == BoolField:
			word := "off"
			if a[f.Name] != "" {
				word = "on"
			}
			out = append(out, label+" turned "+word)
		case f.Name == "session_expiry":
			out = append(out, label+" "+sessionWords(b[f.Name])+" → "+sessionWords(a[f.Name]))
		default:
			out = append(out, label+" "+quoted(b[f.Name])+" → "+quoted(a[f.Name]))
		}
	}
	return out
}

func quoted(s string) string {
	if s == "" {
		return "(none)"
	}
	return "“" + strings.ReplaceAll(s, "\n", ", ") + "”"
}

func expiryWords(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func sessionWords(v string) string {
	if e, ok := ExpiryByValue(v); ok {
		return e.Label
	}
	return v
}

// ParseAllowlist reads one address or CIDR range a line (blank lines and
// spaces ignored), at most MaxAllowlist, or says what is wrong.
func ParseAllowlist(text string) ([]netip.Prefix, string) {
	var out []netip.Prefix
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		p, msg := parsePrefix(line)
		if msg != "" {
			return nil, msg
		}
		out = append(out, p)
	}
	if len(out) > MaxAllowlist {
		return nil, fmt.Sprintf("List at most %d addresses or ranges (there are %d): merge neighbours into CIDR ranges.", MaxAllowlist, len(out))
	}
	return out, ""
}

func parsePrefix(s string) (netip.Prefix, string) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Sprintf("%q is not an IP address or CIDR range: write one per line, e.g. 203.0.113.7 or 198.51.100.0/24.", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), ""
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Sprintf("%q is not a CIDR range: write an address, a slash and the prefix length, e.g. 198.51.100.0/24.", s)
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Sprintf("%s has host bits set: write %s for the range, or %s for the one address.",
			s, m, netip.PrefixFrom(p.Addr(), p.Addr().BitLen()))
	}
	return p, ""
}

// FormatAllowlist writes an allowlist as stored: one entry a line, a lone
// address without its /32 or /128.
func FormatAllowlist(list []netip.Prefix) string {
	lines := make([]string, len(list))
	for i, p := range list {
		if p.IsSingleIP() {
			lines[i] = p.Addr().String()
		} else {
			lines[i] = p.String()
		}
	}
	return strings.Join(lines, "\n")
}

// checkAllowlistMode refuses an allowlist mode that cannot do what was meant.
func checkAllowlistMode(s Settings) string {
	if s.IPMode != IPEnforce {
		return ""
	}
	if s.IPAllow == "" {
		return "Enforce with an empty list refuses every call: add the addresses that may call, or choose Off."
	}
	for _, line := range strings.Split(s.IPAllow, "\n") {
		if line == "0.0.0.0/0" || line == "::/0" {
			return line + " allows every address, so Enforce protects nothing: list your servers' addresses, or choose Report only."
		}
	}
	return ""
}

// Choice is a listed duration of a form's select.
type Choice struct {
	Value    string
	Duration time.Duration
	Label    string
}

// RetireWindows are how long a rolled key may keep working after its
// successor's first use; RetireDeadlines the hard deadlines after the roll.
var (
	RetireWindows = []Choice{{"15m", 15 * time.Minute, "15 minutes"}, {"1h", time.Hour, "1 hour"},
		{"24h", 24 * time.Hour, "24 hours"}, {"7d", 7 * 24 * time.Hour, "7 days"}}
	RetireDeadlines = []Choice{{"1d", 24 * time.Hour, "1 day"}, {"3d", 3 * 24 * time.Hour, "3 days"},
		{"7d", 7 * 24 * time.Hour, "7 days"}}
)

// ChoiceByValue finds a choice by its form value.
func ChoiceByValue(list []Choice, v string) (Choice, bool) {
	for _, c := range list {
		if c.Value == v {
			return c, true
		}
	}
	return Choice{}, false
}

// DurationWords says d as a person would: "15 minutes", "1 hour", "24 hours", "7 days".
func DurationWords(d time.Duration) string {
	count := func(n time.Duration, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(int64(n), 10) + " " + unit + "s"
	}
	const day = 24 * time.Hour
	switch {
	case d >= 2*day && d%day == 0:
		return count(d/day, "day")
	case d >= time.Hour && d%time.Hour == 0:
		return count(d/time.Hour, "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return count(d/time.Minute, "minute")
	case d > 0 && d%time.Second == 0:
		return count(d/time.Second, "second")
	}
	return d.String()
}
