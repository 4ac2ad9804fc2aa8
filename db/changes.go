package db

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// Kinds of change in the change log.
const (
	// ChangeKey: a key was created, edited, revoked, rolled or had its tokens ended; reload it.
	ChangeKey = "key"
	// ChangeToken: one access token was revoked on its own.
	ChangeToken = "token"
)

// changeLogKeep is how long applied changes stay in the log: far longer than
// any instance may lag before it stops serving.
const changeLogKeep = time.Hour

// Change is one entry of the change log.
type Change struct {
	Seq       int64
	Kind      string
	AccountID int64
	KeyID     int64
	TokenID   []byte
	Until     time.Time // for a revoked token: when it would have expired
	CreatedAt time.Time
}

// changeTx is a write transaction that may append to the change log; it
// remembers the last sequence number it wrote.
type changeTx struct {
	*Tx
	backend Backend
	seq     int64
}

// inChangeTx runs fn in a write transaction and, once it commits with a
// change written, hands the change's sequence number to OnChange.
func (d *DB) inChangeTx(ctx context.Context, fn func(tx *changeTx) error) error {
	var seq int64
	err := d.inTx(ctx, func(tx *Tx) error {
		ct := &changeTx{Tx: tx, backend: d.backend}
		err := fn(ct)
		seq = ct.seq
		return err
	})
	if err != nil || seq == 0 || d.OnChange == nil {
		return err
	}
	return d.OnChange(ctx, seq)
}

// changeLogLock is the PostgreSQL advisory lock that serialises writers of
// the change log, so sequence numbers become visible in the order they are
// taken and a reader that has applied seq never misses a smaller one.
// (SQLite has one writer anyway.)
const changeLogLock = 0x6b6465736b636c67 // "kdeskclg"

// logChange appends c to the change log inside tx and, on PostgreSQL,
// announces it to every listening instance when tx commits.
func logChange(ctx context.Context, tx *changeTx, c Change) error {
	if tx.backend == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(changeLogLock)); err != nil {
			return fmt.Errorf("db: lock change log: %w", err)
		}
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO changes (kind, account_id, key_id, token_id, until, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING seq`,
		c.Kind, c.AccountID, nullID(c.KeyID), c.TokenID, nullUnix(c.Until), c.CreatedAt.Unix()).Scan(&tx.seq)
	if err != nil {
		return fmt.Errorf("db: log change: %w", err)
	}
	if tx.backend == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify(?, ?)`, changesChannel, strconv.FormatInt(tx.seq, 10)); err != nil {
			return fmt.Errorf("db: announce change: %w", err)
		}
	}
	return nil
}

func keyChanged(ctx context.Context, tx *changeTx, accountID, keyID int64, now time.Time) error {
	return logChange(ctx, tx, Change{Kind: ChangeKey, AccountID: accountID, KeyID: keyID, CreatedAt: now})
}

// ChangesSince returns up to limit changes after seq, oldest first.
func (d *DB) ChangesSince(ctx context.Context, seq int64, limit int) ([]Change, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT seq, kind, account_id, coalesce(key_id, 0), token_id, until, created_at
		FROM changes WHERE seq > ? ORDER BY seq LIMIT ?`, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("db: changes: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var until sql.NullInt64
		var created int64
		if err := rows.Scan(&c.Seq, &c.Kind, &c.AccountID, &c.KeyID, &c.TokenID, &until, &created); err != nil {
			return nil, fmt.Errorf("db: changes: %w", err)
		}
		c.Until, c.CreatedAt = unixOrZero(until), time.Unix(created, 0).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// LastChange returns the newest sequence number in the change log (0 when empty).
func (d *DB) LastChange(ctx context.Context) (int64, error) {
	var seq int64
	if err := d.read.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("db: last change: %w", err)
	}
	return seq, nil
}

// Instance is one keydesk process following the change log.
type Instance struct {
	ID         string
	Addr       string
	AppliedSeq int64
	StartedAt  time.Time
	Heartbeat  time.Time
}

// Heartbeat records that an instance is alive and has applied the log up to its AppliedSeq.
func (d *DB) Heartbeat(ctx context.Context, in Instance) error {
	_, err := d.write.ExecContext(ctx, `INSERT INTO instances (id, addr, applied_seq, started_at, heartbeat_ms)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET applied_seq = excluded.applied_seq, heartbeat_ms = excluded.heartbeat_ms`,
		in.ID, in.Addr, in.AppliedSeq, in.StartedAt.Unix(), in.Heartbeat.UnixMilli())
	if err != nil {
		return fmt.Errorf("db: heartbeat: %w", err)
	}
	return nil
}

// LeaveInstances removes an instance that is stopping, so nobody waits for it.
func (d *DB) LeaveInstances(ctx context.Context, id string) error {
	if _, err := d.write.ExecContext(ctx, `DELETE FROM instances WHERE id = ?`, id); err != nil {
		return fmt.Errorf("db: leave instances: %w", err)
	}
	return nil
}

// LaggingInstances counts the instances alive since aliveSince that have
// not applied the change log up to seq.
func (d *DB) LaggingInstances(ctx context.Context, seq int64, aliveSince time.Time) (int, error) {
	var n int
	err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM instances WHERE heartbeat_ms >= ? AND applied_seq < ?`,
		aliveSince.UnixMilli(), seq).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: lagging instances: %w", err)
	}
	return n, nil
}

// SweepChanges drops changes and instances older than the change log keeps
// them, and revoked tokens that have expired.
func (d *DB) SweepChanges(ctx context.Context, now time.Time) error {
	cutoff := now.Add(-changeLogKeep)
	return d.inTx(ctx, func(tx *Tx) error {
		for _, q := range []struct {
			sql string
			arg int64
		}{
			// The newest change stays, so sequence numbers never restart.
			{`DELETE FROM changes WHERE created_at < ? AND seq < (SELECT max(seq) FROM changes)`, cutoff.Unix()},
			{`DELETE FROM instances WHERE heartbeat_ms < ?`, cutoff.UnixMilli()},
			{`DELETE FROM revoked_tokens WHERE expires_at < ?`, now.Unix()},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.arg); err != nil {
				return fmt.Errorf("db: sweep changes: %w", err)
			}
		}
		return sweepIPReports(ctx, tx, now)
	})
}

func nullUnix(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.Unix(), Valid: !t.IsZero()}
}
