package db

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"keydesk/keys"
)

// ErrIdempotencyMismatch is returned when an idempotency key is reused with a different lead.
var ErrIdempotencyMismatch = errors.New("db: idempotency key reused with a different request")

// Lead is a sales lead pushed in through the API.
type Lead struct {
	ID          int64 // internal order, for paging
	PublicID    string
	AccountID   int64
	KeyID       int64
	KeyName     string
	Mode        keys.Mode
	FirstName   string
	LastName    string
	Email       string
	Phone       string
	VIN         string
	Year        int
	Make        string
	Model       string
	StockNumber string
	Message     string
	Source      string
	ReceivedAt  time.Time

	// IdempotencyKey and RequestHash make a retried POST answer the first receipt.
	IdempotencyKey string
	RequestHash    []byte
}

// LeadReceipt is all the API tells about a lead it took in.
type LeadReceipt struct {
	PublicID   string
	ReceivedAt time.Time
	Replayed   bool // an earlier request with the same idempotency key stored it
}

// CreateLead stores a lead through the group-commit writer and returns once
// it is committed. A key's second lead with the same idempotency key stores
// nothing and returns the first receipt, or ErrIdempotencyMismatch when the
// lead differs.
func (d *DB) CreateLead(ctx context.Context, l Lead) (LeadReceipt, error) {
	op := &leadInsert{lead: l, done: make(chan struct{})}
	w, err := d.enqueue(ctx, op)
	if err != nil {
		return LeadReceipt{}, err
	}
	select {
	case <-op.done:
		return op.receipt, op.err
	case <-w.done:
		select {
		case <-op.done:
			return op.receipt, op.err
		default:
			return LeadReceipt{}, ErrClosed
		}
	case <-ctx.Done():
		return LeadReceipt{}, ctx.Err()
	}
}

const insertLeadSQL = `INSERT INTO leads (public_id, account_id, key_id, mode, first_name, last_name, email, phone,
	vin, year, make, model, stock_number, message, source, idempotency_key, request_hash, received_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (key_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`

const leadByIdempotencySQL = `SELECT public_id, received_at, request_hash FROM leads
	WHERE key_id = ? AND idempotency_key = ?`

type leadInsert struct {
	lead    Lead
	receipt LeadReceipt
	err     error
	done    chan struct{}
}

func (o *leadInsert) apply(ctx context.Context, s *writeStmts) error {
	l := &o.lead
	res, err := s.insertLead.ExecContext(ctx, l.PublicID, l.AccountID, l.KeyID, string(l.Mode), l.FirstName, l.LastName,
		l.Email, l.Phone, l.VIN, nullIfZero(l.Year), l.Make, l.Model, l.StockNumber, l.Message, l.Source,
		nullIfEmpty(l.IdempotencyKey), l.RequestHash, l.ReceivedAt.Unix())
	if err != nil {
		return fmt.Errorf("db: create lead: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		o.receipt = LeadReceipt{PublicID: l.PublicID, ReceivedAt: l.ReceivedAt.UTC().Truncate(time.Second)}
		return nil
	}
	var received int64
	var hash []byte
	if err := s.leadByIdem.QueryRowContext(ctx, l.KeyID, l.IdempotencyKey).Scan(&o.receipt.PublicID, &received, &hash); err != nil {
		return fmt.Errorf("db: replayed lead: %w", err)
	}
	if !bytes.Equal(hash, l.RequestHash) {
		o.receipt = LeadReceipt{}
		return ErrIdempotencyMismatch
	}
	o.receipt.ReceivedAt, o.receipt.Replayed = time.Unix(received, 0).UTC(), true
	return nil
}

func (o *leadInsert) waited() bool { return true }

func (o *leadInsert) finish(err error) {
	if o.err == nil {
		o.err = err
	}
	close(o.done)
}

const leadColumns = `l.id, l.public_id, l.account_id, l.key_id, k.name, l.mode, l.first_name, l.last_name, l.email,
	l.phone, l.vin, coalesce(l.year, 0), l.make, l.model, l.stock_number, l.message, l.source, l.received_at`

// PageFilter selects one page of an account's rows, newest first.
type PageFilter struct {
	Mode     keys.Mode // "" for both modes
	BeforeID int64     // 0 for the newest
	Limit    int
}

// LeadFilter selects an account's leads for a page.
type LeadFilter = PageFilter

// Leads lists an account's leads newest first, with the name of the key that brought each.
func (d *DB) Leads(ctx context.Context, accountID int64, f LeadFilter) ([]Lead, error) {
	q, args := f.query(`SELECT `+leadColumns+` FROM leads l JOIN api_keys k ON k.id = l.key_id`, "l", accountID)
	return queryAll(ctx, d.read, "leads", scanLead, q, args...)
}

// LeadByPublicID returns one lead of an account in one mode; any other is ErrNotFound.
func (d *DB) LeadByPublicID(ctx context.Context, accountID int64, mode keys.Mode, publicID string) (Lead, error) {
	return scanLead(d.read.QueryRowContext(ctx, `SELECT `+leadColumns+` FROM leads l JOIN api_keys k ON k.id = l.key_id
		WHERE l.account_id = ? AND l.mode = ? AND l.public_id = ?`, accountID, string(mode), publicID))
}

func scanLead(s scanner) (Lead, error) {
	var l Lead
	var mode string
	var received int64
	err := s.Scan(&l.ID, &l.PublicID, &l.AccountID, &l.KeyID, &l.KeyName, &mode, &l.FirstName, &l.LastName, &l.Email,
		&l.Phone, &l.VIN, &l.Year, &l.Make, &l.Model, &l.StockNumber, &l.Message, &l.Source, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return Lead{}, ErrNotFound
	}
	if err != nil {
		return Lead{}, fmt.Errorf("db: scan lead: %w", err)
	}
	l.Mode, l.ReceivedAt = keys.Mode(mode), time.Unix(received, 0).UTC()
	return l, nil
}

// query completes selectFrom, a SELECT … FROM of a table aliased t, into the
// filter's page of an account's rows, and returns it with its arguments.
func (f PageFilter) query(selectFrom, t string, accountID int64) (string, []any) {
	q := selectFrom + ` WHERE ` + t + `.account_id = ?`
	args := []any{accountID}
	if f.Mode != "" {
		q += ` AND ` + t + `.mode = ?`
		args = append(args, string(f.Mode))
	}
	if f.BeforeID > 0 {
		q += ` AND ` + t + `.id < ?`
		args = append(args, f.BeforeID)
	}
	q += ` ORDER BY ` + t + `.id DESC LIMIT ?`
	args = append(args, f.Limit)
	return q, args
}

// queryAll runs a query and scans every row with scan; what names the query
// in errors, such as "leads".
func queryAll[T any](ctx context.Context, read querier, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	return out, nil
}

// nullIfEmpty stores an empty string as NULL.
func nullIfEmpty(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// nullIfZero stores 0 as NULL.
func nullIfZero(n int) sql.NullInt64 { return sql.NullInt64{Int64: int64(n), Valid: n != 0} }
