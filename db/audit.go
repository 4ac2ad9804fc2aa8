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
	AuditPause     = "pause"
	AuditResume    = "resume"
	// AuditRetiring: a rolled key's countdown started (its successor was first used).
	AuditRetiring = "retiring"
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
	return d.inTx(ctx, func(tx *Tx) error {
		return insertAudit(ctx, tx, AuditEvent{AccountID: k.AccountID, Action: AuditReveal, KeyID: k.ID,
			KeyName: k.Name, CreatedAt: now}, by)
	})
}

// AuditEvents returns one page of an account's audit log, newest first, and
// whether an older page exists.
func (d *DB) AuditEvents(ctx context.Context, accountID int64, page, perPage int) ([]AuditEvent, bool, error) {
	if page < 1 {
		page = 1
	}
	rows, err := d.read.QueryContext(ctx, `SELECT `+auditColumns+`
		FROM audit_events WHERE account_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`,
		accountID, perPage+1, (page-1)*perPage)
	if err != nil {
		return nil, false, fmt.Errorf("db: audit events: %w", err)
	}
	out, err := scanAuditEvents(rows)
	if err != nil {
		return nil, false, err
	}
	more := len(out) > perPage
	if more {
		out = out[:perPage]
	}
	return out, more, nil
}
