package web

import "testing"

func TestSafeNext(t *testing.T) {
	const fallback = "/fallback"
	tests := []struct {
		next string
		want string
	}{
		{"/keys", "/keys"},
		{"/a?b=c", "/a?b=c"},
		{"/settings/integrations#live", "/settings/integrations#live"},
		{"/", fallback},
		{"", fallback},
		{"//evil.com", fallback},
		{"//evil.com/keys", fallback},
		{"/\\evil.com", fallback},
		{"\\\\evil.com", fallback},
		{"https://evil.com", fallback},
		{"http://evil.com/keys", fallback},
		{"javascript:alert(1)", fallback},
		{"keys", fallback},
		{"/\t/evil.com", fallback},
		{"/\n/evil.com", fallback},
	}
	for _, tt := range tests {
		if got := SafeNext(tt.next, fallback); got != tt.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}
