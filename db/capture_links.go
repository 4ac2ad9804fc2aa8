package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"keydesk/keys"
)

// CaptureLink is what a customer's capture link shows: the dealership, the
// vehicle and what the capture asks for, never the customer's contact details.
type CaptureLink struct {
	DealerName string
	Mode       keys.Mode
	Year       int
	Make       string
	Model      string
	Settings   CaptureSettings
	ExpiresAt  time.Time
}

// CaptureLinkByPublicID finds a capture session by the unguessable id in its
// link; the id itself is the customer's permission to see this much.
func (d *DB) CaptureLinkByPublicID(ctx context.Context, publicID string) (CaptureLink, error) {
	var l CaptureLink
	var mode string
	var year sql.NullInt64
	var expires int64
	s := &l.Settings
	err := d.read.QueryRowContext(ctx, `SELECT a.name, s.mode, s.year, s.make, s.model, s.theme, s.pii_mask,
		s.redirect_url, s.skip_interior, s.skip_odometer, s.include_disclosures, s.include_announcements,
		s.wear_and_tear, s.expires_at
		FROM capture_sessions s JOIN accounts a ON a.id = s.account_id WHERE s.public_id = ?`, publicID).
		Scan(&l.DealerName, &mode, &year, &l.Make, &l.Model, &s.Theme, &s.PIIMask, &s.RedirectURL, &s.SkipInterior,
			&s.SkipOdometer, &s.IncludeDisclosures, &s.IncludeAnnouncements, &s.WearAndTear, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return CaptureLink{}, ErrNotFound
	}
	if err != nil {
		return CaptureLink{}, fmt.Errorf("db: capture link: %w", err)
	}
	l.Mode, l.Year, l.ExpiresAt = keys.Mode(mode), int(year.Int64), time.Unix(expires, 0).UTC()
	return l, nil
}
