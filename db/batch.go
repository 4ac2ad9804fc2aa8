package db

import (
	"context"
	"errors"
	"fmt"
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
	if err := ctx.Err(); err != nil {
		return nil, err // the request is over (its client left): store nothing for nobody
	}
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
	batch := make([]writeOp, 0, maxBatch)
	linger := time.NewTimer(lingerAsync)
	linger.Stop()
	for {
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
	fill:
		for len(batch) < maxBatch {
			if waited || stopping {
				select {
				case op := <-w.ops:
					batch = append(batch, op)
				default:
					break fill
				}
				continue
			}
			select {
			case op := <-w.ops:
				batch = append(batch, op)
				waited = op.waited()
			case <-linger.C:
				break fill
			case <-w.stop:
				stopping = true
			}
		}
		linger.Stop()
		if len(batch) == 0 {
			return // stopped and nothing left
		}
		d.commitBatch(ctx, batch)
		clear(batch)
		batch = batch[:0]
	}
}

func (d *DB) commitBatch(ctx context.Context, batch []writeOp) {
	began := time.Now()
	var tables []*insertTable
	rows := map[*insertTable][]rowInsert{}
	for _, op := range batch {
		op := op.(rowInsert)
		t := op.table()
		if rows[t] == nil {
			tables = append(tables, t)
		}
		rows[t] = append(rows[t], op)
	}
	var err error
	if d.backend == Postgres {
		// Each INSERT commits by itself (see insertTable.sql): the batch
		// takes a round trip per table, and no savepoint.
		for _, t := range tables {
			insertRows(ctx, d.write, d.write.b, *t, rows[t])
		}
	} else {
		err = d.inTx(ctx, func(tx *Tx) error {
			for _, t := range tables {
				insertRows(ctx, tx, tx.b, *t, rows[t])
			}
			return writeLeadDays(ctx, tx, batch)
		})
	}
	if err != nil {
		for _, op := range batch {
			op.finish(fmt.Errorf("db: commit batch: %w", err))
		}
		return
	}
	if d.OnBatch != nil {
		d.OnBatch(len(batch), time.Since(began))
	}
	for _, op := range batch {
		op.finish(nil)
	}
}
