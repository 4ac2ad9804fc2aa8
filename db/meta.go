package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Meta returns a value of the meta table, or ErrNotFound.
func (d *DB) Meta(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := d.write.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: meta %s: %w", name, err)
	}
	return v, nil
}

// SetMeta stores a value in the meta table.
func (d *DB) SetMeta(ctx context.Context, name string, value []byte) error {
	_, err := d.write.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("db: set meta %s: %w", name, err)
	}
	return nil
}

// Ping reads a table through the pool requests use, so it fails when the
// database cannot be reached or read.
func (d *DB) Ping(ctx context.Context) error {
	var n int
	if err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM meta`).Scan(&n); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	return nil
}
