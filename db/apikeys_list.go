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
// newest first, and how many match in all. Each part (active, revoked) is
// read on its own, newest first along the (account, type, id) index, so a
// page reads its 50 rows, never sorting the account's keys.
func (d *DB) APIKeyList(ctx context.Context, accountID int64, f KeyFilter) (KeyList, error) {
	var parts []string
	switch {
	case f.Status == KeyStatusActive || f.Status == "" && !f.ShowRevoked:
		parts = []string{"k.revoked_at IS NULL"}
	case f.Status == KeyStatusRevoked:
		parts = []string{"k.revoked_at IS NOT NULL"}
	default:
		parts = []string{"k.revoked_at IS NULL", "k.revoked_at IS NOT NULL"}
	}
	where, args := keyListWhere(accountID, f)
	var out KeyList
	offset, limit := f.Offset, f.Limit
	for _, part := range parts {
		var n int
		if err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM api_keys k WHERE `+where+` AND `+part, args...).Scan(&n); err != nil {
			return KeyList{}, fmt.Errorf("db: count keys: %w", err)
		}
		out.Total += n
		if offset >= n || limit == 0 {
			offset = max(offset-n, 0)
			continue
		}
		rows, err := d.read.QueryContext(ctx, `SELECT `+keyListColumns+keyListFrom+`WHERE `+where+` AND `+part+
			` ORDER BY k.id DESC LIMIT ? OFFSET ?`, append(args[:len(args):len(args)], limit, offset)...)
		if err != nil {
			return KeyList{}, fmt.Errorf("db: list keys: %w", err)
		}
		for rows.Next() {
			k, err := scanAPIKey(rows)
			if err != nil {
				rows.Close()
				return KeyList{}, err
			}
			d.overlayLastUsed(&k)
			out.Keys = append(out.Keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return KeyList{}, fmt.Errorf("db: list keys: %w", err)
		}
		limit -= min(limit, n-offset)
		offset = 0
	}
	return out, nil
}

func keyListWhere(accountID int64, f KeyFilter) (string, []any) {
	where := []string{"k.account_id = ?", "k.type = ?"}
	args := []any{accountID, string(f.Type)}
	if f.Mode != "" {
		where, args = append(where, "k.mode = ?"), append(args, string(f.Mode))
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
