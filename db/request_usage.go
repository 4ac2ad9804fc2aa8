package db

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HourCount is how many requests a key (or, for key 0, the whole account)
// had in one hour: successes, and failures of every outcome together.
type HourCount struct {
	Hour       time.Time
	OK, Failed int64
}

// RequestHours returns the hourly counts of a key of the account (keyID 0:
// of every key of the account) from the hour of from to the hour of to,
// oldest first: one row an hour (request_hour_totals), so a month of a busy
// key is 720 rows however many routes and outcomes it saw. The rows come
// joined into one text ("hour ok failed" each): a row each cost more to
// carry from the driver than to read.
func (d *DB) RequestHours(ctx context.Context, accountID, keyID int64, from, to time.Time) ([]HourCount, error) {
	q := `SELECT coalesce(group_concat(hour || ' ' || ok || ' ' || failed, ' '), '') FROM (SELECT hour, ok, failed
		FROM request_hour_totals WHERE account_id = ? AND key_id = ? AND hour >= ? AND hour <= ? ORDER BY hour) AS t`
	if d.backend == Postgres {
		q = `SELECT coalesce(string_agg(hour || ' ' || ok || ' ' || failed, ' ' ORDER BY hour), '')
			FROM request_hour_totals WHERE account_id = ? AND key_id = ? AND hour >= ? AND hour <= ?`
	}
	var joined string
	if err := d.read.QueryRowContext(ctx, q, accountID, keyID, from.Unix()/3600, to.Unix()/3600).Scan(&joined); err != nil {
		return nil, fmt.Errorf("db: request hours: %w", err)
	}
	fields := strings.Fields(joined)
	if len(fields)%3 != 0 {
		return nil, fmt.Errorf("db: request hours: %d numbers, not triples", len(fields))
	}
	out := make([]HourCount, 0, len(fields)/3)
	for i := 0; i < len(fields); i += 3 {
		hour, err1 := strconv.ParseInt(fields[i], 10, 64)
		ok, err2 := strconv.ParseInt(fields[i+1], 10, 64)
		failed, err3 := strconv.ParseInt(fields[i+2], 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("db: request hours: %w", err)
		}
		out = append(out, HourCount{Hour: time.Unix(hour*3600, 0).UTC(), OK: ok, Failed: failed})
	}
	slices.SortFunc(out, func(a, b HourCount) int { return a.Hour.Compare(b.Hour) })
	return out, nil
}

// failureCountsSQL writes "outcome <> 1" (1 is ok) out instead of binding
// it: only then may the planner use the partial index of failures.
const failureCountsSQL = `SELECT outcome, sum(n) FROM request_hours
	WHERE account_id = ? AND key_id = ? AND hour >= ? AND hour <= ? AND outcome <> 1 GROUP BY outcome`

// FailureCounts counts a key's failed requests by outcome over the hours
// from from to to: up to a day from the hourly rows of failures, further
// back by whole UTC days (request_failure_days), from the start of from's day.
func (d *DB) FailureCounts(ctx context.Context, accountID, keyID int64, from, to time.Time) (map[string]int64, error) {
	q, args := failureCountsSQL, []any{accountID, keyID, from.Unix() / 3600, to.Unix() / 3600}
	if to.Sub(from) > exactSpan {
		q = `SELECT outcome, sum(n) FROM request_failure_days
			WHERE account_id = ? AND key_id = ? AND day >= ? AND day <= ? GROUP BY outcome`
		args = []any{accountID, keyID, from.Unix() / 86400, to.Unix() / 86400}
	}
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: failure counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var outcome int
		var n int64
		if err := rows.Scan(&outcome, &n); err != nil {
			return nil, fmt.Errorf("db: failure counts: %w", err)
		}
		out[nameOf(requestOutcomes, outcome)] += n
	}
	return out, rows.Err()
}

// KeyTraffic is how many requests one key had over a span: successes and
// failures of every outcome together.
type KeyTraffic struct {
	KeyID      int64
	Name       string
	OK, Failed int64
}

