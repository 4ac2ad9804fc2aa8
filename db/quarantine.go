package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A quarantined digital-requests key takes leads as usual, but the lead
// writer stores them in parked_leads (the live state's view of the key sets
// Lead.Parked: no query on the way in). Nothing that lists or counts leads
// reads that table; an admin releases parked leads into leads, as if just
// received, or discards them.

// ErrNotParked is returned when the leads to release or discard are no longer parked.
var ErrNotParked = errors.New("db: no such parked lead")

// QuarantineAPIKey parks the leads of a digital-requests key from its next
// one on, on every instance; its sender still gets the usual receipt. It
// reports whether the key changed (false: it was already quarantined).
func (d *DB) QuarantineAPIKey(ctx context.Context, accountID, id int64, by Actor, now time.Time) (bool, error) {
	return d.setQuarantined(ctx, AuditEvent{AccountID: accountID, KeyID: id, Action: AuditQuarantine, CreatedAt: now}, by)
}

// EndQuarantine lets the key's leads through again. What becomes of the
// leads it parked (detail: "release", "discard" or "keep") is written to
// the audit entry; releasing or discarding them is the caller's next step,
// once every instance stopped parking. It reports whether the key changed
// (false: its quarantine had already ended).
func (d *DB) EndQuarantine(ctx context.Context, accountID, id int64, detail string, by Actor, now time.Time) (bool, error) {
	return d.setQuarantined(ctx, AuditEvent{AccountID: accountID, KeyID: id, Action: AuditEndQuarantine, Detail: detail, CreatedAt: now}, by)
}

