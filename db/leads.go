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
	if err := d.commit(ctx, op, op.done); err != nil {
		return LeadReceipt{}, err
	}
	return op.receipt, op.err
}

var leadsInsert = newInsertTable("leads", "public_id", "account_id", "key_id", "mode", "first_name", "last_name",
	"email", "phone", "vin", "year", "make", "model", "stock_number", "message", "source", "idempotency_key",
	"request_hash", "received_at")

type leadInsert struct {
	lead    Lead
	receipt LeadReceipt
	err     error
	done    chan struct{}
}

func (o *leadInsert) table() *insertTable { return &leadsInsert }

func (o *leadInsert) values() []any {
	l := &o.lead
	return []any{l.PublicID, l.AccountID, l.KeyID, string(l.Mode), l.FirstName, l.LastName, l.Email, l.Phone, l.VIN,
		nullIfZero(l.Year), l.Make, l.Model, l.StockNumber, l.Message, l.Source, nullIfEmpty(l.IdempotencyKey),
		l.RequestHash, l.ReceivedAt.Unix()}
}

func (o *leadInsert) publicID() string { return o.lead.PublicID }

func (o *leadInsert) stored(int64) {
	o.receipt, o.err = LeadReceipt{PublicID: o.lead.PublicID, ReceivedAt: o.lead.ReceivedAt.UTC().Truncate(time.Second)}, nil
}

func (o *leadInsert) replay(ctx context.Context, tx *Tx) error {
	var r LeadReceipt
	var received int64
	var hash []byte
	err := tx.QueryRowContext(ctx, `SELECT public_id, received_at, request_hash FROM leads WHERE key_id = ? AND idempotency_key = ?`,
		o.lead.KeyID, o.lead.IdempotencyKey).Scan(&r.PublicID, &received, &hash)
	if err != nil {
		return fmt.Errorf("db: replayed lead: %w", err)
	}
	if !bytes.Equal(hash, o.lead.RequestHash) {
		o.receipt, o.err = LeadReceipt{}, ErrIdempotencyMismatch
		return o.err
	}
	r.ReceivedAt, r.Replayed = time.Unix(received, 0).UTC(), true
	o.receipt, o.err = r, nil
	return nil
}

func (o *leadInsert) fail(err error) { o.receipt, o.err = LeadReceipt{}, err }

func (o *leadInsert) waited() bool { return true }

func (o *leadInsert) finish(err error) {
	if err != nil {
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
