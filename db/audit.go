package db

import (
	"context"
	"fmt"
	"strings"
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
	// AuditDebugSignatures: the signature-failure debugger of a key was opened.
	AuditDebugSignatures = "debug_signatures"
	// AuditQuarantine and AuditEndQuarantine: a key's leads started or stopped
	// being parked (the end's detail: release, discard or keep the parked ones).
	AuditQuarantine    = "quarantine"
	AuditEndQuarantine = "end_quarantine"
	// AuditReleaseLeads and AuditDiscardLeads: parked leads were released or
	// discarded (the detail: one lead's public id, or how many).
	AuditReleaseLeads = "release_leads"
	AuditDiscardLeads = "discard_leads"
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
	// SubjectUserID and SubjectEmail name the person a change to the account's people was about.
	SubjectUserID int64
	SubjectEmail  string
}

func insertAudit(ctx context.Context, tx *Tx, e AuditEvent, by Actor) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_events (account_id, user_id, user_email, action, key_id,
		key_name, remote_addr, detail, created_at, subject_user_id, subject_email) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.AccountID, nullID(by.UserID), by.Email, e.Action, nullID(e.KeyID), e.KeyName, by.RemoteAddr, e.Detail,
		e.CreatedAt.Unix(), nullID(e.SubjectUserID), e.SubjectEmail)
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

// AuditFilter selects a page of an account's audit log, newest first.
type AuditFilter struct {
	KeyID    int64     // 0 for every key
	KeyIDs   []int64   // several keys (every key of one name) instead of KeyID
	UserID   int64     // who acted; 0 for everyone
	Action   string    // "" for every action
	From, To time.Time // created at From or later and before To; zero for no bound
	BeforeID int64     // 0 for the newest
	Limit    int
}

// AuditEvents returns the filter's page of an account's audit log, newest first.
func (d *DB) AuditEvents(ctx context.Context, accountID int64, f AuditFilter) ([]AuditEvent, error) {
	q := `SELECT ` + auditColumns + ` FROM audit_events WHERE account_id = ?`
	args := []any{accountID}
	for _, c := range []struct {
		on   bool
		cond string
		arg  any
	}{
		{f.KeyID != 0, ` AND key_id = ?`, f.KeyID},
		{f.UserID != 0, ` AND user_id = ?`, f.UserID},
		{f.Action != "", ` AND action = ?`, f.Action},
		{!f.From.IsZero(), ` AND created_at >= ?`, f.From.Unix()},
		{!f.To.IsZero(), ` AND created_at < ?`, f.To.Unix()},
		{f.BeforeID > 0, ` AND id < ?`, f.BeforeID},
	} {
		if c.on {
			q += c.cond
			args = append(args, c.arg)
		}
	}
	if len(f.KeyIDs) > 0 && f.KeyID == 0 {
		// A key's events are few: the page of several keys sorts them.
		q += ` AND key_id IN (?` + strings.Repeat(`, ?`, len(f.KeyIDs)-1) + `)`
		for _, id := range f.KeyIDs {
			args = append(args, id)
		}
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	return queryAll(ctx, d.read, "audit events", scanAuditEvent, q, args...)
}

const auditColumns = `id, account_id, coalesce(user_id, 0), user_email, action, coalesce(key_id, 0), key_name,
	remote_addr, detail, created_at, coalesce(subject_user_id, 0), subject_email`

func scanAuditEvent(s scanner) (AuditEvent, error) {
	var e AuditEvent
	var created int64
	if err := s.Scan(&e.ID, &e.AccountID, &e.UserID, &e.UserEmail, &e.Action, &e.KeyID, &e.KeyName,
		&e.RemoteAddr, &e.Detail, &created, &e.SubjectUserID, &e.SubjectEmail); err != nil {
		return AuditEvent{}, fmt.Errorf("db: scan audit event: %w", err)
	}
	e.CreatedAt = time.Unix(created, 0).UTC()
	return e, nil
}
