package db

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// IPReportDays is how long addresses seen outside a Report-only allowlist are kept.
const IPReportDays = 7

// maxPendingIPReports bounds the addresses held between flushes; more are dropped.
const maxPendingIPReports = 10_000

// IPReport is an address that called a Report-only key from outside its allowlist.
type IPReport struct {
	Addr                string
	FirstSeen, LastSeen time.Time
	Count               int64
}

type ipReportKey struct {
	keyID int64
	addr  netip.Addr
}

type pendingIPReport struct{ first, last, count int64 }

// NoteOutsideIP records a call of a key from an address outside its
// Report-only allowlist; it reaches the table at the next flush, with the
// last-used times. It never blocks on the database.
func (d *DB) NoteOutsideIP(keyID int64, addr netip.Addr, at time.Time) {
	k, t := ipReportKey{keyID, addr}, at.Unix()
	d.ipReportsMu.Lock()
	defer d.ipReportsMu.Unlock()
	if p := d.ipReports[k]; p != nil {
		p.last = max(p.last, t)
		p.count++
		return
	}
	if d.ipReports == nil {
		d.ipReports = map[ipReportKey]*pendingIPReport{}
	}
	if len(d.ipReports) < maxPendingIPReports {
		d.ipReports[k] = &pendingIPReport{t, t, 1}
	}
}

// flushIPReports writes the noted outside addresses in one transaction.
func (d *DB) flushIPReports(ctx context.Context) error {
	d.ipReportsMu.Lock()
	pending := d.ipReports
	d.ipReports = nil
	d.ipReportsMu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	return d.inTx(ctx, func(tx *Tx) error {
		for k, p := range pending {
			if _, err := tx.ExecContext(ctx, `INSERT INTO key_ip_reports (key_id, addr, first_seen, last_seen, count)
				VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (key_id, addr) DO UPDATE SET
					first_seen = CASE WHEN excluded.first_seen < key_ip_reports.first_seen THEN excluded.first_seen ELSE key_ip_reports.first_seen END,
					last_seen = CASE WHEN excluded.last_seen > key_ip_reports.last_seen THEN excluded.last_seen ELSE key_ip_reports.last_seen END,
					count = key_ip_reports.count + excluded.count`,
				k.keyID, k.addr.String(), p.first, p.last, p.count); err != nil {
				return fmt.Errorf("db: flush IP reports: %w", err)
			}
		}
		return nil
	})
}

// IPReports lists the addresses that called a key of the account from
// outside its allowlist since since, the most recent first (at most 100).
func (d *DB) IPReports(ctx context.Context, accountID, keyID int64, since time.Time) ([]IPReport, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT r.addr, r.first_seen, r.last_seen, r.count
		FROM key_ip_reports r JOIN api_keys k ON k.id = r.key_id
		WHERE k.account_id = ? AND r.key_id = ? AND r.last_seen >= ?
		ORDER BY r.last_seen DESC, r.addr LIMIT 100`, accountID, keyID, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("db: IP reports: %w", err)
	}
	defer rows.Close()
	var out []IPReport
	for rows.Next() {
		var r IPReport
		var first, last int64
		if err := rows.Scan(&r.Addr, &first, &last, &r.Count); err != nil {
			return nil, fmt.Errorf("db: IP reports: %w", err)
		}
		r.FirstSeen, r.LastSeen = time.Unix(first, 0).UTC(), time.Unix(last, 0).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// sweepIPReports drops addresses not seen for IPReportDays.
func sweepIPReports(ctx context.Context, tx *Tx, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM key_ip_reports WHERE last_seen < ?`,
		now.AddDate(0, 0, -IPReportDays).Unix()); err != nil {
		return fmt.Errorf("db: sweep IP reports: %w", err)
	}
	return nil
}

// LiveInstances counts the instances alive since aliveSince (at least this one, once it has beaten).
func (d *DB) LiveInstances(ctx context.Context, aliveSince time.Time) (int, error) {
	var n int
	if err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM instances WHERE heartbeat_ms >= ?`,
		aliveSince.UnixMilli()).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: live instances: %w", err)
	}
	return n, nil
}
