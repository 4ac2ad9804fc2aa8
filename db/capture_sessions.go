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

// CaptureSettings are the capture options a session was made with: the key's
// defaults, or the overrides of the request that made it.
type CaptureSettings struct {
	Theme                string
	PIIMask              bool
	RedirectURL          string
	SkipInterior         bool
	SkipOdometer         bool
	IncludeDisclosures   bool
	IncludeAnnouncements bool
	WearAndTear          bool
}

// CaptureSession is a vehicle-capture session made through the API.
type CaptureSession struct {
	ID            int64 // internal order, for paging
	PublicID      string
	AccountID     int64
	KeyID         int64
	KeyName       string
	Mode          keys.Mode
	CustomerName  string
	CustomerEmail string
	CustomerPhone string
	VIN           string
	Year          int
	Make          string
	Model         string
	StockNumber   string
	Settings      CaptureSettings
	CaptureURL    string
	CaptureSMS    string // rendered from the key's template when the session was made
	CreatedAt     time.Time
	ExpiresAt     time.Time

	// IdempotencyKey and RequestHash make a retried POST answer the first session.
	IdempotencyKey string
	RequestHash    []byte
}

// Expired reports whether the session can no longer be captured at now.
func (s *CaptureSession) Expired(now time.Time) bool { return !now.Before(s.ExpiresAt) }

const captureSessionColumns = `s.id, s.public_id, s.account_id, s.key_id, k.name, s.mode,
	s.customer_name, s.customer_email, s.customer_phone, s.vin, coalesce(s.year, 0), s.make, s.model, s.stock_number,
	s.theme, s.pii_mask, s.redirect_url, s.skip_interior, s.skip_odometer, s.include_disclosures,
	s.include_announcements, s.wear_and_tear, s.capture_url, s.capture_sms, s.request_hash, s.created_at, s.expires_at`

const captureSessionFrom = ` FROM capture_sessions s JOIN api_keys k ON k.id = s.key_id `

// CreateCaptureSession stores a session through the group-commit writer and
// returns it as stored, once committed. A key's second session with the same
// idempotency key stores nothing and returns the first one with replayed set,
// or ErrIdempotencyMismatch when the request differs.
func (d *DB) CreateCaptureSession(ctx context.Context, s CaptureSession) (stored CaptureSession, replayed bool, err error) {
	s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC().Truncate(time.Second), s.ExpiresAt.UTC().Truncate(time.Second)
	op := &captureInsert{session: s, done: make(chan struct{})}
	if err := d.commit(ctx, op, op.done); err != nil {
		return CaptureSession{}, false, err
	}
	if op.err != nil {
		return CaptureSession{}, false, op.err
	}
	return op.result, op.replayed, nil
}

var captureSessionsInsert = newInsertTable("capture_sessions", "public_id", "account_id", "key_id", "mode",
	"customer_name", "customer_email", "customer_phone", "vin", "year", "make", "model", "stock_number",
	"theme", "pii_mask", "redirect_url", "skip_interior", "skip_odometer", "include_disclosures", "include_announcements",
	"wear_and_tear", "capture_url", "capture_sms", "idempotency_key", "request_hash", "created_at", "expires_at")

type captureInsert struct {
	session  CaptureSession
	result   CaptureSession
	replayed bool
	err      error
	done     chan struct{}
}

func (o *captureInsert) table() *insertTable { return &captureSessionsInsert }

func (o *captureInsert) values() []any {
	s, st := &o.session, o.session.Settings
	return []any{s.PublicID, s.AccountID, s.KeyID, string(s.Mode),
		s.CustomerName, s.CustomerEmail, s.CustomerPhone, s.VIN, nullIfZero(s.Year), s.Make, s.Model, s.StockNumber,
		st.Theme, st.PIIMask, st.RedirectURL, st.SkipInterior, st.SkipOdometer, st.IncludeDisclosures,
		st.IncludeAnnouncements, st.WearAndTear, s.CaptureURL, s.CaptureSMS, nullIfEmpty(s.IdempotencyKey), s.RequestHash,
		s.CreatedAt.Unix(), s.ExpiresAt.Unix()}
}

func (o *captureInsert) publicID() string { return o.session.PublicID }

func (o *captureInsert) stored(id int64) {
	o.result, o.replayed, o.err = o.session, false, nil
	o.result.ID = id
}

func (o *captureInsert) replay(ctx context.Context, q querier) error {
	s := &o.session
	first, err := scanCaptureSession(q.QueryRowContext(ctx, `SELECT `+captureSessionColumns+captureSessionFrom+
		`WHERE s.account_id = ? AND s.key_id = ? AND s.idempotency_key = ?`, s.AccountID, s.KeyID, s.IdempotencyKey))
	if err != nil {
		return fmt.Errorf("db: replayed capture session: %w", err)
	}
	if !bytes.Equal(first.RequestHash, s.RequestHash) {
		o.result, o.replayed, o.err = CaptureSession{}, false, ErrIdempotencyMismatch
		return o.err
	}
	o.result, o.replayed, o.err = first, true, nil
	return nil
}

func (o *captureInsert) fail(err error) { o.result, o.replayed, o.err = CaptureSession{}, false, err }

func (o *captureInsert) waited() bool { return true }

func (o *captureInsert) finish(err error) {
	if err != nil {
		o.err = err
	}
	close(o.done)
}

// CaptureSessionFilter selects an account's capture sessions for a page.
type CaptureSessionFilter = PageFilter

// CaptureSessions lists an account's capture sessions newest first, with the
// name of the key that made each.
func (d *DB) CaptureSessions(ctx context.Context, accountID int64, f CaptureSessionFilter) ([]CaptureSession, error) {
	q, args := f.query(`SELECT `+captureSessionColumns+captureSessionFrom, "s", accountID)
	return queryAll(ctx, d.read, "capture sessions", scanCaptureSession, q, args...)
}

// CaptureSessionByPublicID returns one capture session of an account in one
// mode; any other is ErrNotFound.
func (d *DB) CaptureSessionByPublicID(ctx context.Context, accountID int64, mode keys.Mode, publicID string) (CaptureSession, error) {
	return scanCaptureSession(d.read.QueryRowContext(ctx, `SELECT `+captureSessionColumns+captureSessionFrom+
		`WHERE s.account_id = ? AND s.mode = ? AND s.public_id = ?`, accountID, string(mode), publicID))
}

func scanCaptureSession(sc scanner) (CaptureSession, error) {
	var s CaptureSession
	var mode string
	var created, expires int64
	st := &s.Settings
	err := sc.Scan(&s.ID, &s.PublicID, &s.AccountID, &s.KeyID, &s.KeyName, &mode,
		&s.CustomerName, &s.CustomerEmail, &s.CustomerPhone, &s.VIN, &s.Year, &s.Make, &s.Model, &s.StockNumber,
		&st.Theme, &st.PIIMask, &st.RedirectURL, &st.SkipInterior, &st.SkipOdometer, &st.IncludeDisclosures,
		&st.IncludeAnnouncements, &st.WearAndTear, &s.CaptureURL, &s.CaptureSMS, &s.RequestHash, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return CaptureSession{}, ErrNotFound
	}
	if err != nil {
		return CaptureSession{}, fmt.Errorf("db: scan capture session: %w", err)
	}
	s.Mode = keys.Mode(mode)
	s.CreatedAt, s.ExpiresAt = time.Unix(created, 0).UTC(), time.Unix(expires, 0).UTC()
	return s, nil
}
