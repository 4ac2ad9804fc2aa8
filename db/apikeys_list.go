package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"keydesk/keys"
)

// Key statuses a list can be filtered by.
const (
	KeyStatusActive  = "active"
	KeyStatusRevoked = "revoked"
	// KeyStatusUnused is an active key not used since KeyFilter.UnusedBefore.
	KeyStatusUnused = "unused"
)

// KeyFilter selects one page of an account's keys of one type.
type KeyFilter struct {
	Type        KeyType
	Query       string    // part of the name (any case), or the start of the API key
	Mode        keys.Mode // "" for both
	Status      string    // "", KeyStatusActive, KeyStatusRevoked or KeyStatusUnused
	ShowRevoked bool      // with no Status: revoked keys too
	// UnusedBefore: with KeyStatusUnused, the keys not used since (as the
	// landing page's "not used in 30 days" counts them).
	UnusedBefore time.Time
	Limit        int
	Offset       int
}

// KeyList is one page of keys and how many match the filter in all. Its
// keys carry what a list row shows (keyRowColumns), not the whole key: no
// sealed secret, settings other than the expiry, or who made or revoked it.
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
	case f.Status == KeyStatusUnused:
		parts = []string{"k.revoked_at IS NULL"}
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
		rows, err := d.read.QueryContext(ctx, `SELECT `+keyRowColumns+` FROM api_keys k WHERE `+where+` AND `+part+
			` ORDER BY k.id DESC LIMIT ? OFFSET ?`, append(args[:len(args):len(args)], limit, offset)...)
		if err != nil {
			return KeyList{}, fmt.Errorf("db: list keys: %w", err)
		}
		for rows.Next() {
			out.Keys = append(out.Keys, APIKey{})
			if err := scanKeyRow(rows, &out.Keys[len(out.Keys)-1]); err != nil {
				rows.Close()
				return KeyList{}, err
			}
			d.overlayLastUsed(&out.Keys[len(out.Keys)-1])
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

// keyRowColumns are what a key's row in a list shows: its name and API key,
// type and mode, when it was last used, what its status is made of, and its
// quarantine (since when, by whom).
const keyRowColumns = `k.id, k.account_id, k.name, k.type, k.mode, k.public_key, k.created_at, k.last_used_at,
	k.revoked_at, k.paused_at, coalesce(k.replaced_by, 0), k.retire_window, k.retire_by, k.retire_at, k.expires_at,
	k.quarantined_at, CASE WHEN k.quarantined_by IS NULL THEN ''
		ELSE coalesce((SELECT email FROM users qu WHERE qu.id = k.quarantined_by), '') END`

// scanKeyRow reads keyRowColumns into k.
func scanKeyRow(s scanner, k *APIKey) error {
	var typ, mode string
	var created int64
	var lastUsed, revoked, paused, window, deadline, retireAt, expires, quarantined sql.NullInt64
	if err := s.Scan(&k.ID, &k.AccountID, &k.Name, &typ, &mode, &k.PublicKey, &created, &lastUsed,
		&revoked, &paused, &k.Retire.ReplacedBy, &window, &deadline, &retireAt, &expires,
		&quarantined, &k.QuarantinedByEmail); err != nil {
		return fmt.Errorf("db: scan key row: %w", err)
	}
	k.Type, k.Mode, k.CreatedAt = KeyType(typ), keys.Mode(mode), time.Unix(created, 0).UTC()
	k.LastUsedAt, k.RevokedAt, k.PausedAt = unixOrZero(lastUsed), unixOrZero(revoked), unixOrZero(paused)
	k.Retire.Window = time.Duration(window.Int64) * time.Second
	k.Retire.Deadline, k.Retire.At, k.Settings.ExpiresAt = unixOrZero(deadline), unixOrZero(retireAt), unixOrZero(expires)
	k.QuarantinedAt = unixOrZero(quarantined)
	return nil
}

func keyListWhere(accountID int64, f KeyFilter) (string, []any) {
	where := []string{"k.account_id = ?", "k.type = ?"}
	args := []any{accountID, string(f.Type)}
	if f.Mode != "" {
		where, args = append(where, "k.mode = ?"), append(args, string(f.Mode))
	}
	if f.Status == KeyStatusUnused {
		where, args = append(where, "coalesce(k.last_used_at, 0) < ?"), append(args, f.UnusedBefore.Unix())
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
