package keys

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCheckSMS(t *testing.T) {
	tests := []struct {
		name    string
		sms     string
		wantErr string // "" for accepted, else a part of the message
	}{
		{"empty", "", ""},
		{"plain text", "Thanks for visiting!", ""},
		{"320 characters", strings.Repeat("a", 320), ""},
		{"321 characters", strings.Repeat("a", 321), "320 characters or fewer (it has 321)"},
		{"320 multi-byte runes", strings.Repeat("é", 320), ""},
		{"321 multi-byte runes", strings.Repeat("é", 321), "(it has 321)"},
		{"320 emoji", strings.Repeat("🚗", 320), ""},
		{"{dealer}", "From {dealer}", ""},
		{"{customer}", "Hi {customer}", ""},
		{"{link}", "Open {link}", ""},
		{"{vehicle}", "Your {vehicle}", ""},
		{"every placeholder", "{dealer} {customer} {link} {vehicle} {link}", ""},
		{"unknown placeholder", "Hi {name}, open {link}", "{name} is not a placeholder"},
		{"placeholder case matters", "Hi {Customer}", "{Customer} is not a placeholder"},
		{"empty braces", "Hi {}", "{} is not a placeholder"},
		{"unclosed brace", "Hi {customer", "brace is not closed"},
		{"stray closing brace", "Hi customer}", "brace is not closed"},
		{"doubled braces", "Hi {{customer}}", "brace is not closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckSMS(tt.sms)
			switch {
			case tt.wantErr == "" && got != "":
				t.Errorf("CheckSMS refused %q: %s", tt.sms, got)
			case tt.wantErr != "" && !strings.Contains(got, tt.wantErr):
				t.Errorf("CheckSMS(%q) = %q, want a message containing %q", tt.sms, got, tt.wantErr)
			}
		})
	}
	// The limit counts characters, not bytes: a 320-rune message of
	// multi-byte characters is far over 320 bytes and still fits.
	if s := strings.Repeat("é", MaxSMS); len(s) <= MaxSMS || utf8.RuneCountInString(s) != MaxSMS {
		t.Fatal("test data does not exercise runes versus bytes")
	}
}

func TestCheckSMSNamesEveryPlaceholder(t *testing.T) {
	msg := CheckSMS("{name}")
	for _, p := range SMSPlaceholders {
		if !strings.Contains(msg, p) {
			t.Errorf("message %q does not offer %s", msg, p)
		}
	}
}

func TestCheckRedirectURL(t *testing.T) {
	tests := []struct {
		url  string
		ok   bool
		want string // part of the message when refused
	}{
		{"", true, ""},
		{"https://www.example.com/thanks", true, ""},
		{"https://example.com:8443/done?x=1#y", true, ""},
		{"HTTPS://example.com/", true, ""},
		{"http://localhost", true, ""},
		{"http://localhost:3000/done", true, ""},
		{"http://127.0.0.1:8080", true, ""},
		{"http://127.0.0.1:8080/cb", true, ""},
		{"http://[::1]:8080/cb", true, ""},
		{"http://example.com", false, "https://"},
		{"http://localhost.evil.com/", false, "https://"},
		{"http://127.0.0.1.evil.com/", false, "https://"},
		{"http://10.0.0.1/", false, "https://"},
		{"javascript:alert(1)", false, "full address"},
		{"data:text/html,hi", false, "full address"},
		{"ftp://example.com/file", false, "https://"},
		{"//example.com/thanks", false, "https://"},
		{"/thanks", false, "full address"},
		{"example.com", false, "full address"},
		{"https://", false, "full address"},
		{"https:///path", false, "full address"},
		{"https://user:pass@example.com/", false, "passwords"},
		{"https://user@example.com/", false, "passwords"},
		{"http://user:pass@localhost/", false, "passwords"},
		{"https://example.com/" + strings.Repeat("a", 2048), false, "2048"},
		{"https://exa mple.com/", false, "full address"},
	}
	for _, tt := range tests {
		got := CheckRedirectURL(tt.url)
		if tt.ok && got != "" {
			t.Errorf("CheckRedirectURL(%q) refused: %s", tt.url, got)
		}
		if !tt.ok && (got == "" || !strings.Contains(got, tt.want)) {
			t.Errorf("CheckRedirectURL(%q) = %q, want a refusal containing %q", tt.url, got, tt.want)
		}
	}
}

func TestExpiries(t *testing.T) {
	want := []struct {
		value string
		d     time.Duration
	}{
		{"1h", time.Hour}, {"6h", 6 * time.Hour}, {"12h", 12 * time.Hour}, {"24h", 24 * time.Hour},
		{"48h", 48 * time.Hour}, {"72h", 72 * time.Hour}, {"7d", 7 * 24 * time.Hour},
		{"14d", 14 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour},
	}
	if len(Expiries) != len(want) {
		t.Fatalf("%d expiries, want %d", len(Expiries), len(want))
	}
	for _, w := range want {
		e, ok := ExpiryByValue(w.value)
		if !ok || e.Duration != w.d || e.Label == "" {
			t.Errorf("ExpiryByValue(%q) = %+v, %v; want %v", w.value, e, ok, w.d)
			continue
		}
		back, ok := ExpiryByDuration(e.Duration)
		if !ok || back != e {
			t.Errorf("ExpiryByDuration(%v) = %+v, %v; want %+v", e.Duration, back, ok, e)
		}
	}
	for _, v := range []string{"", "2h", "1d", "7D", "24"} {
		if e, ok := ExpiryByValue(v); ok {
			t.Errorf("ExpiryByValue(%q) = %+v, want not found", v, e)
		}
	}
	for _, d := range []time.Duration{0, time.Minute, 2 * time.Hour, -time.Hour} {
		if e, ok := ExpiryByDuration(d); ok {
			t.Errorf("ExpiryByDuration(%v) = %+v, want not found", d, e)
		}
	}
}
