package keys

import (
	"strings"
	"testing"
	"time"
)

func TestParseSettings(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	valid := map[string]string{"theme": "lite", "session_expiry": "24h", "expires": "never", "ip_mode": "off"}
	tests := []struct {
		name    string
		form    map[string]string
		field   string // the field with an error, "" for none
		message string // a part of the message
		check   func(Settings) bool
	}{
		{"defaults", nil, "", "", func(s Settings) bool { return s == DefaultSettings() }},
		{"expiry in 90 days", map[string]string{"expires": "90d"}, "", "",
			func(s Settings) bool { return s.ExpiresAt.Equal(now.AddDate(0, 0, 90)) }},
		{"expiry on a date works through that day", map[string]string{"expires": "date", "expires_on": "2026-04-01"}, "", "",
			func(s Settings) bool { return s.ExpiresAt.Equal(time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)) }},
		{"expiry today", map[string]string{"expires": "date", "expires_on": "2026-03-14"}, "", "", nil},
		{"expiry in the past", map[string]string{"expires": "date", "expires_on": "2026-03-13"}, "expires", "in the past", nil},
		{"expiry date unreadable", map[string]string{"expires": "date", "expires_on": "14/03/2026"}, "expires", "YYYY-MM-DD", nil},
		{"expiry choice unknown", map[string]string{"expires": "2d"}, "expires", "Choose Never", nil},
		{"keep without an expiry", map[string]string{"expires": "keep"}, "expires", "Choose when", nil},
		{"allowlist of addresses and ranges", map[string]string{"ip_mode": "enforce", "ip_allow": " 203.0.113.7\n\n198.51.100.0/24\r\n2001:db8::/32\n::ffff:192.0.2.1"}, "", "",
			func(s Settings) bool {
				return s.IPMode == IPEnforce && s.IPAllow == "203.0.113.7\n198.51.100.0/24\n2001:db8::/32\n192.0.2.1"
			}},
		{"CIDR that does not parse", map[string]string{"ip_allow": "10.0.0.0/33"}, "ip_allow", "not a CIDR range", nil},
		{"address that does not parse", map[string]string{"ip_allow": "example.com"}, "ip_allow", "not an IP address", nil},
		{"host bits set", map[string]string{"ip_allow": "10.0.0.1/24"}, "ip_allow", "write 10.0.0.0/24", nil},
		{"more than 50 entries", map[string]string{"ip_allow": strings.Repeat("192.0.2.1\n", 51)}, "ip_allow", "at most 50", nil},
		{"50 entries", map[string]string{"ip_allow": strings.Repeat("192.0.2.1\n", 50)}, "", "", nil},
		{"0.0.0.0/0 with Enforce", map[string]string{"ip_mode": "enforce", "ip_allow": "0.0.0.0/0"}, "ip_allow", "allows every address", nil},
		{"::/0 with Enforce", map[string]string{"ip_mode": "enforce", "ip_allow": "::/0"}, "ip_allow", "allows every address", nil},
		{"0.0.0.0/0 with Report only", map[string]string{"ip_mode": "report", "ip_allow": "0.0.0.0/0"}, "", "", nil},
		{"Enforce with an empty list", map[string]string{"ip_mode": "enforce"}, "ip_allow", "empty list", nil},
		{"unknown mode", map[string]string{"ip_mode": "block"}, "ip_mode", "Report only", nil},
		{"rate limit", map[string]string{"rate_limit": "1,200"}, "", "", func(s Settings) bool { return s.RateLimit == 1200 }},
		{"rate limit of 0", map[string]string{"rate_limit": "0"}, "rate_limit", "from 1 to 100000", nil},
		{"negative rate limit", map[string]string{"rate_limit": "-5"}, "rate_limit", "from 1", nil},
		{"absurd rate limit", map[string]string{"rate_limit": "100000000"}, "rate_limit", "from 1", nil},
		{"rate limit not a number", map[string]string{"rate_limit": "lots"}, "rate_limit", "whole number", nil},
		{"daily lead limit", map[string]string{"daily_lead_limit": "500"}, "", "", func(s Settings) bool { return s.DailyLeadLimit == 500 }},
		{"daily lead limit of 0", map[string]string{"daily_lead_limit": "0"}, "daily_lead_limit", "leads a day", nil},
		{"require v2", map[string]string{"require_v2": "on"}, "", "", func(s Settings) bool { return s.RequireV2 }},
		{"note, trimmed, its line breaks kept", map[string]string{"note": "  Website form\r\nagency: Jo Park, 555-0100 \n"}, "", "",
			func(s Settings) bool { return s.Note == "Website form\nagency: Jo Park, 555-0100" }},
		{"note of 500 characters", map[string]string{"note": strings.Repeat("é", MaxNote)}, "", "", nil},
		{"note too long", map[string]string{"note": strings.Repeat("a", MaxNote+1)}, "note", "The note is 501 characters long: shorten it to 500", nil},
		{"note with a control character", map[string]string{"note": "call\x1b[2J"}, "note", "The note holds a control character", nil},
		{"bad theme", map[string]string{"theme": "dark"}, "theme", "Lite or Pro", nil},
		{"bad session expiry", map[string]string{"session_expiry": "2h"}, "session_expiry", "listed times", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := map[string]string{}
			for k, v := range valid {
				form[k] = v
			}
			for k, v := range tt.form {
				form[k] = v
			}
			s, errs := ParseSettings(DefaultSettings(), func(n string) string { return form[n] }, now)
			if tt.field == "" && len(errs) > 0 {
				t.Fatalf("refused: %v", errs)
			}
			if tt.field != "" {
				if len(errs) != 1 || !strings.Contains(errs[tt.field], tt.message) {
					t.Fatalf("errors = %v, want one on %s containing %q", errs, tt.field, tt.message)
				}
			}
			if tt.check != nil && !tt.check(s) {
				t.Errorf("settings = %+v", s)
			}
		})
	}
}

