package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"keydesk/keys"
)

// KeyType is what a key may do: push data in only, or read and write.
type KeyType string

// The two kinds of key of Settings > Integrations.
const (
	DigitalRequests KeyType = "digital_requests"
	Integration     KeyType = "integration"
)

// Scope is the OAuth scope a key type grants.
func (t KeyType) Scope() string {
	if t == Integration {
		return "read write"
	}
	return "write"
}

// APIKey is one key of an account. The secret is only ever held sealed.
type APIKey struct {
	ID             int64
	AccountID      int64
	Name           string
	Type           KeyType
	Licenses       []string
	Mode           keys.Mode
	PublicKey      string
	SecretSealed   []byte
	SecretLast4    string
	Settings       keys.Settings
	CreatedAt      time.Time
	CreatedBy      int64
	CreatedByEmail string
	LastUsedAt     time.Time
	RevokedAt      time.Time
	RevokedBy      int64
	RevokedByEmail string
	// TokenEpoch is in every access token of the key; bumping it ends them all.
	TokenEpoch uint32
	// PausedAt is when the key was paused; zero while it works.
	PausedAt time.Time
	Retire   Retirement
	// QuarantinedAt is when a digital-requests key was quarantined (its leads
	// are parked), by whom; zero while its leads go through.
	QuarantinedAt      time.Time
	QuarantinedByEmail string
}

// Retirement is the wind-down of a key rolled with its old secret kept
// working: until its successor is first used, then for Window, and never
// past Deadline.
type Retirement struct {
	ReplacedBy int64
	Window     time.Duration
	Deadline   time.Time
	At         time.Time // when the countdown ends, once the successor was used
}

// Retiring reports whether the key is winding down after a roll.
func (k *APIKey) Retiring() bool { return !k.Retire.Deadline.IsZero() && !k.Revoked() }

// RetiresAt is when a retiring key stops working: the end of its countdown,
// or its hard deadline while the countdown has not started.
func (k *APIKey) RetiresAt() time.Time {
	if !k.Retire.At.IsZero() && k.Retire.At.Before(k.Retire.Deadline) {
		return k.Retire.At
	}
	return k.Retire.Deadline
}

// Paused reports whether the key is paused.
func (k *APIKey) Paused() bool { return !k.PausedAt.IsZero() }

// Quarantined reports whether the key's leads are parked for review.
func (k *APIKey) Quarantined() bool { return !k.QuarantinedAt.IsZero() }

// Expired reports whether the key's expiry has passed at now.
func (k *APIKey) Expired(now time.Time) bool {
	return !k.Settings.ExpiresAt.IsZero() && !now.Before(k.Settings.ExpiresAt)
}

