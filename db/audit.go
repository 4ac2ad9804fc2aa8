package db

import (
	"context"
	"fmt"
	"time"
)

// Audited actions.
const (
	AuditCreate = "create"
	AuditEdit   = "edit"
	AuditReveal = "reveal"
	AuditRevoke = "revoke"
	AuditRoll   = "roll"
	// AuditEndTokens: every access token of a key was ended, the key kept.
	AuditEndTokens = "end_tokens"
	// AuditDebugSignatures: the signature-failure debugger of a key was opened.
	AuditDebugSignatures = "debug_signatures"
)

// AuditEvent is one line of an account's audit log.
type AuditEvent struct {
	ID         int64
	AccountID  int64
	UserID     int64
	UserEmail  string
	Action     string
	KeyID      int64
	KeyName    string
	RemoteAddr string
	Detail     string
	CreatedAt  time.Time
}

func insertAudit(ctx context.Context, tx *Tx, e AuditEvent, by Actor) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_events (account_id, user_id, user_email, action, key_id,
		key_name, remote_addr, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.AccountID, nullID(by.UserID), by.Email, e.Action, nullID(e.KeyID), e.KeyName, by.RemoteAddr, e.Detail,
		e.CreatedAt.Unix())
	if err != nil {
		return fmt.Errorf("db: audit %s: %w", e.Action, err)
	}
	return nil
}

// RecordReveal writes the audit entry for a secret shown to a person.
func (d *DB) RecordReveal(ctx context.Context, k APIKey, by Actor, now time.Time) error {
	return d.recordKeyEvent(ctx, k, AuditReveal, by, now)
}

// RecordSignatureDebug writes the audit entry for opening a key's signature-failure debugger.
func (d *DB) RecordSignatureDebug(ctx context.Context, k APIKey, by Actor, now time.Time) error {
	return d.recordKeyEvent(ctx, k, AuditDebugSignatures, by, now)
}

func (d *DB) recordKeyEvent(ctx context.Context, k APIKey, action string, by Actor, now time.Time) error {
	return d.inTx(ctx, func(tx *Tx) error {
		return insertAudit(ctx, tx, AuditEvent{AccountID: k.AccountID, Action: action, KeyID: k.ID,
			KeyName: k.Name, CreatedAt: now}, by)
	})
}

// AuditEvents returns one page of an account's audit log, newest first, and
// whether an older page exists.
func (d *DB) AuditEvents(ctx context.Context, accountID int64, page, perPage int) ([]AuditEvent, bool, error) {
	if page < 1 {
		page = 1
	}
	rows, err := d.read.QueryContext(ctx, `SELECT id, account_id, coalesce(user_id, 0), user_email, action,
		coalesce(key_id, 0), key_name, remote_addr, detail, created_at
		FROM audit_events WHERE account_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`,
		accountID, perPage+1, (page-1)*perPage)
	if err != nil {
		return nil, false, fmt.Errorf("db: audit events: %w", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var created int64
		if err := rows.Scan(&e.ID, &e.AccountID, &e.UserID, &e.UserEmail, &e.Action, &e.KeyID, &e.KeyName,
			&e.RemoteAddr, &e.Detail, &created); err != nil {
			return nil, false, fmt.Errorf("db: scan audit event: %w", err)
		}
		e.CreatedAt = time.Unix(created, 0).UTC()
		out = append(out, e)
	}
	more := len(out) > perPage
	if more {
		out = out[:perPage]
	}
	return out, more, rows.Err()
}
