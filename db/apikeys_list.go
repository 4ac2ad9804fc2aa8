package db

import (
	"context"
	"fmt"
	"strings"

	"keydesk/keys"
)

// Key statuses a list can be filtered by.
const (
	KeyStatusActive  = "active"
	KeyStatusRevoked = "revoked"
)

// KeyFilter selects one page of an account's keys of one type.
type KeyFilter struct {
	Type        KeyType
	Query       string    // part of the name (any case), or the start of the API key
	Mode        keys.Mode // "" for both
	Status      string    // "", KeyStatusActive or KeyStatusRevoked
	ShowRevoked bool      // with no Status: revoked keys too
	Limit       int
	Offset      int
}

// KeyList is one page of keys and how many match the filter in all.
type KeyList struct {
	Keys  []APIKey
	Total int
}

// APIKeyList returns the keys of an account matching f, active first, then
// newest first, and how many match in all.
func (d *DB) APIKeyList(ctx context.Context, accountID int64, f KeyFilter) (KeyList, error) {
	where, args := keyListWhere(accountID, f)
	var out KeyList
	if err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM api_keys k WHERE `+where, args...).Scan(&out.Total); err != nil {
		return KeyList{}, fmt.Errorf("db: count keys: %w", err)
	}
	if out.Total <= f.Offset {
		return out, nil
	}
	rows, err := d.read.QueryContext(ctx, `SELECT `+keyColumns+keyFrom+`WHERE `+where+
		` ORDER BY CASE WHEN k.revoked_at IS NULL THEN 0 ELSE 1 END, k.id DESC LIMIT ? OFFSET ?`,
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return KeyList{}, fmt.Errorf("db: list keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return KeyList{}, err
		}
		d.overlayLastUsed(&k)
		out.Keys = append(out.Keys, k)
	}
	return out, rows.Err()
}

func keyListWhere(accountID int64, f KeyFilter) (string, []any) {
	where := []string{"k.account_id = ?", "k.type = ?"}
	args := []any{accountID, string(f.Type)}
	if f.Mode != "" {
		where, args = append(where, "k.mode = ?"), append(args, string(f.Mode))
	}
	switch {
	case f.Status == KeyStatusActive || f.Status == "" && !f.ShowRevoked:
		where = append(where, "k.revoked_at IS NULL")
	case f.Status == KeyStatusRevoked:
		where = append(where, "k.revoked_at IS NOT NULL")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		where = append(where, `(lower(k.name) LIKE ? ESCAPE '\' OR substr(k.public_key, 1, ?) = ?)`)
		args = append(args, "%"+escapeLike(strings.ToLower(q))+"%", len(q), q)
	}
	return strings.Join(where, " AND "), args
}

// escapeLike makes s match itself literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
