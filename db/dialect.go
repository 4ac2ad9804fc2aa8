package db

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
)

// The store's SQL is written once, with ? placeholders, in the subset that
// SQLite and PostgreSQL share; a binder turns it into what the driver takes.

// binder rewrites ? placeholders to $1, $2, … for PostgreSQL, once per
// statement text; for SQLite it leaves the text alone.
type binder struct {
	numbered bool
	cache    sync.Map // statement text → rebound text
}

func (b *binder) bind(query string) string {
	if !b.numbered {
		return query
	}
	if v, ok := b.cache.Load(query); ok {
		return v.(string)
	}
	out := numberPlaceholders(query)
	b.cache.Store(query, out)
	return out
}

// numberPlaceholders replaces each ? outside quotes by $n.
func numberPlaceholders(query string) string {
	var sb strings.Builder
	sb.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(n))
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// pool is a database/sql pool whose queries go through the binder.
type pool struct {
	db    *sql.DB
	b     *binder
	stmts *stmtCache // nil: every statement is prepared where it runs
	// reads, for SQLite's readers, keeps the queries run on the pool itself
	// prepared: parsing a key list's query cost as much as running it.
	reads *stmtCache
}

// stmtCache keeps prepared statements by text, for the statements a write
// batch runs again and again (its multi-row INSERTs): SQLite then parses
// each once, not once per batch. pgx caches its own per connection.
//
// The write pool has one connection, which a transaction holds: a statement
// first met inside one runs unprepared and is prepared once the transaction
// has ended, for the next.
type stmtCache struct {
	m      sync.Map // text → *sql.Stmt
	n      atomic.Int64
	wanted sync.Map // text → struct{}
}

// maxPrepared bounds a cache: texts beyond it are prepared where they run.
const maxPrepared = 512

// prepared returns query prepared on db, preparing it the first time.
func (c *stmtCache) prepared(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	if s, ok := c.m.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	if c.n.Load() >= maxPrepared {
		return nil, nil
	}
	s, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if was, loaded := c.m.LoadOrStore(query, s); loaded {
		s.Close()
		return was.(*sql.Stmt), nil
	}
	c.n.Add(1)
	return s, nil
}

// prepareWanted prepares the statements transactions asked for.
func (c *stmtCache) prepareWanted(db *sql.DB) {
	c.wanted.Range(func(k, _ any) bool {
		query := k.(string)
		c.wanted.Delete(query)
		if _, ok := c.m.Load(query); ok {
			return true
		}
		if s, err := db.PrepareContext(context.Background(), query); err == nil {
			c.m.Store(query, s)
		}
		return true
	})
}

func (p pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, p.b.bind(query), args...)
}

func (p pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if p.reads != nil {
		if s, err := p.reads.prepared(ctx, p.db, query); err != nil || s != nil {
			if err != nil {
				return nil, err
			}
			return s.QueryContext(ctx, args...)
		}
	}
	return p.db.QueryContext(ctx, p.b.bind(query), args...)
}

// QueryPrepared is QueryContext: pgx keeps its own statements prepared.
func (p pool) QueryPrepared(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.QueryContext(ctx, query, args...)
}

func (p pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if p.reads != nil {
		if s, err := p.reads.prepared(ctx, p.db, query); err == nil && s != nil {
			return s.QueryRowContext(ctx, args...)
		}
	}
	return p.db.QueryRowContext(ctx, p.b.bind(query), args...)
}

func (p pool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, p.b.bind(query))
}

func (p pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*Tx, error) {
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Tx{tx: tx, b: p.b, db: p.db, stmts: p.stmts}, nil
}

// Tx is a transaction whose queries go through the binder.
type Tx struct {
	tx    *sql.Tx
	b     *binder
	db    *sql.DB
	stmts *stmtCache
	// held: the transaction runs on a connection taken from the pool, so
	// statements it wanted are prepared once that is given back, not at its end.
	held bool
}

// stmt is query as a statement prepared on the pool, bound to this
// transaction; nil when the pool keeps none or has not prepared it yet.
func (t *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	query = t.b.bind(query)
	s, ok := t.stmts.m.Load(query)
	if !ok {
		t.stmts.wanted.Store(query, struct{}{})
		return nil
	}
	return t.tx.StmtContext(ctx, s.(*sql.Stmt))
}

// ExecPrepared is ExecContext for a statement the store runs often.
func (t *Tx) ExecPrepared(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.ExecContext(ctx, query, args...)
}

// QueryPrepared is QueryContext for a statement the store runs often.
func (t *Tx) QueryPrepared(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.QueryContext(ctx, query, args...)
}

// ExecContext runs a statement written with ? placeholders.
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.b.bind(query), args...)
}

// QueryContext runs a query written with ? placeholders.
func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.b.bind(query), args...)
}

// QueryRowContext runs a one-row query written with ? placeholders.
func (t *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.b.bind(query), args...)
}

// StmtContext binds a statement prepared on the pool to this transaction.
func (t *Tx) StmtContext(ctx context.Context, stmt *sql.Stmt) *sql.Stmt {
	return t.tx.StmtContext(ctx, stmt)
}

// Commit commits the transaction.
func (t *Tx) Commit() error {
	defer t.ended()
	return t.tx.Commit()
}

// Rollback abandons the transaction.
func (t *Tx) Rollback() error {
	defer t.ended()
	return t.tx.Rollback()
}

func (t *Tx) ended() {
	if t.stmts != nil && !t.held {
		t.stmts.prepareWanted(t.db)
	}
}

// querier is what a read needs: the pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// isUniqueViolation recognises a unique constraint failing in either database.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}
