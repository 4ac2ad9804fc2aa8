package db

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// ThrottleBucket is one limit on sign-in attempts: at most Limit attempts per
// fixed Window under Key, and, once FreeFailures attempts have failed, a wait
// after each further failure that doubles from one second.
type ThrottleBucket struct {
	Key          string
	Limit        int
	Window       time.Duration
	FreeFailures int
}

// ReserveSignIn takes one attempt from every bucket at once, before the
// password is checked, so concurrent attempts cannot all pass a check made
// before any of them failed. When a bucket is spent nothing is taken and
// wait says how long until the attempt may be made.
func (d *DB) ReserveSignIn(ctx context.Context, buckets []ThrottleBucket, now time.Time) (ok bool, wait time.Duration, err error) {
	// The same order everywhere, so two transactions never wait on each other's rows.
	buckets = slices.Clone(buckets)
	slices.SortFunc(buckets, func(a, b ThrottleBucket) int { return cmp.Compare(a.Key, b.Key) })
	var refused *ThrottleBucket
	err = d.inTx(ctx, func(tx *Tx) error {
		for i := range buckets {
			b := &buckets[i]
			cutoff := now.Add(-b.Window).Unix()
			var attempts int
			err := tx.QueryRowContext(ctx, `INSERT INTO login_throttle (bucket, window_start, attempts, failures, last_failure)
				VALUES (?, ?, 1, 0, 0)
				ON CONFLICT (bucket) DO UPDATE SET
					window_start = CASE WHEN login_throttle.window_start <= ? THEN excluded.window_start ELSE login_throttle.window_start END,
					attempts = CASE WHEN login_throttle.window_start <= ? THEN 1 ELSE login_throttle.attempts + 1 END,
					failures = CASE WHEN login_throttle.window_start <= ? THEN 0 ELSE login_throttle.failures END
				WHERE login_throttle.window_start <= ?
					OR (login_throttle.attempts < ? AND login_throttle.last_failure + `+backoffSQL+` <= ?)
				RETURNING attempts`,
				b.Key, now.Unix(), cutoff, cutoff, cutoff, cutoff, b.Limit, b.FreeFailures, b.FreeFailures, now.Unix(),
			).Scan(&attempts)
			if err == sql.ErrNoRows {
				refused = b
				return errRefused
			}
			if err != nil {
				return fmt.Errorf("db: reserve sign-in: %w", err)
			}
		}
		return nil
	})
	if refused == nil {
		return err == nil, 0, err
	}
	wait, err = d.throttleWait(ctx, *refused, now)
	return false, wait, err
}

// backoffSQL is the wait in seconds after the last failure: none for the
// first FreeFailures failures, then 1, 2, 4 … seconds (parameters: free, free).
const backoffSQL = `(CASE WHEN login_throttle.failures < ? THEN 0 ELSE (CAST(1 AS BIGINT) << CAST(login_throttle.failures - ? AS INTEGER)) END)`

var errRefused = fmt.Errorf("db: throttled")

func (d *DB) throttleWait(ctx context.Context, b ThrottleBucket, now time.Time) (time.Duration, error) {
	var start, attempts, failures, last int64
	err := d.read.QueryRowContext(ctx, `SELECT window_start, attempts, failures, last_failure FROM login_throttle WHERE bucket = ?`,
		b.Key).Scan(&start, &attempts, &failures, &last)
	if err != nil {
		return 0, fmt.Errorf("db: sign-in throttle: %w", err)
	}
	if attempts >= int64(b.Limit) {
		return time.Unix(start, 0).Add(b.Window).Sub(now), nil
	}
	backoff := int64(0)
	if failures >= int64(b.FreeFailures) {
		backoff = 1 << (failures - int64(b.FreeFailures))
	}
	return time.Unix(last+backoff, 0).Sub(now), nil
}

// SignInFailed records that a reserved attempt failed: it stays counted and
// starts the bucket's wait.
func (d *DB) SignInFailed(ctx context.Context, buckets []ThrottleBucket, now time.Time) error {
	return d.inTx(ctx, func(tx *Tx) error {
		for _, b := range buckets {
			if _, err := tx.ExecContext(ctx, `UPDATE login_throttle SET failures = failures + 1, last_failure = ? WHERE bucket = ?`,
				now.Unix(), b.Key); err != nil {
				return fmt.Errorf("db: sign-in failed: %w", err)
			}
		}
		return nil
	})
}

// ReleaseSignIn gives a reserved attempt back (it succeeded, or was never
// made); the buckets in forget are cleared altogether.
func (d *DB) ReleaseSignIn(ctx context.Context, buckets, forget []ThrottleBucket) error {
	return d.inTx(ctx, func(tx *Tx) error {
		for _, b := range buckets {
			if _, err := tx.ExecContext(ctx, `UPDATE login_throttle
				SET attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE bucket = ?`, b.Key); err != nil {
				return fmt.Errorf("db: release sign-in: %w", err)
			}
		}
		for _, b := range forget {
			if _, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE bucket = ?`, b.Key); err != nil {
				return fmt.Errorf("db: release sign-in: %w", err)
			}
		}
		return nil
	})
}

// SweepSignInThrottle drops buckets whose window ended before cutoff.
func (d *DB) SweepSignInThrottle(ctx context.Context, cutoff time.Time) error {
	return d.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE window_start < ? AND last_failure < ?`,
			cutoff.Unix(), cutoff.Unix()); err != nil {
			return fmt.Errorf("db: sweep sign-in throttle: %w", err)
		}
		return nil
	})
}