// FailingKeys lists the account's active keys whose requests since from
// number at least minRequests and failed at least minPercent of the time,
// most failures first, at most limit: the landing page's Key health. The
// hourly totals are read along their (account, key, hour) key, a key at a
// time from the account's active keys, so the span's rows are all it reads:
// on SQLite a CROSS JOIN keeps that order (left to choose, SQLite walked
// every hour of the account, 50 ms at 1,000 keys; this way about 10 ms).
func (d *DB) FailingKeys(ctx context.Context, accountID int64, from time.Time, minRequests, minPercent int64, limit int) ([]KeyTraffic, error) {
	rows, err := d.read.QueryContext(ctx, failingKeysSQL(d.backend),
		from.Unix()/3600, accountID, minRequests, minPercent, limit)
	if err != nil {
		return nil, fmt.Errorf("db: failing keys: %w", err)
	}
	defer rows.Close()
	var out []KeyTraffic
	for rows.Next() {
		var k KeyTraffic
		if err := rows.Scan(&k.KeyID, &k.Name, &k.OK, &k.Failed); err != nil {
			return nil, fmt.Errorf("db: failing keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// failingKeysSQL is FailingKeys' query on backend b.
func failingKeysSQL(b Backend) string {
	join := "CROSS JOIN"
	if b == Postgres {
		join = "JOIN"
	}
	return `SELECT k.id, k.name, sum(t.ok), sum(t.failed)
		FROM api_keys k ` + join + ` request_hour_totals t ON t.account_id = k.account_id AND t.key_id = k.id AND t.hour >= ?
		WHERE k.account_id = ? AND k.revoked_at IS NULL
		GROUP BY k.id, k.name
		HAVING sum(t.ok) + sum(t.failed) >= ? AND 100 * sum(t.failed) >= ? * (sum(t.ok) + sum(t.failed))
		ORDER BY sum(t.failed) DESC, k.id DESC LIMIT ?`
}

// ReadsAndWrites counts a key's successful requests that took data out and
// that pushed data in, over the hours from from on: summed in SQL over one
// row an hour, so Key health reads a few rows however busy the key was.
func (d *DB) ReadsAndWrites(ctx context.Context, accountID, keyID int64, from time.Time) (reads, writes int64, err error) {
	err = d.read.QueryRowContext(ctx, `SELECT coalesce(sum(reads), 0), coalesce(sum(writes), 0) FROM request_hour_totals
		WHERE account_id = ? AND key_id = ? AND hour >= ?`, accountID, keyID, from.Unix()/3600).Scan(&reads, &writes)
	if err != nil {
		return 0, 0, fmt.Errorf("db: reads and writes: %w", err)
	}
	return reads, writes, nil
}

// RequestCursor marks a place in a key's log, newest first: the zero cursor
// is the newest request.
type RequestCursor struct{ At, ID int64 }

// RequestFilter chooses a page of a key's logged requests.
type RequestFilter struct {
	// Outcome keeps only one outcome; "failed" keeps every outcome but ok.
	Outcome string
	Before  RequestCursor
	Limit   int
}

// OutcomeFailed filters for every outcome that is not ok.
const OutcomeFailed = "failed"

// AddrCount is how many requests came from one client address, and how many failed.
type AddrCount struct {
	Addr      netip.Addr
	N, Failed int64
}

// RequestFailure is a failed signed or token request with what the client sent.
type RequestFailure struct {
	ID      int64
	At      time.Time
	Route   string
	Outcome string
	Sent    SentCredentials
}

// RequestFailures returns a key's most recent failed signed and token requests.
func (d *DB) RequestFailures(ctx context.Context, accountID, keyID int64, limit int) ([]RequestFailure, error) {
	return queryAll(ctx, d.read, "request failures", func(s scanner) (RequestFailure, error) {
		var f RequestFailure
		var at int64
		var route, outcome int
		err := s.Scan(&f.ID, &at, &route, &outcome, &f.Sent.Timestamp, &f.Sent.Token, &f.Sent.Version, &f.Sent.SecretPrint,
			&f.Sent.Target, &f.Sent.BodySum)
		f.At, f.Route, f.Outcome = time.Unix(at, 0).UTC(), nameOf(requestRoutes, route), nameOf(requestOutcomes, outcome)
		return f, err
	}, `SELECT id, at, route, outcome, sent_timestamp, sent_token, sent_version, secret_print, sent_target, body_sum
		FROM request_failures WHERE key_id = ? AND account_id = ? ORDER BY at DESC, id DESC LIMIT ?`, keyID, accountID, limit)
}

// AccountAPIKeys lists every key of an account, of both types, revoked ones included.
func (d *DB) AccountAPIKeys(ctx context.Context, accountID int64) ([]APIKey, error) {
	var out []APIKey
	for _, t := range []KeyType{DigitalRequests, Integration} {
		ks, err := d.APIKeys(ctx, accountID, t)
		if err != nil {
			return nil, err
		}
		out = append(out, ks...)
	}
	return out, nil
}
