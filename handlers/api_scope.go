package handlers

import (
	"strings"

	"keydesk/db"
)

// scopeSet is a set of OAuth scopes as bits.
type scopeSet uint8

const (
	scopeRead scopeSet = 1 << iota
	scopeWrite
)

// list is s's scopes one by one, as the API lists them; the slices are
// shared, never to be changed.
func (s scopeSet) list() []string {
	switch s {
	case scopeRead | scopeWrite:
		return scopesReadWrite
	case scopeRead:
		return scopesRead
	case scopeWrite:
		return scopesWrite
	}
	return []string{}
}

var scopesReadWrite, scopesRead, scopesWrite = []string{"read", "write"}, []string{"read"}, []string{"write"}

func (s scopeSet) String() string {
	switch s {
	case scopeRead | scopeWrite:
		return "read write"
	case scopeRead:
		return "read"
	case scopeWrite:
		return "write"
	}
	return ""
}

// parseScope reads a space-separated scope list (RFC 6749 §3.3).
func parseScope(s string) (scopeSet, bool) {
	var set scopeSet
	for _, part := range strings.Split(s, " ") {
		switch part {
		case "read":
			set |= scopeRead
		case "write":
			set |= scopeWrite
		case "":
		default:
			return 0, false
		}
	}
	return set, true
}

// keyScope is what a key's type allows.
func keyScope(t db.KeyType) scopeSet {
	if t == db.Integration {
		return scopeRead | scopeWrite
	}
	return scopeWrite
}