// Revoked reports whether the key can no longer authenticate.
func (k *APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// Actor is who did something and from where, for the audit log.
type Actor struct {
	UserID     int64
	Email      string
	RemoteAddr string
}

// keyColumns are the columns a key is read with: its own, then its settings.
var keyColumns = `k.id, k.account_id, k.name, k.type, k.licenses, k.mode, k.public_key, k.secret_sealed, k.secret_last4,
	k.created_at, coalesce(k.created_by, 0), coalesce(cu.email, ''), k.last_used_at,
	k.revoked_at, coalesce(k.revoked_by, 0), coalesce(ru.email, ''), k.token_epoch,
	k.paused_at, coalesce(k.replaced_by, 0), k.retire_window, k.retire_by, k.retire_at,
	k.quarantined_at, coalesce((SELECT email FROM users qu WHERE qu.id = k.quarantined_by), ''), ` + settingColumns("k.")

const keyFrom = ` FROM api_keys k
	LEFT JOIN users cu ON cu.id = k.created_by
	LEFT JOIN users ru ON ru.id = k.revoked_by `

// CreateAPIKey inserts a key and its audit entry in one transaction.
// A name taken by another non-revoked key of the account is ErrDuplicate.
func (d *DB) CreateAPIKey(ctx context.Context, k APIKey, by Actor) (APIKey, error) {
	err := d.inChangeTx(ctx, func(tx *changeTx) error {
		if err := insertKey(ctx, tx.Tx, &k); err != nil {
			return err
		}
		k.CreatedByEmail = by.Email
		if err := insertAudit(ctx, tx.Tx, AuditEvent{AccountID: k.AccountID, Action: AuditCreate, KeyID: k.ID,
			KeyName: k.Name, CreatedAt: k.CreatedAt, Detail: string(k.Type) + ", " + string(k.Mode)}, by); err != nil {
			return err
		}
		return keyChanged(ctx, tx, k.AccountID, k.ID, k.CreatedAt)
	})
	return k, err
}

func insertKey(ctx context.Context, tx *Tx, k *APIKey) error {
	args := append([]any{k.AccountID, k.Name, string(k.Type), joinList(k.Licenses), string(k.Mode), k.PublicKey,
		k.SecretSealed, k.SecretLast4, k.CreatedAt.Unix(), nullID(k.CreatedBy)}, settingArgs(&k.Settings)...)
	err := tx.QueryRowContext(ctx, `INSERT INTO api_keys (account_id, name, type, licenses, mode, public_key,
		secret_sealed, secret_last4, created_at, created_by, `+settingColumns("")+`)
		VALUES (`+placeholders(len(args))+`) RETURNING id`, args...).Scan(&k.ID)
	if isUniqueViolation(err) {
		return fmt.Errorf("db: key name %q: %w", k.Name, ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("db: create key: %w", err)
	}
	return nil
}

// APIKeys lists an account's keys of one type, newest first.
func (d *DB) APIKeys(ctx context.Context, accountID int64, t KeyType) ([]APIKey, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+keyColumns+keyFrom+
		`WHERE k.account_id = ? AND k.type = ? ORDER BY k.revoked_at IS NOT NULL, k.id DESC`, accountID, string(t))
	if err != nil {
		return nil, fmt.Errorf("db: keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		d.overlayLastUsed(&k)
		out = append(out, k)
	}
	return out, rows.Err()
}

// KeysForHealth lists an account's active keys that may carry a health
// flag — never used, not used since unusedBefore, created before
// rollBefore, or live with no IP allowlist — in the order of the key lists (digital requests first, newest
// first), at most limit: the landing page reads these, not every key.
func (d *DB) KeysForHealth(ctx context.Context, accountID int64, unusedBefore, rollBefore time.Time, limit int) ([]APIKey, error) {
	var out []APIKey
	// A type at a time, newest first along the (account, type, id) index: the
	// walk stops at the limit instead of sorting every key.
	for _, t := range []KeyType{DigitalRequests, Integration} {
		if len(out) >= limit {
			break
		}
		rows, err := d.read.QueryContext(ctx, `SELECT `+keyColumns+keyFrom+
			`WHERE k.account_id = ? AND k.type = ? AND k.revoked_at IS NULL
				AND (k.last_used_at IS NULL OR k.last_used_at < ? OR k.created_at < ?
					OR k.mode = 'live' AND k.ip_mode = 'off')
			ORDER BY k.id DESC LIMIT ?`,
			accountID, string(t), unusedBefore.Unix(), rollBefore.Unix(), limit-len(out))
		if err != nil {
			return nil, fmt.Errorf("db: keys for health: %w", err)
		}
		for rows.Next() {
			k, err := scanAPIKey(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			d.overlayLastUsed(&k)
			out = append(out, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("db: keys for health: %w", err)
		}
	}
	return out, nil
}

// APIKey returns one key of an account; another account's key is ErrNotFound.
func (d *DB) APIKey(ctx context.Context, accountID, id int64) (APIKey, error) {
	k, err := scanAPIKey(d.read.QueryRowContext(ctx, `SELECT `+keyColumns+keyFrom+
		`WHERE k.account_id = ? AND k.id = ?`, accountID, id))
	if err != nil {
		return APIKey{}, err
	}
	d.overlayLastUsed(&k)
	return k, nil
}

// APIKeyByPublic returns a key by its public API key.
func (d *DB) APIKeyByPublic(ctx context.Context, public string) (APIKey, error) {
	return scanAPIKey(d.read.QueryRowContext(ctx, `SELECT `+keyColumns+keyFrom+`WHERE k.public_key = ?`, public))
}

// APIKeyByID returns a key by id alone, for the live state that follows the change log.
func (d *DB) APIKeyByID(ctx context.Context, id int64) (APIKey, error) {
	return scanAPIKey(d.read.QueryRowContext(ctx, `SELECT `+keyColumns+keyFrom+`WHERE k.id = ?`, id))
}

// LiveAPIKeys returns every key of every account that is not revoked.
func (d *DB) LiveAPIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+keyColumns+keyFrom+`WHERE k.revoked_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("db: live keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// UpdateAPIKeySettings changes a key's name, licenses and settings (never its
// type, mode or secret) and writes the audit entry, with detail saying what changed.
func (d *DB) UpdateAPIKeySettings(ctx context.Context, k APIKey, by Actor, now time.Time, detail string) error {
	return d.inChangeTx(ctx, func(tx *changeTx) error {
		args := append(append([]any{k.Name, joinList(k.Licenses)}, settingArgs(&k.Settings)...), k.AccountID, k.ID)
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET name = ?, licenses = ?, `+settingAssignments()+`
			WHERE account_id = ? AND id = ? AND revoked_at IS NULL`, args...)
		if isUniqueViolation(err) {
			return fmt.Errorf("db: key name %q: %w", k.Name, ErrDuplicate)
		}
		if err != nil {
			return fmt.Errorf("db: update key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if err := insertAudit(ctx, tx.Tx, AuditEvent{AccountID: k.AccountID, Action: AuditEdit, KeyID: k.ID,
			KeyName: k.Name, CreatedAt: now, Detail: detail}, by); err != nil {
			return err
		}
		return keyChanged(ctx, tx, k.AccountID, k.ID, now)
	})
}

