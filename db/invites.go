package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Audited changes to the people of an account.
const (
	AuditUserInvite  = "user_invite"
	AuditUserAccept  = "user_accept"
	AuditUserRole    = "user_role"
	AuditUserDisable = "user_disable"
	AuditUserEnable  = "user_enable"
	AuditUserReset   = "user_reset"
)

// InviteTTL is how long an invite link works.
const InviteTTL = 72 * time.Hour

// ErrLastAdmin is returned when a change would leave an account without an active admin.
var ErrLastAdmin = errors.New("db: the account's last active admin")

// ErrInviteInvalid is returned for an invite token that is unknown, used, replaced or expired.
var ErrInviteInvalid = errors.New("db: invite link is not valid")

// Person is a user of an account as Settings › Users lists them.
type Person struct {
	User
	InviteExpiresAt time.Time // of the newest unused invite; zero when none
}

// Invited reports whether the person has not set a password yet.
func (p Person) Invited() bool { return p.PasswordHash == "" }

// InviteExpired reports whether the person's invite link no longer works at now.
func (p Person) InviteExpired(now time.Time) bool {
	return p.Invited() && !now.Before(p.InviteExpiresAt)
}

// Active reports whether the person can sign in.
func (p Person) Active() bool { return !p.Disabled && !p.Invited() }

func inviteHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// People lists the users of an account, by email.
func (d *DB) People(ctx context.Context, accountID int64, now time.Time) ([]Person, error) {
	return queryAll(ctx, d.read, "people", scanPerson, `SELECT u.id, u.account_id, u.email, u.password_hash, u.role,
		u.disabled, u.created_at, u.last_sign_in_at,
		coalesce((SELECT i.expires_at FROM user_invites i WHERE i.user_id = u.id AND i.used_at IS NULL ORDER BY i.id DESC LIMIT 1), 0)
		FROM users u WHERE u.account_id = ? ORDER BY lower(u.email)`, accountID)
}

func scanPerson(s scanner) (Person, error) {
	var p Person
	var created, expires int64
	var lastSignIn sql.NullInt64
	err := s.Scan(&p.ID, &p.AccountID, &p.Email, &p.PasswordHash, &p.Role, &p.Disabled, &created, &lastSignIn, &expires)
	if err != nil {
		return Person{}, fmt.Errorf("db: scan person: %w", err)
	}
	p.CreatedAt, p.LastSignInAt = time.Unix(created, 0).UTC(), unixOrZero(lastSignIn)
	if expires != 0 {
		p.InviteExpiresAt = time.Unix(expires, 0).UTC()
	}
	return p, nil
}

// AccountUser returns a user of an account; another account's user is ErrNotFound.
func (d *DB) AccountUser(ctx context.Context, accountID, id int64) (User, error) {
	return scanUser(d.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE account_id = ? AND id = ?`,
		accountID, id))
}

// InviteUser adds a person without a password to an account, with an invite
// token (of which only the hash is kept) valid for InviteTTL. A taken email is ErrDuplicate.
func (d *DB) InviteUser(ctx context.Context, accountID int64, email, role, token string, by Actor, now time.Time) (User, error) {
	u := User{AccountID: accountID, Email: email, Role: role, CreatedAt: now.UTC().Truncate(time.Second)}
	err := d.inTx(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO users (account_id, email, password_hash, role, disabled, created_at)
			VALUES (?, ?, '', ?, ?, ?) RETURNING id`, accountID, email, role, false, now.Unix()).Scan(&u.ID)
		if isUniqueViolation(err) {
			return fmt.Errorf("db: user %q: %w", email, ErrDuplicate)
		}
		if err != nil {
			return fmt.Errorf("db: invite user: %w", err)
		}
		if err := insertInvite(ctx, tx, u, token, now); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{AccountID: accountID, Action: AuditUserInvite, SubjectUserID: u.ID,
			SubjectEmail: u.Email, Detail: role, CreatedAt: now}, by)
	})
	return u, err
}

func insertInvite(ctx context.Context, tx *Tx, u User, token string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE user_invites SET used_at = ? WHERE user_id = ? AND used_at IS NULL`,
		now.Unix(), u.ID); err != nil {
		return fmt.Errorf("db: replace invite: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO user_invites (account_id, user_id, token_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, u.AccountID, u.ID, inviteHash(token), now.Unix(), now.Add(InviteTTL).Unix())
	if err != nil {
		return fmt.Errorf("db: create invite: %w", err)
	}
	return nil
}

// ResetSignIn removes a user's password, ends their sessions and gives them a
// new invite token in place of any earlier one. The last active admin stays.
func (d *DB) ResetSignIn(ctx context.Context, accountID, userID int64, token string, by Actor, now time.Time) (User, error) {
	var u User
	err := d.inTx(ctx, func(tx *Tx) error {
		var err error
		if u, err = lockUser(ctx, tx, accountID, userID); err != nil {
			return err
		}
		if err := keepAnAdmin(ctx, tx, u); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = '' WHERE id = ?`, u.ID); err != nil {
			return fmt.Errorf("db: reset sign-in: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.ID); err != nil {
			return fmt.Errorf("db: end sessions: %w", err)
		}
		if err := insertInvite(ctx, tx, u, token, now); err != nil {
			return err
		}
		return insertAudit(ctx, tx, AuditEvent{AccountID: accountID, Action: AuditUserReset, SubjectUserID: u.ID,
			SubjectEmail: u.Email, CreatedAt: now}, by)
	})
	u.PasswordHash = ""
	return u, err
}

