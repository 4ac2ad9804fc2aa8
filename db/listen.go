package db

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// changesChannel is the PostgreSQL channel a change's sequence number is
// announced on, in the transaction that logs it.
const changesChannel = "keydesk_changes"

// ListenChanges holds one PostgreSQL connection listening for logged changes
// and calls wake for each, until ctx ends. It reconnects after a failure
// (a restart, a failover); the caller's poll covers what it missed meanwhile.
// On SQLite there is nothing to listen to: a change is applied by the
// process that made it, and the poll finds what another process wrote.
func (d *DB) ListenChanges(ctx context.Context, wake func(), log *slog.Logger) {
	if d.backend != Postgres {
		return
	}
	dsn := d.dsn
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listenOnce(ctx, dsn, wake, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		log.Warn("db: change notifications lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

func listenOnce(ctx context.Context, dsn string, wake, connected func()) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return err
	}
	connected()
	// Anything logged while nobody listened is read now.
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}
