// Package visible refuses names that would not read as they look: text
// holding invisible characters (zero-width spaces and joiners, the byte
// order mark) or bidirectional controls that reorder what is shown, which
// make "Website form" and "Website\u200bform" two keys, or an email spoof
// another.
package visible

import (
	"fmt"
	"strings"
)

// hidden reports whether r is invisible or changes the direction of text.
func hidden(r rune) bool {
	switch {
	case r >= 0x200B && r <= 0x200F, // zero-width space, non-joiner, joiner; LRM, RLM
		r >= 0x202A && r <= 0x202E, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2060 && r <= 0x2064, // word joiner, invisible operators
		r >= 0x2066 && r <= 0x2069, // LRI, RLI, FSI, PDI
		r == 0xFEFF,                // zero-width no-break space (byte order mark)
		r == 0x061C:                // Arabic letter mark
		return true
	}
	return false
}

// Check returns an error naming field when s holds an invisible or
// direction-changing character, saying which one; nil otherwise.
func Check(field, s string) error {
	i := strings.IndexFunc(s, hidden)
	if i < 0 {
		return nil
	}
	r := []rune(s[i:])[0]
	return fmt.Errorf("%s contains an invisible or text-direction character (U+%04X) at position %d: type it again without one",
		field, r, len([]rune(s[:i]))+1)
}
