// Package db is keydesk's storage: SQLite opened with the right pragmas,
// versioned migrations, and one file of queries per table.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when a row does not exist or belongs to another account.
var ErrNotFound = errors.New("db: not found")

// ErrDuplicate is returned when a unique value (a key name, an email, a slug) is taken.
var ErrDuplicate = errors.New("db: already exists")

// DB is the store: on SQLite a single-connection pool for writes beside a
// pool for reads, on PostgreSQL one pool for both.
type DB struct {
	write pool
	read  pool

	backend Backend
	dsn     string // a PostgreSQL store's URL, for its LISTEN connection
	lock    locker // runs work that must happen once across instances

	// OnChange, when set, runs after a transaction that wrote to the change
	// log commits, with the change's sequence number; its error is the
	// mutation's error. The live authentication state sets it to apply the
	// change here and wait until every instance has.
	OnChange func(ctx context.Context, seq int64) error
	// OnBatch, when set, learns of each batch the group-commit writer
	// committed: how many rows, and how long inserting and committing took.
	OnBatch func(rows int, took time.Duration)

	lastUsed    lastUses // the keys' last-used times, not yet written
	ipReportsMu sync.Mutex
	ipReports   map[ipReportKey]*pendingIPReport

	api apiState // the group-commit writer
}

// Backend names the database a store runs on.
type Backend string

// The two databases keydesk runs on.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Backend returns the database the store runs on.
func (d *DB) Backend() Backend { return d.backend }

// connectFunc opens, migrates and returns a store for one kind of dsn.
type connectFunc func(ctx context.Context, dsn string) (*DB, error)

// connectors maps a dsn's URL scheme to its database; a dsn without a
// scheme is a SQLite file path.
var connectors = map[string]connectFunc{
	"postgres":   openPostgres,
	"postgresql": openPostgres,
}

// Open opens (creating if needed) and migrates the database dsn names: a
// postgres:// URL, or else the path of a SQLite file.
func Open(ctx context.Context, dsn string) (*DB, error) {
	connect := openSQLite
	if scheme, _, ok := strings.Cut(dsn, "://"); ok {
		c, known := connectors[strings.ToLower(scheme)]
		if !known {
			return nil, fmt.Errorf("db: unknown database URL scheme %q: use postgres:// or a SQLite file path", scheme)
		}
		connect = c
	}
	d, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := d.convertRequestLog(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.backfillAddrDays(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	// busy_timeout first so every later pragma already waits instead of failing.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)"
	// Every commit is on disk when it returns, even across a power loss or an
	// OS crash (NORMAL survives only a process crash): a 201 for a lead or a
	// capture session means it is stored. The group-commit writer shares the
	// cost of the extra fsync among the requests of a batch.
	writePragmas := pragmas + "&_pragma=synchronous(FULL)"
	// Made owner-only before SQLite opens it; SQLite gives its -wal and -shm
	// files the same mode. O_EXCL: an existing file is never opened here, as
	// closing a descriptor would drop the POSIX locks SQLite holds on it in
	// this process.
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
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
	if err := pingSQLite(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	b := &binder{}
	d := &DB{write: pool{write, b, &stmtCache{}, nil}, backend: SQLite, lock: processLock(path)}
	if err := d.migrateSQLite(ctx); err != nil {
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
	d.read = pool{read, b, nil, &stmtCache{}}
	return d, nil
}

// pingSQLite opens the first connection. Turning a new file into WAL mode
// takes an exclusive lock for which SQLite does not call its busy handler,
// so two processes starting on one new file at the same moment can see
// SQLITE_BUSY at once: that open is tried again for as long as busy_timeout
// would have waited.
func pingSQLite(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.PingContext(ctx)
		var coded interface{ Code() int }
		if err == nil || !errors.As(err, &coded) || coded.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// sqliteBusy is SQLITE_BUSY, the primary result code of "database is locked".
const sqliteBusy = 5

// Close commits queued writes, flushes pending last-used times and closes both pools.
func (d *DB) Close() error {
	d.stopWriter()
	ferr := d.FlushLastUsed(context.Background())
	rerr := d.read.db.Close()
	var werr error
	if d.write.db != d.read.db {
		werr = d.write.db.Close()
	}
	return errors.Join(ferr, rerr, werr)
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (d *DB) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	return runTx(tx, fn)
}

// runTx runs fn in tx, committing when it returns nil and rolling back otherwise.
func runTx(tx *Tx, fn func(tx *Tx) error) error {
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

// inTxUnsynced is inTx for telemetry (the request log): on SQLite its commit
// is not synced to disk (synchronous=NORMAL for this one transaction) — it
// survives a process crash, and reaches the disk with the next synced commit
// or checkpoint. Its fsync cost an API call more than the rest of its logging.
func (d *DB) inTxUnsynced(ctx context.Context, fn func(tx *Tx) error) error {
	if d.backend != SQLite {
		return d.inTx(ctx, fn)
	}
	// One connection, held from the pragma to its reset, so no other write
	// (a lead) can commit between them unsynced.
	conn, err := d.write.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	defer func() {
		conn.Close()
		d.write.stmts.prepareWanted(d.write.db)
	}()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous=NORMAL`); err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous=FULL`); err != nil {
			// Never hand the pool a connection that commits unsynced: drop it.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	return runTx(&Tx{tx: sqlTx, b: d.write.b, db: d.write.db, stmts: d.write.stmts, held: true}, fn)
}

// RunBackground does the store's periodic work until ctx ends: writing
// batched last-used times, dropping idle sessions, old throttle buckets,
// revoked tokens past their expiry and old changes.
func (d *DB) RunBackground(ctx context.Context, now func() time.Time, idle time.Duration) {
	flush := time.NewTicker(2 * time.Second)
	defer flush.Stop()
	sweep := time.NewTicker(10 * time.Minute)
	defer sweep.Stop()
	retire := time.NewTicker(15 * time.Second)
	defer retire.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			d.FlushLastUsed(ctx)
		case <-retire.C:
			// The live state refuses a retired key by the clock already; this makes it revoked for good.
			d.Exclusively(ctx, "retire", func(ctx context.Context) error {
				_, err := d.RevokeRetired(ctx, now())
				return err
			})
		case <-sweep.C:
			// One instance sweeps at a time.
			d.Exclusively(ctx, "sweep", func(ctx context.Context) error {
				return errors.Join(d.DeleteIdleSessions(ctx, now().Add(-idle)),
					d.SweepSignInThrottle(ctx, now().Add(-time.Hour)), d.SweepChanges(ctx, now()))
			})
		}
	}
}
