package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresPoolSize bounds the connections one instance holds; several
// instances share the server's max_connections (100 by default).
const postgresPoolSize = 16

// connectTimeout bounds how long a start waits for an unreachable server.
const connectTimeout = 10 * time.Second

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's own message would quote the URL; the password must not reach a log.
		return nil, errors.New("db: KEYDESK_DATABASE_URL is not a valid PostgreSQL URL")
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > connectTimeout {
		cfg.ConnectTimeout = connectTimeout
	}
	conns := stdlib.OpenDB(*cfg)
	conns.SetMaxOpenConns(postgresPoolSize)
	conns.SetMaxIdleConns(postgresPoolSize)
	conns.SetConnMaxIdleTime(5 * time.Minute)
	if err := conns.PingContext(ctx); err != nil {
		conns.Close()
		return nil, fmt.Errorf("db: cannot reach PostgreSQL at %s: %w", PostgresTarget(cfg.Host, cfg.Port, cfg.Database), err)
	}
	p := pool{conns, &binder{numbered: true}, nil, nil}
	d := &DB{write: p, read: p, backend: Postgres, dsn: dsn}
	d.lock = advisoryLock{conns}
	if err := d.migratePostgres(ctx); err != nil {
		conns.Close()
		return nil, err
	}
	return d, nil
}

// PostgresTarget names a server and database for people: host, port and
// database, never a user or password.
func PostgresTarget(host string, port uint16, database string) string {
	return fmt.Sprintf("host %s, database %q", net.JoinHostPort(host, strconv.Itoa(int(port))), database)
}

// locker runs fn while no other instance on the same database runs fn
// under the same name.
type locker interface {
	exclusively(ctx context.Context, name string, fn func(ctx context.Context) error) error
}

// Exclusively runs fn while no other keydesk on this database runs work of
// the same name: a PostgreSQL advisory lock, or a lock in this process for SQLite.
func (d *DB) Exclusively(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return d.lock.exclusively(ctx, name, fn)
}

// advisoryLock is PostgreSQL's session-level advisory lock, held on one
// connection set aside from the pool for as long as fn runs.
type advisoryLock struct{ conns *sql.DB }

func (l advisoryLock) exclusively(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	conn, err := l.conns.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: lock %s: %w", name, err)
	}
	defer conn.Close()
	key := lockKey(name)
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("db: lock %s: %w", name, err)
	}
	ferr := fn(ctx)
	// A fresh context: the lock must go even when ctx has ended.
	_, uerr := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
	if uerr != nil {
		// Closing a connection whose session holds the lock releases it.
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return ferr
}

// lockKey turns a lock's name into PostgreSQL's 64-bit lock id.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("keydesk:" + name))
	return int64(h.Sum64())
}

// processLock serialises named work among the stores of this process that
// share a SQLite file; SQLite serves one instance, so that is all there is.
type processLock string

var processLocks sync.Map // path + name → *sync.Mutex

func (l processLock) exclusively(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	m, _ := processLocks.LoadOrStore(string(l)+"\x00"+name, &sync.Mutex{})
	m.(*sync.Mutex).Lock()
	defer m.(*sync.Mutex).Unlock()
	return fn(ctx)
}

// Describe names the database a dsn opens, for logs and messages: the
// PostgreSQL host and database (never a user or password), or the SQLite file.
func Describe(dsn string) string {
	scheme, _, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	if _, known := connectors[strings.ToLower(scheme)]; !known {
		return scheme + " database"
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "PostgreSQL (unreadable URL)"
	}
	return "PostgreSQL " + PostgresTarget(cfg.Host, cfg.Port, cfg.Database)
}
