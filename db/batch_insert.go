package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Leads and capture sessions reach their tables set-based: one multi-row
// INSERT … RETURNING per table and batch (chunks of it on SQLite, whose
// driver binds parameters slowly). When a chunk fails, each of its rows is
// tried alone, so a bad row costs only its own request. On SQLite the batch
// is one transaction, and a failing INSERT is undone by SQLite on its own
// without ending it. On PostgreSQL, where one failing statement aborts the
// whole transaction, each INSERT is a transaction of its own: one round trip
// that inserts the rows, counts them in lead_days and commits.

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
	replay(ctx context.Context, q querier) error
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
func (t *Tx) rowsPerInsert(columns int) int { return t.b.rowsPerInsert(columns) }

func (b *binder) rowsPerInsert(columns int) int {
	if b.numbered {
		return maxRowsPerInsert
	}
	return max(1, min(maxRowsPerInsert, sqliteParamsPerInsert/columns))
}

// sql is the INSERT of n rows; a row whose idempotency key is taken is left
// out, and RETURNING names the rows that went in. On PostgreSQL a leads
// INSERT also counts the rows in lead_days (SQLite, which has no INSERT in
// WITH, does that in writeLeadDays), in key order, so that two writers
// counting the same days never wait for each other in a cycle.
func (t insertTable) sql(n int, numbered bool) string {
	insert := `INSERT INTO ` + t.name + ` (` + strings.Join(t.columns, ", ") + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(t.row+", ", n), ", ") +
		` ON CONFLICT (key_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id, public_id`
	if !numbered || t.name != "leads" {
		return insert
	}
	return `WITH stored AS (` + insert + `, account_id, mode, received_at),
	counted AS (INSERT INTO lead_days (account_id, mode, day, leads, first_id)
		SELECT account_id, mode, received_at - received_at % 86400, count(*), min(id) FROM stored
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
		ON CONFLICT (account_id, mode, day) DO UPDATE SET leads = lead_days.leads + excluded.leads,
			first_id = least(lead_days.first_id, excluded.first_id))
	SELECT id, public_id FROM stored`
}

// insertSQL is the plain INSERT of n rows.
func (t insertTable) insertSQL(n int) string {
	return `INSERT INTO ` + t.name + ` (` + strings.Join(t.columns, ", ") + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(t.row+", ", n), ", ")
}

// inserter runs a batch's INSERTs: the batch's transaction on SQLite, the
// pool on PostgreSQL.
type inserter interface {
	querier
	QueryPrepared(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// insertRows stores ops set-based, as many rows per INSERT as b's dialect
// takes, each op learning its outcome.
func insertRows(ctx context.Context, q inserter, b *binder, t insertTable, ops []rowInsert) {
	perInsert, numbered := b.rowsPerInsert(len(t.columns)), b.numbered
	for len(ops) > 0 {
		n := min(len(ops), perInsert)
		chunk := ops[:n]
		ops = ops[n:]
		if err := insertChunk(ctx, q, numbered, t, chunk); err == nil {
			continue
		}
		for _, op := range chunk {
			if err := insertChunk(ctx, q, numbered, t, []rowInsert{op}); err != nil {
				op.fail(fmt.Errorf("db: insert into %s: %w", t.name, err))
			}
		}
	}
}

func insertChunk(ctx context.Context, q inserter, numbered bool, t insertTable, ops []rowInsert) error {
	args := make([]any, 0, len(ops)*len(t.columns))
	for _, op := range ops {
		args = append(args, op.values()...)
	}
	rows, err := q.QueryPrepared(ctx, t.sql(len(ops), numbered), args...)
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
		if err := op.replay(ctx, q); err != nil && !errors.Is(err, ErrIdempotencyMismatch) {
			return err
		}
	}
	return nil
}