func TestFormValuesRoundTrip(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	s := Settings{Theme: "pro", PIIMask: true, RedirectURL: "https://example.com/x", CaptureSMS: "{link}",
		SessionExpiry: 48 * time.Hour, ExpiresAt: now.AddDate(0, 0, 30), IPMode: IPReport,
		IPAllow: "192.0.2.0/24\n2001:db8::1", RateLimit: 600, DailyLeadLimit: 100, RequireV2: true, Note: "For the website.\nCall Jo."}
	v := FormValues(s)
	got, errs := ParseSettings(s, func(n string) string { return v[n] }, now)
	if len(errs) > 0 || got != s {
		t.Fatalf("round trip: %+v %v, want %+v", got, errs, s)
	}
	if c := Changes(s, got); len(c) != 0 {
		t.Errorf("Changes of the same settings = %v", c)
	}
	got.RateLimit, got.ExpiresAt, got.Note = 60, time.Time{}, ""
	want := "Expiry " + s.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC") + " → never; Rate limit “600” → “60”; Note “For the website., Call Jo.” → (none)"
	if c := strings.Join(Changes(s, got), "; "); c != want {
		t.Errorf("Changes = %q", c)
	}
}

func TestEveryFieldIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Fields {
		if f.Name == "" || f.Column == "" || f.Label == "" || f.Ref == nil || f.Form == nil || f.Parse == nil {
			t.Errorf("field %+v is incomplete", f.Name)
		}
		if seen[f.Column] {
			t.Errorf("column %s twice", f.Column)
		}
		if f.Input != "" && (f.Group != "about" && f.Group != "access" || f.Words == nil || f.Words(DefaultSettings()) == "") {
			t.Errorf("field %s is shown by the views but has no group or words", f.Name)
		}
		seen[f.Column] = true
	}
}

func TestDurationWords(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{15 * time.Minute, "15 minutes"},
		{time.Hour, "1 hour"},
		{24 * time.Hour, "24 hours"},
		{7 * 24 * time.Hour, "7 days"},
		{90 * time.Second, "90 seconds"},
		{time.Minute, "1 minute"},
		{1500 * time.Millisecond, "1.5s"},
	}
	for _, tt := range tests {
		if got := DurationWords(tt.d); got != tt.want {
			t.Errorf("DurationWords(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
