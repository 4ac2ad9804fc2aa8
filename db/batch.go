package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// maxBatch is how many queued writes share one transaction at most.
const maxBatch = 1024

// lingerAsync is how long the writer waits to fill a batch when nobody is
// waiting for its commit: fewer, larger commits leave the CPU to the requests.
const lingerAsync = 50 * time.Millisecond

// ErrClosed is returned for a write queued after the store was closed.
var ErrClosed = errors.New("db: closed")

// apiState is the API's share of the store: the group-commit writer, started on first use.
type apiState struct {
	mu     sync.Mutex
	writer *writer
	closed bool
}

// writeOp is one queued write (a rowInsert); finish learns whether the
// whole batch committed.
type writeOp interface {
	finish(err error)
	// waited reports whether a request is waiting for the commit.
	waited() bool
}

// writer is a goroutine that takes queued writes, runs as many as are
// waiting in one batch, set-based, and answers each after the commit. A
// database pays for the commit, not the row, so a full batch costs about as
// much as a single write.
type writer struct {
	ops  chan writeOp
	stop chan struct{}
	done chan struct{}
}

// queue returns the running writer, starting it on first use, or nil once
// the store is closed.
func (d *DB) queue() *writer {
	d.api.mu.Lock()
	defer d.api.mu.Unlock()
	if d.api.closed {
		return nil
	}
	if d.api.writer == nil {
		w := &writer{ops: make(chan writeOp, 4096), stop: make(chan struct{}), done: make(chan struct{})}
		d.api.writer = w
		go d.runWriter(w)
	}
	return d.api.writer
}

