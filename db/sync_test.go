package db

import (
	"context"
	"errors"
	"testing"
)

// The request log commits unsynced; every other write on the one write
// connection must still commit with synchronous=FULL afterwards, whether
// the unsynced transaction committed or failed.
func TestUnsyncedTxLeavesTheWriterSynced(t *testing.T) {
	d, _ := fixtureStore(t)
	ctx := context.Background()
	synchronous := func() (int, int) {
		t.Helper()
		var outside, inside int
		if err := d.write.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&outside); err != nil {
			t.Fatal(err)
		}
		if err := d.inTx(ctx, func(tx *Tx) error { return tx.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&inside) }); err != nil {
			t.Fatal(err)
		}
		return outside, inside
	}
	const full = 2
	if o, i := synchronous(); o != full || i != full {
		t.Fatalf("before: synchronous %d outside a transaction, %d inside; want %d", o, i, full)
	}
	failed := errors.New("fn failed")
	for _, tc := range []struct {
		name string
		fn   func(tx *Tx) error
		want error
	}{
		{"committed", func(tx *Tx) error {
			var during int
			if err := tx.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&during); err != nil {
				return err
			}
			if during != 1 {
				t.Errorf("inside the unsynced transaction synchronous is %d, want 1 (NORMAL)", during)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ('unsynced-test', x'00')`)
			return err
		}, nil},
		{"failed", func(tx *Tx) error {
			tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ('unsynced-failed', x'00')`)
			return failed
		}, failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := d.inTxUnsynced(ctx, tc.fn); !errors.Is(err, tc.want) {
				t.Fatalf("inTxUnsynced: %v, want %v", err, tc.want)
			}
			if o, i := synchronous(); o != full || i != full {
				t.Errorf("after: synchronous %d outside a transaction, %d inside; want %d", o, i, full)
			}
		})
	}
	var n int
	d.read.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE name LIKE 'unsynced-%'`).Scan(&n)
	if n != 1 {
		t.Errorf("%d rows of the two transactions stored, want 1 (the committed one)", n)
	}
}
