package db

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"keydesk/keys"
)

// A key's settings are stored one column each, as keys.Fields lists them;
// these helpers turn that list into SQL, arguments and scan destinations.

// settingColumns is the settings' column list, each prefixed (e.g. "k.").
func settingColumns(prefix string) string {
	cols := make([]string, len(keys.Fields))
	for i, f := range keys.Fields {
		cols[i] = prefix + f.Column
	}
	return strings.Join(cols, ", ")
}

// settingAssignments is "col = ?, …" for an UPDATE of every setting.
func settingAssignments() string {
	cols := make([]string, len(keys.Fields))
	for i, f := range keys.Fields {
		cols[i] = f.Column + " = ?"
	}
	return strings.Join(cols, ", ")
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// settingArgs are the settings as query arguments, in column order.
func settingArgs(s *keys.Settings) []any {
	out := make([]any, len(keys.Fields))
	for i, f := range keys.Fields {
		out[i] = storedValue(f.Ref(s))
	}
	return out
}

// settingDests are scan destinations for the settings, in column order.
func settingDests(s *keys.Settings) []any {
	out := make([]any, len(keys.Fields))
	for i, f := range keys.Fields {
		out[i] = scanDest(f.Ref(s))
	}
	return out
}

// storedValue is how a setting is stored: durations in seconds, times in
// Unix seconds (NULL for zero), everything else as it is.
func storedValue(p any) any {
	switch v := p.(type) {
	case *time.Duration:
		return int64(*v / time.Second)
	case *time.Time:
		return nullUnix(*v)
	case *keys.IPMode:
		return v.String()
	case *string:
		return *v
	case *bool:
		return *v
	case *int64:
		return *v
	}
	panic(fmt.Sprintf("db: a setting of type %T has no column type", p))
}

func scanDest(p any) any {
	switch v := p.(type) {
	case *time.Duration:
		return secondsDest{v}
	case *time.Time:
		return unixDest{v}
	case *keys.IPMode:
		return ipModeDest{v}
	}
	return p
}

type secondsDest struct{ d *time.Duration }

func (s secondsDest) Scan(src any) error {
	var n sql.NullInt64
	if err := n.Scan(src); err != nil {
		return err
	}
	*s.d = time.Duration(n.Int64) * time.Second
	return nil
}

type unixDest struct{ t *time.Time }

func (u unixDest) Scan(src any) error {
	var n sql.NullInt64
	if err := n.Scan(src); err != nil {
		return err
	}
	*u.t = unixOrZero(n)
	return nil
}

type ipModeDest struct{ m *keys.IPMode }

func (d ipModeDest) Scan(src any) error {
	var s sql.NullString
	if err := s.Scan(src); err != nil {
		return err
	}
	*d.m = keys.ParseIPMode(s.String)
	return nil
}