func (d *DB) setQuarantined(ctx context.Context, e AuditEvent, by Actor) (bool, error) {
	k, err := d.APIKey(ctx, e.AccountID, e.KeyID)
	if err != nil {
		return false, err
	}
	on := e.Action == AuditQuarantine
	if k.Revoked() || k.Type != DigitalRequests || k.Quarantined() == on {
		return false, nil
	}
	query := `UPDATE api_keys SET quarantined_at = ?, quarantined_by = ?
		WHERE account_id = ? AND id = ? AND type = ? AND revoked_at IS NULL AND quarantined_at IS NULL`
	args := []any{e.CreatedAt.Unix(), nullID(by.UserID), e.AccountID, e.KeyID, string(DigitalRequests)}
	if !on {
		query = `UPDATE api_keys SET quarantined_at = NULL, quarantined_by = NULL
			WHERE account_id = ? AND id = ? AND type = ? AND quarantined_at IS NOT NULL`
		args = args[2:]
	}
	changed := false
	err = d.inChangeTx(ctx, func(tx *changeTx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("db: %s: %w", e.Action, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		changed, e.KeyName = true, k.Name
		if err := insertAudit(ctx, tx.Tx, e, by); err != nil {
			return err
		}
		return keyChanged(ctx, tx, e.AccountID, e.KeyID, e.CreatedAt)
	})
	return changed, err
}

// parkedColumns read a parked lead as a Lead (it has no parked_at of its own).
var parkedColumns = strings.Replace(leadColumns, "l.parked_at", "NULL", 1)

// ParkedLeads lists an account's parked leads newest first, like Leads
// (KeyID, Search and the page; not Since), with the name of each one's key.
func (d *DB) ParkedLeads(ctx context.Context, accountID int64, f LeadFilter) ([]Lead, error) {
	f.Since = time.Time{}
	q, args := f.queryFrom(`SELECT `+parkedColumns+` FROM parked_leads l`, accountID)
	return queryAll(ctx, d.read, "parked leads", scanLead, q, args...)
}

// ParkedLead is one parked lead of an account's key, by public id; any other is ErrNotFound.
func (d *DB) ParkedLead(ctx context.Context, accountID, keyID int64, publicID string) (Lead, error) {
	return scanLead(d.read.QueryRowContext(ctx, `SELECT `+parkedColumns+` FROM parked_leads l JOIN api_keys k ON k.id = l.key_id
		WHERE l.account_id = ? AND l.key_id = ? AND l.public_id = ?`, accountID, keyID, publicID))
}

// ParkedKey is a key that is quarantined or has parked leads, for the Quarantined view.
type ParkedKey struct {
	ID                 int64
	Name               string
	QuarantinedAt      time.Time
	QuarantinedByEmail string
	Revoked            bool
	Leads              int
}

// ParkedKeys are the account's keys that are quarantined or have parked
// leads, by name, each with how many leads it has parked.
func (d *DB) ParkedKeys(ctx context.Context, accountID int64) ([]ParkedKey, error) {
	return queryAll(ctx, d.read, "parked keys", func(s scanner) (ParkedKey, error) {
		var p ParkedKey
		var at, revoked sql.NullInt64
		err := s.Scan(&p.ID, &p.Name, &at, &p.QuarantinedByEmail, &revoked, &p.Leads)
		p.QuarantinedAt, p.Revoked = unixOrZero(at), revoked.Valid
		return p, err
	}, `SELECT k.id, k.name, k.quarantined_at, coalesce((SELECT email FROM users qu WHERE qu.id = k.quarantined_by), ''),
		k.revoked_at, (SELECT count(*) FROM parked_leads p WHERE p.account_id = k.account_id AND p.key_id = k.id)
		FROM api_keys k WHERE k.account_id = ? AND k.type = ? AND (k.quarantined_at IS NOT NULL
			OR EXISTS (SELECT 1 FROM parked_leads p WHERE p.account_id = k.account_id AND p.key_id = k.id))
		ORDER BY lower(k.name), k.id`, accountID, string(DigitalRequests))
}

// MaxParkedCount is where CountParked stops counting.
const MaxParkedCount = 1000

// CountParked counts an account's parked leads, or one key's (keyID ≠ 0),
// up to MaxParkedCount+1: a flood of them costs no more than that to count.
func (d *DB) CountParked(ctx context.Context, accountID, keyID int64) (int, error) {
	q, args := `SELECT 1 FROM parked_leads WHERE account_id = ?`, []any{accountID}
	if keyID != 0 {
		q, args = q+` AND key_id = ?`, append(args, keyID)
	}
	var n int
	err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM (`+q+` LIMIT ?) p`, append(args, MaxParkedCount+1)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: count parked leads: %w", err)
	}
	return n, nil
}

// Released says what a release did.
type Released struct {
	Leads int // moved into leads
	// Retries were parked retries of a lead already received (the same
	// Idempotency-Key of the same key), dropped.
	Retries int
	// LeadID is the lead a release of one lead became (0 when a retry).
	LeadID int64
}

// parkedMove is how many parked leads one statement moves.
const parkedMove = 200

// ReleaseParked moves the parked leads of key k — the one with publicID, or
// all of them when publicID is "" — into leads as if received at now (a new
// id and received_at; parked_at keeps when each first came in), counts them
// in the day counts, and writes the audit entry. ErrNotParked when there is
// none (already released or discarded).
func (d *DB) ReleaseParked(ctx context.Context, k APIKey, publicID string, by Actor, now time.Time) (Released, error) {
	var r Released
	err := d.inTx(ctx, func(tx *Tx) error {
		r = Released{}
		ids, err := claimParked(ctx, tx, k, publicID)
		if err != nil {
			return err
		}
		cols := strings.Join(leadInsertColumns, ", ")
		selected := "l." + strings.Join(leadInsertColumns, ", l.")
		selected = strings.Replace(selected, "l.received_at", "CAST(? AS BIGINT)", 1) + ", l.received_at"
		var days []writeOp
		for chunk := range slices.Chunk(ids, parkedMove) {
			in := placeholders(len(chunk))
			rows, err := tx.QueryContext(ctx, `INSERT INTO leads (`+cols+`, parked_at) SELECT `+selected+`
				FROM parked_leads l WHERE l.account_id = ? AND l.id IN (`+in+`) ORDER BY l.id
				ON CONFLICT (key_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id, mode`,
				append([]any{now.Unix(), k.AccountID}, chunk...)...)
			if err != nil {
				return fmt.Errorf("db: release parked leads: %w", err)
			}
			for rows.Next() {
				l := Lead{AccountID: k.AccountID, ReceivedAt: now}
				if err := rows.Scan(&l.ID, &l.Mode); err != nil {
					rows.Close()
					return fmt.Errorf("db: release parked leads: %w", err)
				}
				r.Leads, r.LeadID = r.Leads+1, l.ID
				days = append(days, &leadInsert{lead: l})
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("db: release parked leads: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM parked_leads WHERE account_id = ? AND id IN (`+in+`)`,
				append([]any{k.AccountID}, chunk...)...); err != nil {
				return fmt.Errorf("db: release parked leads: %w", err)
			}
		}
		r.Retries = len(ids) - r.Leads
		if err := writeLeadDays(ctx, tx, days); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{AccountID: k.AccountID, Action: AuditReleaseLeads, KeyID: k.ID,
			KeyName: k.Name, CreatedAt: now, Detail: parkedDetail(publicID, len(ids))}, by)
	})
	return r, err
}

