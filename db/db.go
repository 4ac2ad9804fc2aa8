// Package db is keydesk's storage: SQLite opened with the right pragmas,
// versioned migrations, and one file of queries per table.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when a row does not exist or belongs to another account.
var ErrNotFound = errors.New("db: not found")

// ErrDuplicate is returned when a unique value (a key name, an email, a slug) is taken.
var ErrDuplicate = errors.New("db: already exists")

// DB is the store: a single-connection pool for writes beside a pool for reads.
type DB struct {
	write *sql.DB
	read  *sql.DB

	keyCache sync.Map      // public API key → *APIKey, dropped whenever the key changes
	keyGen   atomic.Uint64 // bumped on every key change, so a read that raced one is not cached

	lastUsedMu sync.Mutex
	lastUsed   map[int64]int64 // key id → unix seconds, not yet written

	api apiState // access tokens, the group-commit writer, cached accounts
}

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*DB, error) {
	// busy_timeout first so every later pragma already waits instead of failing.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)"
	// Every commit is on disk when it returns, even across a power loss or an
	// OS crash (NORMAL survives only a process crash): a 201 for a lead or a
	// capture session means it is stored. The group-commit writer shares the
	// cost of the extra fsync among the requests of a batch.
	writePragmas := pragmas + "&_pragma=synchronous(FULL)"
	// Made owner-only before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	write, err := sql.Open("sqlite", base+"?"+writePragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("db: open: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	d := &DB{write: write, lastUsed: map[int64]int64{}}
	if err := d.migrate(ctx); err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", base+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("db: open reader: %w", err)
	}
	read.SetMaxOpenConns(4)
	read.SetMaxIdleConns(4)
	d.read = read
	return d, nil
}

// Close commits queued writes, flushes pending last-used times and closes both pools.
func (d *DB) Close() error {
	d.stopWriter()
	ferr := d.FlushLastUsed(context.Background())
	rerr := d.read.Close()
	werr := d.write.Close()
	return errors.Join(ferr, rerr, werr)
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (d *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// RunBackground does the store's periodic work until ctx ends: writing
// batched last-used times, dropping idle sessions and expired access tokens.
func (d *DB) RunBackground(ctx context.Context, now func() time.Time, idle time.Duration) {
	flush := time.NewTicker(2 * time.Second)
	defer flush.Stop()
	sweep := time.NewTicker(10 * time.Minute)
	defer sweep.Stop()
	tokens := time.NewTicker(time.Minute)
	defer tokens.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			d.FlushLastUsed(ctx)
		case <-sweep.C:
			d.DeleteIdleSessions(ctx, now().Add(-idle))
		case <-tokens.C:
			d.SweepAccessTokens(ctx, now())
		}
	}
}
