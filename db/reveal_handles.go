package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RevealHandle lets one user open the page of a new key's secret once.
type RevealHandle struct {
	UserID        int64
	KeyID         int64
	ReplacedKeyID int64 // the key a roll replaced, or 0
	ExpiresAt     time.Time
}

func handleHash(handle string) []byte {
	h := sha256.Sum256([]byte(handle))
	return h[:]
}

// CreateRevealHandle stores a handle (only its SHA-256) and drops expired ones.
func (d *DB) CreateRevealHandle(ctx context.Context, handle string, r RevealHandle, now time.Time) error {
	return d.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM reveal_handles WHERE expires_at < ?`, now.Unix()); err != nil {
			return fmt.Errorf("db: sweep reveal handles: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO reveal_handles (handle_hash, user_id, key_id, replaced_key_id, expires_at)
			VALUES (?, ?, ?, ?, ?)`, handleHash(handle), r.UserID, r.KeyID, nullID(r.ReplacedKeyID), r.ExpiresAt.Unix())
		if err != nil {
			return fmt.Errorf("db: create reveal handle: %w", err)
		}
		return nil
	})
}

// TakeRevealHandle consumes a handle of userID: it answers once, and
// ErrNotFound for an unknown, used, expired or another user's handle.
func (d *DB) TakeRevealHandle(ctx context.Context, handle string, userID int64, now time.Time) (RevealHandle, error) {
	r := RevealHandle{UserID: userID}
	var replaced sql.NullInt64
	var expires int64
	err := d.inTx(ctx, func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `DELETE FROM reveal_handles WHERE handle_hash = ? AND user_id = ?
			RETURNING key_id, replaced_key_id, expires_at`, handleHash(handle), userID).Scan(&r.KeyID, &replaced, &expires)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return RevealHandle{}, ErrNotFound
	}
	if err != nil {
		return RevealHandle{}, fmt.Errorf("db: take reveal handle: %w", err)
	}
	r.ReplacedKeyID, r.ExpiresAt = replaced.Int64, time.Unix(expires, 0).UTC()
	if !now.Before(r.ExpiresAt) {
		return RevealHandle{}, ErrNotFound
	}
	return r, nil
}
