package handlers

import (
	"fmt"
	"strings"

	"keydesk/db"
	"keydesk/keys"
)

// noChange is editDetail's answer when nothing differs.
const noChange = "no change"

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
	out = append(out, keys.Changes(before.Settings, after.Settings)...)
	if len(out) == 0 {
		return noChange
	}
	return strings.Join(out, "; ")
}
