package db

import (
	"context"
	"fmt"
	"time"

	"keydesk/keys"
)

// KeyChoice is a key as a filter's list offers it.
type KeyChoice struct {
	ID      int64
	Name    string
	Mode    keys.Mode
	Revoked bool
}

// KeyChoices lists every key of an account, active ones first, by name.
func (d *DB) KeyChoices(ctx context.Context, accountID int64) ([]KeyChoice, error) {
	return queryAll(ctx, d.read, "key choices", func(s scanner) (KeyChoice, error) {
		var k KeyChoice
		var mode string
		err := s.Scan(&k.ID, &k.Name, &mode, &k.Revoked)
		k.Mode = keys.Mode(mode)
		return k, err
	}, `SELECT id, name, mode, revoked_at IS NOT NULL FROM api_keys WHERE account_id = ?
		ORDER BY revoked_at IS NOT NULL, lower(name), id`, accountID)
}

// KeyStats are an account's keys as the landing page counts them.
type KeyStats struct {
	Active map[KeyType]int // active keys by type
	Idle   int             // active keys not used since the idle bound
	All    int             // every key ever made, revoked ones too
}

// CountKeys counts an account's keys; idleBefore is when an active key must
// have been used since not to count as idle.
func (d *DB) CountKeys(ctx context.Context, accountID int64, idleBefore time.Time) (KeyStats, error) {
	st := KeyStats{Active: map[KeyType]int{}}
	rows, err := d.read.QueryContext(ctx, `SELECT type, revoked_at IS NULL, count(*),
		sum(CASE WHEN revoked_at IS NULL AND coalesce(last_used_at, 0) < ? THEN 1 ELSE 0 END)
		FROM api_keys WHERE account_id = ? GROUP BY type, revoked_at IS NULL`, idleBefore.Unix(), accountID)
	if err != nil {
		return st, fmt.Errorf("db: count keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ string
		var active bool
		var n, idle int
		if err := rows.Scan(&typ, &active, &n, &idle); err != nil {
			return st, fmt.Errorf("db: count keys: %w", err)
		}
		st.All += n
		if active {
			st.Active[KeyType(typ)] += n
			st.Idle += idle
		}
	}
	return st, rows.Err()
}
