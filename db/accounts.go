package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Licenses an account can hold, each unlocking one API.
const (
	LicenseLeads   = "leads"
	LicenseCapture = "capture"
)

// AllLicenses lists every license in display order.
var AllLicenses = []string{LicenseLeads, LicenseCapture}

// Account is one dealership.
type Account struct {
	ID        int64
	Slug      string
	Name      string
	Licenses  []string
	CreatedAt time.Time
}

// Holds reports whether the account holds a license.
func (a Account) Holds(license string) bool { return slices.Contains(a.Licenses, license) }

// CreateAccount inserts an account; a taken slug is ErrDuplicate.
func (d *DB) CreateAccount(ctx context.Context, a Account) (Account, error) {
	err := d.write.QueryRowContext(ctx,
		`INSERT INTO accounts (slug, name, licenses, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		a.Slug, a.Name, joinList(a.Licenses), a.CreatedAt.Unix()).Scan(&a.ID)
	if isUniqueViolation(err) {
		return Account{}, fmt.Errorf("db: account %q: %w", a.Slug, ErrDuplicate)
	}
	if err != nil {
		return Account{}, fmt.Errorf("db: create account: %w", err)
	}
	return a, nil
}

// Account returns an account by id.
func (d *DB) Account(ctx context.Context, id int64) (Account, error) {
	return scanAccount(d.read.QueryRowContext(ctx,
		`SELECT id, slug, name, licenses, created_at FROM accounts WHERE id = ?`, id))
}

// AccountBySlug returns an account by slug.
func (d *DB) AccountBySlug(ctx context.Context, slug string) (Account, error) {
	return scanAccount(d.read.QueryRowContext(ctx,
		`SELECT id, slug, name, licenses, created_at FROM accounts WHERE slug = ?`, slug))
}

// Accounts lists every account, oldest first.
func (d *DB) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, slug, name, licenses, created_at FROM accounts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("db: accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanAccount(s scanner) (Account, error) {
	var a Account
	var licenses string
	var created int64
	err := s.Scan(&a.ID, &a.Slug, &a.Name, &licenses, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("db: scan account: %w", err)
	}
	a.Licenses = splitList(licenses)
	a.CreatedAt = time.Unix(created, 0).UTC()
	return a, nil
}

func joinList(xs []string) string { return strings.Join(xs, ",") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func unixOrZero(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(v.Int64, 0).UTC()
}
