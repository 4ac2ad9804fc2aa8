package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Roles a user can have.
const (
	RoleAdmin  = "admin"
	RoleDealer = "dealer"
)

// User is a person who signs in to one account.
type User struct {
	ID           int64
	AccountID    int64
	Email        string
	PasswordHash string
	Role         string
	Disabled     bool
	CreatedAt    time.Time
	LastSignInAt time.Time // zero until the first sign-in
}

// IsAdmin reports whether the user may manage keys.
func (u User) IsAdmin() bool { return u.Role == RoleAdmin }

const userColumns = `id, account_id, email, password_hash, role, disabled, created_at, last_sign_in_at`

// CreateUser inserts a user; a taken email is ErrDuplicate.
func (d *DB) CreateUser(ctx context.Context, u User) (User, error) {
	err := d.write.QueryRowContext(ctx,
		`INSERT INTO users (account_id, email, password_hash, role, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		u.AccountID, u.Email, u.PasswordHash, u.Role, u.Disabled, u.CreatedAt.Unix()).Scan(&u.ID)
	if isUniqueViolation(err) {
		return User{}, fmt.Errorf("db: user %q: %w", u.Email, ErrDuplicate)
	}
	if err != nil {
		return User{}, fmt.Errorf("db: create user: %w", err)
	}
	return u, nil
}

// UserByEmail returns a user by email, case-insensitively.
func (d *DB) UserByEmail(ctx context.Context, email string) (User, error) {
	return scanUser(d.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower(?)`, email))
}

// User returns a user by id.
func (d *DB) User(ctx context.Context, id int64) (User, error) {
	return scanUser(d.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
}

// SetUserDisabled disables or re-enables a user; disabling ends their sessions.
func (d *DB) SetUserDisabled(ctx context.Context, id int64, disabled bool) error {
	return d.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE id = ?`, disabled, id)
		if err != nil {
			return fmt.Errorf("db: disable user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if disabled {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return fmt.Errorf("db: end sessions: %w", err)
			}
		}
		return nil
	})
}

// SetUserPassword replaces a user's password hash and ends their sessions.
func (d *DB) SetUserPassword(ctx context.Context, id int64, hash string) error {
	return d.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id)
		if err != nil {
			return fmt.Errorf("db: set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return fmt.Errorf("db: end sessions: %w", err)
		}
		return nil
	})
}

// SetUserRole changes a user's role.
func (d *DB) SetUserRole(ctx context.Context, id int64, role string) error {
	res, err := d.write.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, role, id)
	if err != nil {
		return fmt.Errorf("db: set role: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// CountActiveAdmins returns how many enabled admins an account has.
func (d *DB) CountActiveAdmins(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE account_id = ? AND role = ? AND disabled = ?`,
		accountID, RoleAdmin, false).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: count admins: %w", err)
	}
	return n, nil
}

// CountUsers returns how many users exist in all accounts.
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: count users: %w", err)
	}
	return n, nil
}

func scanUser(s scanner) (User, error) {
	var u User
	var created int64
	var lastSignIn sql.NullInt64
	err := s.Scan(&u.ID, &u.AccountID, &u.Email, &u.PasswordHash, &u.Role, &u.Disabled, &created, &lastSignIn)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("db: scan user: %w", err)
	}
	u.CreatedAt, u.LastSignInAt = time.Unix(created, 0).UTC(), unixOrZero(lastSignIn)
	return u, nil
}
