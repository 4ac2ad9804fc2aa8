package web

import (
	"strings"
	"testing"
)

func TestValidRequestID(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want bool
	}{
		{"a", true},
		{"4f2a9c1e-77b0-4c3b-9e5e-1d2f3a4b5c6d", true},
		{"lb.01_Z-9", true},
		{strings.Repeat("x", 64), true},
		{"", false},
		{strings.Repeat("x", 65), false},
		{"a b", false},
		{"a\tb", false},
		{"a\nlevel=ERROR", false},
		{`a"b`, false},
		{"a=b", false},
		{"a/b", false},
		{"caf\u00e9", false},
		{"a\x00", false},
	} {
		if got := ValidRequestID(tt.id); got != tt.want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestRequestIDsAreUniqueAndWellFormed(t *testing.T) {
	a, b := newRequestIDs(), newRequestIDs()
	seen := map[string]bool{}
	for range 1000 {
		for _, id := range []string{a.next(), b.next()} {
			if !ValidRequestID(id) || seen[id] {
				t.Fatalf("id %q: valid %v, seen before %v", id, ValidRequestID(id), seen[id])
			}
			seen[id] = true
		}
	}
}
