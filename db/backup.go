package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
)

// ErrBackupPostgres is returned by Backup on PostgreSQL, which has its own tools.
var ErrBackupPostgres = errors.New("db: keydesk backup copies a SQLite database; on PostgreSQL use pg_dump")

// Backup writes a consistent copy of the SQLite database to path, an empty
// or missing file, while other connections and processes go on writing:
// VACUUM INTO reads one snapshot, so the copy holds every transaction
// committed before it began and none after. It runs on the write
// connection (the readers are query-only) but takes no write lock.
func (d *DB) Backup(ctx context.Context, path string) error {
	if d.backend != SQLite {
		return ErrBackupPostgres
	}
	if _, err := d.write.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("db: backup to %s: %w", path, err)
	}
	return nil
}

// CheckIntegrity opens the SQLite file at path read-only and runs SQLite's
// integrity check on it.
func CheckIntegrity(ctx context.Context, path string) error {
	conn, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return fmt.Errorf("db: open %s: %w", path, err)
	}
	defer conn.Close()
	var result string
	if err := conn.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&result); err != nil {
		return fmt.Errorf("db: integrity check of %s: %w", path, err)
	}
	if result != "ok" {
		return fmt.Errorf("db: integrity check of %s: %s", path, result)
	}
	return nil
}