// RevokeAPIKey revokes a key for good, which ends its access tokens, and
// writes the audit entry and the change every instance applies.
func (d *DB) RevokeAPIKey(ctx context.Context, accountID, id int64, by Actor, now time.Time) (APIKey, error) {
	k, err := d.APIKey(ctx, accountID, id)
	if err != nil {
		return APIKey{}, err
	}
	if k.Revoked() {
		return k, nil
	}
	err = d.inChangeTx(ctx, func(tx *changeTx) error {
		if err := revokeKey(ctx, tx, k, by, now); err != nil {
			return err
		}
		return insertAudit(ctx, tx.Tx, AuditEvent{AccountID: accountID, Action: AuditRevoke, KeyID: id,
			KeyName: k.Name, CreatedAt: now}, by)
	})
	if err != nil {
		return APIKey{}, err
	}
	markRevoked(&k, by, now)
	return k, nil
}

// RollAPIKey replaces a key with a new pair of the same name, type, mode,
// licenses and settings, in one transaction: the old key is revoked (its
// tokens end, as with RevokeAPIKey) and the new one is live.
// next carries the new pair: PublicKey, SecretSealed and SecretLast4.
// With retire set (Window and Deadline), the old key is not revoked but
// retires: it works until the new one is first used, then for Window, and
// never past Deadline.
func (d *DB) RollAPIKey(ctx context.Context, accountID, id int64, next APIKey, retire *Retirement, by Actor, now time.Time) (old, rolled APIKey, err error) {
	old, err = d.APIKey(ctx, accountID, id)
	if err != nil {
		return APIKey{}, APIKey{}, err
	}
	if old.Revoked() {
		return APIKey{}, APIKey{}, ErrNotFound
	}
	rolled = old
	rolled.PublicKey, rolled.SecretSealed, rolled.SecretLast4 = next.PublicKey, next.SecretSealed, next.SecretLast4
	rolled.CreatedAt, rolled.CreatedBy, rolled.CreatedByEmail, rolled.LastUsedAt = now, by.UserID, by.Email, time.Time{}
	detail := "replaced " + old.PublicKey + " by " + rolled.PublicKey
	if retire != nil {
		detail += fmt.Sprintf("; the old key works until the new one is first used, then for %s, at the latest until %s",
			keys.DurationWords(retire.Window), retire.Deadline.UTC().Format("2006-01-02 15:04 MST"))
	}
	err = d.inChangeTx(ctx, func(tx *changeTx) error {
		if retire == nil {
			if err := revokeKey(ctx, tx, old, by, now); err != nil {
				return err
			}
		} else if err := retireKey(ctx, tx, old, *retire, now); err != nil {
			return err
		}
		if err := insertKey(ctx, tx.Tx, &rolled); err != nil {
			return err
		}
		if retire != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET replaced_by = ? WHERE id = ?`, rolled.ID, old.ID); err != nil {
				return fmt.Errorf("db: roll key: %w", err)
			}
		}
		if err := insertAudit(ctx, tx.Tx, AuditEvent{AccountID: accountID, Action: AuditRoll, KeyID: old.ID,
			KeyName: old.Name, CreatedAt: now, Detail: detail}, by); err != nil {
			return err
		}
		if err := insertAudit(ctx, tx.Tx, AuditEvent{AccountID: accountID, Action: AuditCreate, KeyID: rolled.ID,
			KeyName: rolled.Name, CreatedAt: now, Detail: "rolled from " + old.PublicKey}, by); err != nil {
			return err
		}
		return keyChanged(ctx, tx, accountID, rolled.ID, now)
	})
	if err != nil {
		return APIKey{}, APIKey{}, err
	}
	if retire == nil {
		markRevoked(&old, by, now)
	} else {
		old.Retire = *retire
		old.Retire.ReplacedBy, old.Retire.At = rolled.ID, time.Time{}
	}
	return old, rolled, nil
}

// revokeKey marks k revoked, inside tx, with the change that ends it everywhere.
func revokeKey(ctx context.Context, tx *changeTx, k APIKey, by Actor, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ?, revoked_by = ?
		WHERE account_id = ? AND id = ? AND revoked_at IS NULL`, now.Unix(), nullID(by.UserID), k.AccountID, k.ID)
	if err != nil {
		return fmt.Errorf("db: revoke key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return keyChanged(ctx, tx, k.AccountID, k.ID, now)
}

// markRevoked makes k say who revoked it when, once the revoke is committed.
func markRevoked(k *APIKey, by Actor, now time.Time) {
	k.RevokedAt, k.RevokedBy, k.RevokedByEmail = now.UTC().Truncate(time.Second), by.UserID, by.Email
}

// lastUses are the keys' last-used times not yet in the table. A request
// finds its key's entry without a lock (the map is replaced, never changed,
// when a key is first used) and moves it forward with an atomic, usually not
// at all within the same second: no request waits for another or for the
// database. An entry, once made, stays: there is one per key ever used.
type lastUses struct {
	m     atomic.Pointer[map[int64]*lastUse]
	mu    sync.Mutex // serialises adding a key
	flush sync.Mutex // one flush at a time
}

type lastUse struct {
	id      int64
	at      atomic.Int64 // unix seconds, only ever forward
	written int64        // what the last flush wrote, read and set under lastUses.flush
}

// all is every entry made so far; nil before the first.
func (l *lastUses) all() map[int64]*lastUse {
	if m := l.m.Load(); m != nil {
		return *m
	}
	return nil
}

// entry is the key's lastUse, made on first use.
func (l *lastUses) entry(id int64) *lastUse {
	if u := l.all()[id]; u != nil {
		return u
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.all()
	if u := old[id]; u != nil {
		return u
	}
	next := maps.Clone(old)
	if next == nil {
		next = map[int64]*lastUse{}
	}
	u := &lastUse{id: id}
	next[id] = u
	l.m.Store(&next)
	return u
}

// TouchAPIKey records that a key was used; the time reaches the table at the next flush.
func (d *DB) TouchAPIKey(id int64, now time.Time) {
	u, at := d.lastUsed.entry(id), now.Unix()
	for {
		old := u.at.Load()
		if old >= at || u.at.CompareAndSwap(old, at) {
			return
		}
	}
}

// FlushLastUsed writes the recorded last-used times in one transaction, and
// the addresses seen outside Report-only allowlists in another.
func (d *DB) FlushLastUsed(ctx context.Context) error {
	return errors.Join(d.flushLastUsed(ctx), d.flushIPReports(ctx))
}

func (d *DB) flushLastUsed(ctx context.Context) error {
	d.lastUsed.flush.Lock()
	defer d.lastUsed.flush.Unlock()
	type pending struct {
		u  *lastUse
		at int64
	}
	var todo []pending
	for _, u := range d.lastUsed.all() {
		if at := u.at.Load(); at > u.written {
			todo = append(todo, pending{u, at})
		}
	}
	if len(todo) == 0 {
		return nil
	}
	err := d.inTx(ctx, func(tx *Tx) error {
		// Only ever forward, so flushes of several instances commute.
		for _, p := range todo {
			if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ?
				WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, p.at, p.u.id, p.at); err != nil {
				return fmt.Errorf("db: flush last used: %w", err)
			}
		}
		return nil
	})
	if err == nil {
		for _, p := range todo {
			p.u.written = p.at
		}
	}
	return err
}

func (d *DB) overlayLastUsed(k *APIKey) {
	if u := d.lastUsed.all()[k.ID]; u != nil {
		if at := u.at.Load(); at > k.LastUsedAt.Unix() {
			k.LastUsedAt = time.Unix(at, 0).UTC()
		}
	}
}

func scanAPIKey(s scanner) (APIKey, error) {
	var k APIKey
	var typ, licenses, mode string
	var created int64
	var lastUsed, revoked, paused, window, deadline, retireAt, quarantined sql.NullInt64
	dest := append([]any{&k.ID, &k.AccountID, &k.Name, &typ, &licenses, &mode, &k.PublicKey, &k.SecretSealed, &k.SecretLast4,
		&created, &k.CreatedBy, &k.CreatedByEmail, &lastUsed, &revoked, &k.RevokedBy, &k.RevokedByEmail, &k.TokenEpoch,
		&paused, &k.Retire.ReplacedBy, &window, &deadline, &retireAt, &quarantined, &k.QuarantinedByEmail},
		settingDests(&k.Settings)...)
	err := s.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, ErrNotFound
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("db: scan key: %w", err)
	}
	k.Type, k.Mode, k.Licenses = KeyType(typ), keys.Mode(mode), splitList(licenses)
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = time.Unix(created, 0).UTC(), unixOrZero(lastUsed), unixOrZero(revoked)
	k.PausedAt, k.Retire.Deadline, k.Retire.At = unixOrZero(paused), unixOrZero(deadline), unixOrZero(retireAt)
	k.Retire.Window = time.Duration(window.Int64) * time.Second
	k.QuarantinedAt = unixOrZero(quarantined)
	return k, nil
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// EndKeyTokens ends every access token of a key without revoking it, by
// moving its token epoch on, and writes the audit entry.
func (d *DB) EndKeyTokens(ctx context.Context, accountID, id int64, by Actor, now time.Time) (APIKey, error) {
	k, err := d.APIKey(ctx, accountID, id)
	if err != nil {
		return APIKey{}, err
	}
	err = d.inChangeTx(ctx, func(tx *changeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET token_epoch = token_epoch + 1
			WHERE account_id = ? AND id = ? AND revoked_at IS NULL`, accountID, id)
		if err != nil {
			return fmt.Errorf("db: end key's tokens: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if err := insertAudit(ctx, tx.Tx, AuditEvent{AccountID: accountID, Action: AuditEndTokens, KeyID: id,
			KeyName: k.Name, CreatedAt: now}, by); err != nil {
			return err
		}
		return keyChanged(ctx, tx, accountID, id, now)
	})
	if err != nil {
		return APIKey{}, err
	}
	k.TokenEpoch++
	return k, nil
}

// RevokeToken remembers one access token of a key as revoked until it would
// have expired (RFC 7009).
func (d *DB) RevokeToken(ctx context.Context, accountID, keyID int64, id []byte, expires, now time.Time) error {
	return d.inChangeTx(ctx, func(tx *changeTx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO revoked_tokens (token_id, key_id, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (token_id) DO NOTHING`, id, keyID, expires.Unix()); err != nil {
			return fmt.Errorf("db: revoke token: %w", err)
		}
		return logChange(ctx, tx, Change{Kind: ChangeToken, AccountID: accountID, KeyID: keyID, TokenID: id,
			Until: expires, CreatedAt: now})
	})
}

// RevokedToken is a token revoked on its own, and when it would have expired.
type RevokedToken struct {
	ID        []byte
	ExpiresAt time.Time
}

// RevokedTokens returns the revoked tokens that have not expired by now.
func (d *DB) RevokedTokens(ctx context.Context, now time.Time) ([]RevokedToken, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT token_id, expires_at FROM revoked_tokens WHERE expires_at >= ?`, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("db: revoked tokens: %w", err)
	}
	defer rows.Close()
	var out []RevokedToken
	for rows.Next() {
		var t RevokedToken
		var exp int64
		if err := rows.Scan(&t.ID, &exp); err != nil {
			return nil, fmt.Errorf("db: revoked tokens: %w", err)
		}
		t.ExpiresAt = time.Unix(exp, 0).UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}
