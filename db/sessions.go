package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Session is a signed-in browser, found by the hash of the id in its cookie.
type Session struct {
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
}

func sessionHash(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// CreateSession stores a new session (only the id's SHA-256 is kept) and
// records the user's sign-in.
func (d *DB) CreateSession(ctx context.Context, id string, userID int64, now time.Time) error {
	return d.inTx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)`,
			sessionHash(id), userID, now.Unix(), now.Unix())
		if err != nil {
			return fmt.Errorf("db: create session: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_sign_in_at = ? WHERE id = ?`, now.Unix(), userID); err != nil {
			return fmt.Errorf("db: record sign-in: %w", err)
		}
		return nil
	})
}

// Session returns the session with this id, or ErrNotFound.
func (d *DB) Session(ctx context.Context, id string) (Session, error) {
	var s Session
	var created, seen int64
	err := d.read.QueryRowContext(ctx,
		`SELECT user_id, created_at, last_seen_at FROM sessions WHERE id_hash = ?`, sessionHash(id)).
		Scan(&s.UserID, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("db: session: %w", err)
	}
	s.CreatedAt, s.LastSeenAt = time.Unix(created, 0).UTC(), time.Unix(seen, 0).UTC()
	return s, nil
}

// TouchSession records activity on a session.
func (d *DB) TouchSession(ctx context.Context, id string, now time.Time) error {
	_, err := d.write.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, now.Unix(), sessionHash(id))
	if err != nil {
		return fmt.Errorf("db: touch session: %w", err)
	}
	return nil
}

// DeleteSession ends a session.
func (d *DB) DeleteSession(ctx context.Context, id string) error {
	_, err := d.write.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, sessionHash(id))
	if err != nil {
		return fmt.Errorf("db: delete session: %w", err)
	}
	return nil
}

// DeleteIdleSessions removes sessions not seen since before.
func (d *DB) DeleteIdleSessions(ctx context.Context, before time.Time) error {
	_, err := d.write.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen_at < ?`, before.Unix())
	if err != nil {
		return fmt.Errorf("db: delete idle sessions: %w", err)
	}
	return nil
}