// ChangeUserRole gives a user of the account another role, audited. The last active admin stays.
func (d *DB) ChangeUserRole(ctx context.Context, accountID, userID int64, role string, by Actor, now time.Time) (User, error) {
	var u User
	err := d.inTx(ctx, func(tx *Tx) error {
		var err error
		if u, err = lockUser(ctx, tx, accountID, userID); err != nil {
			return err
		}
		if u.Role == role {
			return nil
		}
		if role != RoleAdmin {
			if err := keepAnAdmin(ctx, tx, u); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, role, u.ID); err != nil {
			return fmt.Errorf("db: set role: %w", err)
		}
		err = insertAudit(ctx, tx, AuditEvent{AccountID: accountID, Action: AuditUserRole, SubjectUserID: u.ID,
			SubjectEmail: u.Email, Detail: u.Role + " → " + role, CreatedAt: now}, by)
		u.Role = role
		return err
	})
	return u, err
}

// ChangeUserDisabled disables (ending their sessions) or re-enables a user of
// the account, audited. The last active admin stays.
func (d *DB) ChangeUserDisabled(ctx context.Context, accountID, userID int64, disabled bool, by Actor, now time.Time) (User, error) {
	var u User
	err := d.inTx(ctx, func(tx *Tx) error {
		var err error
		if u, err = lockUser(ctx, tx, accountID, userID); err != nil {
			return err
		}
		if u.Disabled == disabled {
			return nil
		}
		action := AuditUserEnable
		if disabled {
			action = AuditUserDisable
			if err := keepAnAdmin(ctx, tx, u); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.ID); err != nil {
				return fmt.Errorf("db: end sessions: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE id = ?`, disabled, u.ID); err != nil {
			return fmt.Errorf("db: disable user: %w", err)
		}
		u.Disabled = disabled
		return insertAudit(ctx, tx, AuditEvent{AccountID: accountID, Action: action, SubjectUserID: u.ID,
			SubjectEmail: u.Email, CreatedAt: now}, by)
	})
	return u, err
}

// InviteUserByToken returns the person an unused, unexpired invite token is
// for; any other token is ErrInviteInvalid.
func (d *DB) InviteUserByToken(ctx context.Context, token string, now time.Time) (User, error) {
	return inviteUser(ctx, d.read, token, now)
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func inviteUser(ctx context.Context, q queryRower, token string, now time.Time) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+prefixed("u.", userColumns)+` FROM user_invites i
		JOIN users u ON u.id = i.user_id AND u.account_id = i.account_id
		WHERE i.token_hash = ? AND i.used_at IS NULL AND i.expires_at > ? AND u.disabled = ?`,
		inviteHash(token), now.Unix(), false))
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrInviteInvalid
	}
	return u, err
}

// AcceptInvite sets the password of the invite's person and uses the invite up.
func (d *DB) AcceptInvite(ctx context.Context, token, passwordHash, remoteAddr string, now time.Time) (User, error) {
	var u User
	err := d.inTx(ctx, func(tx *Tx) error {
		var err error
		if u, err = inviteUser(ctx, tx, token, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE user_invites SET used_at = ? WHERE token_hash = ?`,
			now.Unix(), inviteHash(token)); err != nil {
			return fmt.Errorf("db: use invite: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, u.ID); err != nil {
			return fmt.Errorf("db: set password: %w", err)
		}
		u.PasswordHash = passwordHash
		return insertAudit(ctx, tx, AuditEvent{AccountID: u.AccountID, Action: AuditUserAccept, SubjectUserID: u.ID,
			SubjectEmail: u.Email, CreatedAt: now}, Actor{UserID: u.ID, Email: u.Email, RemoteAddr: remoteAddr})
	})
	return u, err
}

// lockUser reads a user of the account inside a write transaction.
func lockUser(ctx context.Context, tx *Tx, accountID, id int64) (User, error) {
	return scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE account_id = ? AND id = ?`, accountID, id))
}

// keepAnAdmin refuses to take u out of the account's active admins when u is the last one.
func keepAnAdmin(ctx context.Context, tx *Tx, u User) error {
	if !u.IsAdmin() || u.Disabled || u.PasswordHash == "" {
		return nil
	}
	var others int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE account_id = ? AND id <> ? AND role = ?
		AND disabled = ? AND password_hash <> ''`, u.AccountID, u.ID, RoleAdmin, false).Scan(&others)
	if err != nil {
		return fmt.Errorf("db: count admins: %w", err)
	}
	if others == 0 {
		return ErrLastAdmin
	}
	return nil
}

// prefixed qualifies each column of a column list with p, such as "u.".
func prefixed(p, columns string) string {
	var out []byte
	start := true
	for i := 0; i < len(columns); i++ {
		c := columns[i]
		if start && c != ' ' && c != '\t' && c != '\n' {
			out = append(out, p...)
			start = false
		}
		out = append(out, c)
		if c == ',' {
			start = true
		}
	}
	return string(out)
}
