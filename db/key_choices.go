package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// KeyRef names a key for a filter.
type KeyRef struct {
	ID   int64
	Name string
	// IDs, found by name, are every key of the account with the name: the
	// active one and those it was rolled from (a roll keeps the name), newest
	// first, at most MaxKeysByName. ID is the first.
	IDs []int64
}

// MaxKeysByName bounds how many keys of one name a filter covers.
const MaxKeysByName = 20

// KeyRefByName finds an account's keys by name, in any case: the active one
// (else the newest revoked one) first, then the rest. None is ErrNotFound.
func (d *DB) KeyRefByName(ctx context.Context, accountID int64, name string) (KeyRef, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, name FROM api_keys WHERE account_id = ? AND lower(name) = lower(?)
		ORDER BY revoked_at IS NOT NULL, id DESC LIMIT ?`, accountID, name, MaxKeysByName)
	if err != nil {
		return KeyRef{}, fmt.Errorf("db: key by name: %w", err)
	}
	defer rows.Close()
	var k KeyRef
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			return KeyRef{}, fmt.Errorf("db: key by name: %w", err)
		}
		if k.IDs == nil {
			k.ID, k.Name = id, n
		}
		k.IDs = append(k.IDs, id)
	}
	if err := rows.Err(); err != nil {
		return KeyRef{}, fmt.Errorf("db: key by name: %w", err)
	}
	if k.IDs == nil {
		return KeyRef{}, ErrNotFound
	}
	return k, nil
}

// KeyRefByID finds an account's key by id; another account's is ErrNotFound.
func (d *DB) KeyRefByID(ctx context.Context, accountID, id int64) (KeyRef, error) {
	return scanKeyRef(d.read.QueryRowContext(ctx, `SELECT id, name FROM api_keys WHERE account_id = ? AND id = ?`, accountID, id))
}

func scanKeyRef(row *sql.Row) (KeyRef, error) {
	var k KeyRef
	err := row.Scan(&k.ID, &k.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return KeyRef{}, ErrNotFound
	}
	if err != nil {
		return KeyRef{}, fmt.Errorf("db: key: %w", err)
	}
	return k, nil
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
