package db

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Leads and capture sessions reach their tables set-based: one multi-row
// INSERT … RETURNING per table and batch. On PostgreSQL one failing statement
// aborts the whole transaction, so the batch runs behind a savepoint and,
// when it fails, each row is tried alone behind its own: a bad row costs
// only its own request.

// rowInsert is a queued insert of one row with a public id and an optional
// idempotency key.
type rowInsert interface {
	writeOp
	table() *insertTable
	// values are the row's values in its table's column order.
	values() []any
	publicID() string
	// stored learns that the row went in with this id.
	stored(id int64)
	// replay finds the row an earlier request stored under the same
	// idempotency key, and answers with it.
	replay(ctx context.Context, tx *Tx) error
	// fail records why the row was not stored.
	fail(err error)
}

// insertTable is the multi-row INSERT of one table.
type insertTable struct {
	name    string
	columns []string
	row     string // "(?, ?, …)"
}

func newInsertTable(name string, columns ...string) insertTable {
	return insertTable{name: name, columns: columns,
		row: "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + ")"}
}

// maxRowsPerInsert keeps a statement's parameters under SQLite's 32766 and
// PostgreSQL's 65535 for any table here.
const maxRowsPerInsert = 256

// sqliteParamsPerInsert bounds a multi-row INSERT's parameters on SQLite:
// its Go driver matches each parameter to its argument by a scan of the
// arguments, so binding n of them costs n²/2 steps (2,560 parameters took a
// third of the server's CPU under load). Past ~100 parameters a longer
// statement saves nothing that the scan does not cost again.
var sqliteParamsPerInsert = 100

// rowsPerInsert is how many rows of columns values one INSERT takes.
func (t *Tx) rowsPerInsert(columns int) int {
	if t.b.numbered {
		return maxRowsPerInsert
	}
	return max(1, min(maxRowsPerInsert, sqliteParamsPerInsert/columns))
}

// sql is the INSERT of n rows; a row whose idempotency key is taken is left
// out, and RETURNING names the rows that went in.
func (t insertTable) sql(n int) string {
	return `INSERT INTO ` + t.name + ` (` + strings.Join(t.columns, ", ") + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(t.row+", ", n), ", ") +
		` ON CONFLICT (key_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id, public_id`
}

// insertSQL is the plain INSERT of n rows.
func (t insertTable) insertSQL(n int) string {
	return `INSERT INTO ` + t.name + ` (` + strings.Join(t.columns, ", ") + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(t.row+", ", n), ", ")
}

// insertRows stores ops set-based inside tx, each op learning its outcome.
func insertRows(ctx context.Context, tx *Tx, t insertTable, ops []rowInsert) {
	for len(ops) > 0 {
		n := min(len(ops), tx.rowsPerInsert(len(t.columns)))
		chunk := ops[:n]
		ops = ops[n:]
		if err := inSavepoint(ctx, tx, func() error { return insertChunk(ctx, tx, t, chunk) }); err == nil {
			continue
		}
		for _, op := range chunk {
			err := inSavepoint(ctx, tx, func() error { return insertChunk(ctx, tx, t, []rowInsert{op}) })
			if err != nil {
				op.fail(fmt.Errorf("db: insert into %s: %w", t.name, err))
			}
		}
	}
}

func insertChunk(ctx context.Context, tx *Tx, t insertTable, ops []rowInsert) error {
	args := make([]any, 0, len(ops)*len(t.columns))
	for _, op := range ops {
		args = append(args, op.values()...)
	}
	rows, err := tx.QueryPrepared(ctx, t.sql(len(ops)), args...)
	if err != nil {
		return err
	}
	ids := make(map[string]int64, len(ops))
	for rows.Next() {
		var id int64
		var public string
		if err := rows.Scan(&id, &public); err != nil {
			rows.Close()
			return err
		}
		ids[public] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, op := range ops {
		if id, ok := ids[op.publicID()]; ok {
			op.stored(id)
			continue
		}
		if err := op.replay(ctx, tx); err != nil && !errors.Is(err, ErrIdempotencyMismatch) {
			return err
		}
	}
	return nil
}

// inSavepoint runs fn so that its failure undoes only what fn did. SQLite
// needs no savepoint for that: it undoes a failing INSERT by itself and keeps
// the transaction, and fn's only other statements are reads, which fail only
// when the commit will too. A savepoint there costs a copy of every page
// the batch touches.
func inSavepoint(ctx context.Context, tx *Tx, fn func() error) error {
	if !tx.b.numbered {
		return fn()
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT batch_rows`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT batch_rows`)
		tx.ExecContext(ctx, `RELEASE SAVEPOINT batch_rows`)
		return err
	}
	_, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT batch_rows`)
	return err
}
