package visible

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		in   string
		want string // part of the error, "" for none
	}{
		{"Main Website Lead Form", ""},
		{"Café Zürich — Ø", ""},
		{"שלום Motors", ""}, // right-to-left letters themselves are fine
		{"pat@example.com", ""},
		{"", ""},
		{"Web\u200Bsite", "U+200B) at position 4"},
		{"Web\u200Csite", "U+200C"},
		{"Web\u200Dsite", "U+200D"},
		{"\u200Esite", "U+200E) at position 1"},
		{"site\u200F", "U+200F) at position 5"},
		{"a\u2060b", "U+2060"},
		{"a\u2064b", "U+2064"},
		{"\uFEFFname", "U+FEFF"},
		{"a\u202Ab", "U+202A"},
		{"a\u202Bb", "U+202B"},
		{"a\u202Cb", "U+202C"},
		{"a\u202Db", "U+202D"},
		{"invoice\u202Efdp.exe", "U+202E"},
		{"a\u2066b", "U+2066"},
		{"a\u2067b", "U+2067"},
		{"a\u2068b", "U+2068"},
		{"a\u2069b", "U+2069"},
		{"a\u061Cb", "U+061C"},
		{"pa\u200Bt@example.com", "U+200B"},
		{"é\u202Eé", "U+202E) at position 2"},
	}
	for _, tt := range tests {
		err := Check("The name", tt.in)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Check(%q) = %v, want nil", tt.in, err)
		case tt.want != "" && err == nil:
			t.Errorf("Check(%q) = nil, want an error with %q", tt.in, tt.want)
		case tt.want != "" && (!strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "The name ")):
			t.Errorf("Check(%q) = %q, want it to name the field and say %q", tt.in, err, tt.want)
		}
	}
}