// enqueue hands op to the writer; it fails only once the store is closing.
func (d *DB) enqueue(ctx context.Context, op writeOp) (*writer, error) {
	w := d.queue()
	if w == nil {
		return nil, ErrClosed
	}
	select {
	case <-w.stop:
		return nil, ErrClosed
	default:
	}
	select {
	case w.ops <- op:
		return w, nil
	case <-w.stop:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// commit hands op to the writer and waits until done closes, after the
// batch that holds op has committed or failed.
func (d *DB) commit(ctx context.Context, op writeOp, done <-chan struct{}) error {
	w, err := d.enqueue(ctx, op)
	if err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-w.done:
		select {
		case <-done:
			return nil
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stopWriter commits what is queued and ends the writer, if it ever started.
func (d *DB) stopWriter() {
	d.api.mu.Lock()
	d.api.closed = true
	w := d.api.writer
	d.api.mu.Unlock()
	if w == nil {
		return
	}
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

func (d *DB) runWriter(w *writer) {
	defer close(w.done)
	ctx := context.Background()
	// synced closes once the batch SQLite committed last is on disk and its
	// requests are answered; nil when there is none.
	var synced <-chan struct{}
	defer func() {
		if synced != nil {
			<-synced
		}
	}()
	linger := time.NewTimer(lingerAsync)
	linger.Stop()
	for {
		batch := w.collect(make([]writeOp, 0, 64), linger)
		if len(batch) == 0 {
			return // stopped and nothing left
		}
		if d.backend == Postgres {
			d.commitPostgres(ctx, batch)
			continue
		}
		synced = d.commitPipelined(ctx, w, batch, synced)
	}
}

// collect appends to batch the next writes: it waits for the first, then
// takes what is queued, lingering for more only while nobody waits for the
// commit. It returns an empty batch once the writer is stopped with nothing left.
func (w *writer) collect(batch []writeOp, linger *time.Timer) []writeOp {
	stopping := false
	select {
	case op := <-w.ops:
		batch = append(batch, op)
	case <-w.stop:
		stopping = true
	}
	waited := len(batch) > 0 && batch[0].waited()
	if !waited && !stopping {
		linger.Reset(lingerAsync)
	}
	defer linger.Stop()
	for len(batch) < maxBatch {
		if waited || stopping {
			select {
			case op := <-w.ops:
				batch = append(batch, op)
			default:
				return batch
			}
			continue
		}
		select {
		case op := <-w.ops:
			batch = append(batch, op)
			waited = op.waited()
		case <-linger.C:
			return batch
		case <-w.stop:
			stopping = true
		}
	}
	return batch
}

// commitBatch stores a batch and answers its requests.
func (d *DB) commitBatch(ctx context.Context, batch []writeOp) {
	if d.backend == Postgres {
		d.commitPostgres(ctx, batch)
		return
	}
	<-d.commitPipelined(ctx, nil, batch, nil)
}

// commitPostgres stores a batch on PostgreSQL and answers its requests.
func (d *DB) commitPostgres(ctx context.Context, batch []writeOp) {
	began := time.Now()
	// Each INSERT commits by itself (see insertTable.sql): the batch
	// takes a round trip per table, and no savepoint.
	for _, t := range byTable(batch) {
		insertRows(ctx, d.write, d.write.b, *t.table, t.rows)
	}
	if d.OnBatch != nil {
		d.OnBatch(len(batch), time.Since(began))
	}
	for _, op := range batch {
		op.finish(nil)
	}
}

// commitPipelined stores batch on SQLite in one transaction and returns a
// channel closed once that transaction is on disk and the batch's requests
// are answered. The transaction commits unsynced and a goroutine fsyncs the
// WAL before answering, so every 201 still means the rows survive a power
// loss (synchronous=FULL's promise); meanwhile the writer goes on inserting
// the next batch. It commits that one only once the previous fsync is done,
// taking in what arrives until then, so batches stay as large as a wait for
// the disk allows and at most one fsync is under way.
func (d *DB) commitPipelined(ctx context.Context, w *writer, batch []writeOp, previous <-chan struct{}) <-chan struct{} {
	began := time.Now()
	err := d.inTxUnsynced(ctx, func(tx *Tx) error {
		insertBatch(ctx, tx, batch)
		for previous != nil && len(batch) < maxBatch {
			select {
			case <-previous:
				previous = nil
			case op := <-w.ops:
				more := w.drain([]writeOp{op}, maxBatch-len(batch))
				insertBatch(ctx, tx, more)
				batch = append(batch, more...)
			}
		}
		return writeLeadDays(ctx, tx, batch)
	})
	if previous != nil {
		<-previous // the transaction failed, or filled up, before the previous fsync ended
	}
	synced := make(chan struct{})
	if err != nil {
		for _, op := range batch {
			op.finish(fmt.Errorf("db: commit batch: %w", err))
		}
		close(synced)
		return synced
	}
	go func() {
		defer close(synced)
		err := d.syncWAL()
		if err == nil && d.OnBatch != nil {
			d.OnBatch(len(batch), time.Since(began))
		}
		for _, op := range batch {
			if err != nil {
				op.finish(fmt.Errorf("db: commit batch: %w", err))
				continue
			}
			op.finish(nil)
		}
	}()
	return synced
}

// drain appends to batch what is queued, up to room writes in all.
func (w *writer) drain(batch []writeOp, room int) []writeOp {
	for len(batch) < room {
		select {
		case op := <-w.ops:
			batch = append(batch, op)
		default:
			return batch
		}
	}
	return batch
}

// insertBatch runs a batch's INSERTs in tx, a multi-row one per table.
func insertBatch(ctx context.Context, tx *Tx, batch []writeOp) {
	for _, t := range byTable(batch) {
		insertRows(ctx, tx, tx.b, *t.table, t.rows)
	}
}

// tableRows are a batch's rows of one table.
type tableRows struct {
	table *insertTable
	rows  []rowInsert
}

// byTable groups a batch's rows by table, in the order each table first appears.
func byTable(batch []writeOp) []tableRows {
	var tables []tableRows
	for _, op := range batch {
		op := op.(rowInsert)
		i := slices.IndexFunc(tables, func(t tableRows) bool { return t.table == op.table() })
		if i < 0 {
			i = len(tables)
			tables = append(tables, tableRows{table: op.table()})
		}
		tables[i].rows = append(tables[i].rows, op)
	}
	return tables
}