// claimParked returns the ids of the parked leads a release takes, locking
// them (on PostgreSQL) so that a second release at the same moment waits
// and then finds them gone.
func claimParked(ctx context.Context, tx *Tx, k APIKey, publicID string) ([]any, error) {
	q, args := `UPDATE parked_leads SET key_id = key_id WHERE account_id = ? AND key_id = ?`, []any{k.AccountID, k.ID}
	if publicID != "" {
		q, args = q+` AND public_id = ?`, append(args, publicID)
	}
	ids, err := queryAll(ctx, tx, "claim parked leads", func(s scanner) (any, error) {
		var id int64
		err := s.Scan(&id)
		return id, err
	}, q+` RETURNING id`, args...)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, ErrNotParked
	}
	return ids, nil
}

// DiscardParked deletes the parked leads of key k — the one with publicID,
// or all of them when publicID is "" — and writes the audit entry; it
// returns how many. ErrNotParked when there is none.
func (d *DB) DiscardParked(ctx context.Context, k APIKey, publicID string, by Actor, now time.Time) (int, error) {
	var n int64
	err := d.inTx(ctx, func(tx *Tx) error {
		q, args := `DELETE FROM parked_leads WHERE account_id = ? AND key_id = ?`, []any{k.AccountID, k.ID}
		if publicID != "" {
			q, args = q+` AND public_id = ?`, append(args, publicID)
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("db: discard parked leads: %w", err)
		}
		if n, _ = res.RowsAffected(); n == 0 {
			return ErrNotParked
		}
		return insertAudit(ctx, tx, AuditEvent{AccountID: k.AccountID, Action: AuditDiscardLeads, KeyID: k.ID,
			KeyName: k.Name, CreatedAt: now, Detail: parkedDetail(publicID, int(n))}, by)
	})
	return int(n), err
}

// parkedDetail is the audit detail of a release or discard: the lead's
// public id, or how many leads.
func parkedDetail(publicID string, n int) string {
	if publicID != "" {
		return publicID
	}
	return strconv.Itoa(n)
}

// LeadIDByPublicID is the id of an account's lead with this public id (in
// leads, not parked), or ErrNotFound: where a released lead went.
func (d *DB) LeadIDByPublicID(ctx context.Context, accountID int64, publicID string) (int64, error) {
	var id int64
	err := d.read.QueryRowContext(ctx, `SELECT id FROM leads WHERE account_id = ? AND public_id = ?`, accountID, publicID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("db: lead by public id: %w", err)
	}
	return id, nil
}
