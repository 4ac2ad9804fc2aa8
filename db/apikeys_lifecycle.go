package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MaxRetireDeadline is the latest a rolled key may keep working.
const MaxRetireDeadline = 7 * 24 * time.Hour

// System is the actor of what keydesk does by itself, for the audit log.
var System = Actor{Email: "keydesk"}

// retireKey starts a rolled key's wind-down inside tx.
func retireKey(ctx context.Context, tx *changeTx, k APIKey, r Retirement, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE api_keys SET retire_window = ?, retire_by = ?
		WHERE account_id = ? AND id = ? AND revoked_at IS NULL AND retire_by IS NULL`,
		int64(r.Window/time.Second), r.Deadline.Unix(), k.AccountID, k.ID)
	if err != nil {
		return fmt.Errorf("db: retire key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return keyChanged(ctx, tx, k.AccountID, k.ID, now)
}

// StartRetiring starts the countdown of the key that successor replaced, at
// the successor's first use: the old key then works for its window, never
// past its deadline. Only the first call counts, whichever instance makes it.
func (d *DB) StartRetiring(ctx context.Context, successor int64, usedAt time.Time) error {
	return d.inChangeTx(ctx, func(tx *changeTx) error {
		var id, accountID, window, deadline int64
		var name string
		err := tx.QueryRowContext(ctx, `SELECT id, account_id, name, retire_window, retire_by FROM api_keys
			WHERE replaced_by = ? AND retire_by IS NOT NULL AND retire_at IS NULL AND revoked_at IS NULL`,
			successor).Scan(&id, &accountID, &name, &window, &deadline)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // nothing to start: already started, revoked, or not a retiring key
		}
		if err != nil {
			return fmt.Errorf("db: start retiring: %w", err)
		}
		at := usedAt.Unix() + window
		if at > deadline {
			at = deadline
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET retire_at = ? WHERE id = ? AND retire_at IS NULL`, at, id); err != nil {
			return fmt.Errorf("db: start retiring: %w", err)
		}
		if err := insertAudit(ctx, tx.Tx, AuditEvent{AccountID: accountID, Action: AuditRetiring, KeyID: id, KeyName: name,
			CreatedAt: usedAt, Detail: "the new key was first used; the old one works until " +
				time.Unix(at, 0).UTC().Format("2006-01-02 15:04:05 MST")}, System); err != nil {
			return err
		}
		return keyChanged(ctx, tx, accountID, id, usedAt)
	})
}

// RevokeRetired revokes every retiring key whose time is up at now, exactly
// as a revoke does, and returns how many. Run it on one instance at a time
// (Exclusively); the live state already refuses such keys by the clock.
func (d *DB) RevokeRetired(ctx context.Context, now time.Time) (int, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+keyColumns+keyFrom+`WHERE k.revoked_at IS NULL AND k.retire_by IS NOT NULL
		AND (k.retire_by <= ? OR k.retire_at <= ?)`, now.Unix(), now.Unix())
	if err != nil {
		return 0, fmt.Errorf("db: retired keys: %w", err)
	}
	var due []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("db: retired keys: %w", err)
	}
	n := 0
	for _, k := range due {
		err := d.inChangeTx(ctx, func(tx *changeTx) error {
			if err := revokeKey(ctx, tx, k, System, now); err != nil {
				return err
			}
			return insertAudit(ctx, tx.Tx, AuditEvent{AccountID: k.AccountID, Action: AuditRevoke, KeyID: k.ID,
				KeyName: k.Name, CreatedAt: now, Detail: "retired after a roll"}, System)
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// PauseAPIKey stops a key reversibly: its calls are refused with key_paused
// on every instance and its access tokens end for good (the token epoch moves on).
func (d *DB) PauseAPIKey(ctx context.Context, accountID, id int64, by Actor, now time.Time) error {
	return d.setPaused(ctx, accountID, id, by, now, true)
}

// ResumeAPIKey undoes PauseAPIKey; the tokens issued before the pause stay dead.
func (d *DB) ResumeAPIKey(ctx context.Context, accountID, id int64, by Actor, now time.Time) error {
	return d.setPaused(ctx, accountID, id, by, now, false)
}

func (d *DB) setPaused(ctx context.Context, accountID, id int64, by Actor, now time.Time, pause bool) error {
	k, err := d.APIKey(ctx, accountID, id)
	if err != nil {
		return err
	}
	if k.Revoked() || k.Paused() == pause {
		return nil
	}
	query, action := `UPDATE api_keys SET paused_at = ?, token_epoch = token_epoch + 1
		WHERE account_id = ? AND id = ? AND revoked_at IS NULL AND paused_at IS NULL`, AuditPause
	args := []any{now.Unix(), accountID, id}
	if !pause {
		query, action = `UPDATE api_keys SET paused_at = NULL WHERE account_id = ? AND id = ? AND revoked_at IS NULL`, AuditResume
		args = args[1:]
	}
	return d.inChangeTx(ctx, func(tx *changeTx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("db: %s key: %w", action, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if err := insertAudit(ctx, tx.Tx, AuditEvent{AccountID: accountID, Action: action, KeyID: id,
			KeyName: k.Name, CreatedAt: now}, by); err != nil {
			return err
		}
		return keyChanged(ctx, tx, accountID, id, now)
	})
}
