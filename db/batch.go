package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxBatch is how many queued writes share one transaction at most.
const maxBatch = 1024

// lingerAsync is how long the writer waits to fill a batch when nobody is
// waiting for its commit (token hashes): fewer, larger commits leave the CPU
// to the requests. A token is live in memory before it reaches the table.
const lingerAsync = 50 * time.Millisecond

// ErrClosed is returned for a write queued after the store was closed.
var ErrClosed = errors.New("db: closed")

// apiState is the API's share of the store: the group-commit writer, the
// live access tokens and the account cache. Everything starts on first use.
type apiState struct {
	mu     sync.Mutex
	writer *writer
	closed bool

	tokensOnce sync.Once
	tokens     *tokenStore

	accounts sync.Map // account id → *cachedAccount
}

// writeOp is one queued write: apply runs inside the batch's transaction,
// finish learns whether the whole batch committed.
type writeOp interface {
	apply(ctx context.Context, s *writeStmts) error
	finish(err error)
	// waited reports whether a request is waiting for the commit.
	waited() bool
}

// writer is a goroutine that takes queued writes, runs as many as are waiting
// in one transaction with prepared statements, and answers each after the
// commit. SQLite pays for the commit, not the row, so a full batch costs about
// as much as a single write.
type writer struct {
	ops  chan writeOp
	stop chan struct{}
	done chan struct{}
}

// writeStmts are the writer's statements, prepared once on the write
// connection and bound to each batch's transaction.
type writeStmts struct {
	tx          *sql.Tx
	insertToken *sql.Stmt
	insertLead  *sql.Stmt
	leadByIdem  *sql.Stmt

	leadDays map[leadDay]leadDayCount // leads this batch stored, written before its commit
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
	prepared, err := d.prepareWriteStmts(ctx)
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
		if err != nil {
			for _, op := range batch {
				op.finish(err)
			}
		} else {
			d.commitBatch(ctx, prepared, batch)
		}
		clear(batch)
		batch = batch[:0]
	}
}

func (d *DB) prepareWriteStmts(ctx context.Context) (*writeStmts, error) {
	var s writeStmts
	var err error
	prep := func(dst **sql.Stmt, query string) {
		if err == nil {
			*dst, err = d.write.PrepareContext(ctx, query)
		}
	}
	prep(&s.insertToken, insertTokenSQL)
	prep(&s.insertLead, insertLeadSQL)
	prep(&s.leadByIdem, leadByIdempotencySQL)
	if err != nil {
		return nil, fmt.Errorf("db: prepare writer: %w", err)
	}
	return &s, nil
}

func (d *DB) commitBatch(ctx context.Context, prepared *writeStmts, batch []writeOp) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		for _, op := range batch {
			op.finish(fmt.Errorf("db: begin batch: %w", err))
		}
		return
	}
	s := &writeStmts{
		tx:          tx,
		insertToken: tx.StmtContext(ctx, prepared.insertToken),
		insertLead:  tx.StmtContext(ctx, prepared.insertLead),
		leadByIdem:  tx.StmtContext(ctx, prepared.leadByIdem),
	}
	errs := make([]error, len(batch))
	for i, op := range batch {
		errs[i] = op.apply(ctx, s)
	}
	err = s.writeLeadDays(ctx)
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		tx.Rollback()
		for _, op := range batch {
			op.finish(fmt.Errorf("db: commit batch: %w", err))
		}
		return
	}
	for i, op := range batch {
		op.finish(errs[i])
	}
}
