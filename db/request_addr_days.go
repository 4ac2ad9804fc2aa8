package db

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"
)

// addrDay is a key's row of request_addr_days: its requests from one client
// address on one UTC day.
type addrDay struct {
	account, key, day int64
	addr              netip.Addr
}

// addrCounts counts requests per key, day and address.
type addrCounts map[addrDay]*AddrCount

func (m addrCounts) add(account, key, at int64, addr netip.Addr, ok bool) {
	k := addrDay{account, key, at / 86400, addr.Unmap()}
	c := m[k]
	if c == nil {
		c = &AddrCount{Addr: k.addr}
		m[k] = c
	}
	c.N++
	if !ok {
		c.Failed++
	}
}

// write adds the counts to request_addr_days, in a fixed order so two
// instances never deadlock.
func (m addrCounts) write(ctx context.Context, tx *Tx) error {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b addrDay) int {
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.day, b.day), a.addr.Compare(b.addr))
	})
	err := upsertRows(ctx, tx, len(keys), 6, func(args []any, i int) []any {
		k, c := keys[i], m[keys[i]]
		return append(args, k.account, k.key, k.day, storedAddr(k.addr), c.N, c.Failed)
	}, `INSERT INTO request_addr_days (account_id, key_id, day, addr, n, failed) VALUES `,
		` ON CONFLICT (key_id, addr, day) DO UPDATE SET n = request_addr_days.n + excluded.n,
			failed = request_addr_days.failed + excluded.failed`)
	if err != nil {
		return fmt.Errorf("db: add requests per address: %w", err)
	}
	// The same without the day, for request_addr_totals.
	totals := map[addrDay]*AddrCount{}
	for _, k := range keys {
		t := addrDay{account: k.account, key: k.key, addr: k.addr}
		if totals[t] == nil {
			totals[t] = &AddrCount{}
		}
		totals[t].N += m[k].N
		totals[t].Failed += m[k].Failed
	}
	tkeys := slices.SortedFunc(maps.Keys(totals), func(a, b addrDay) int {
		return cmp.Or(cmp.Compare(a.key, b.key), a.addr.Compare(b.addr))
	})
	err = upsertRows(ctx, tx, len(tkeys), 5, func(args []any, i int) []any {
		k, c := tkeys[i], totals[tkeys[i]]
		return append(args, k.key, storedAddr(k.addr), k.account, c.N, c.Failed)
	}, `INSERT INTO request_addr_totals (key_id, addr, account_id, n, failed) VALUES `,
		` ON CONFLICT (key_id, addr) DO UPDATE SET n = request_addr_totals.n + excluded.n,
			failed = request_addr_totals.failed + excluded.failed`)
	if err != nil {
		return fmt.Errorf("db: add requests per address: %w", err)
	}
	return nil
}

// storedAddr is an address as request_addr_days keeps it: its bytes, or
// none when it is not known.
func storedAddr(a netip.Addr) []byte {
	if b, ok := addrBytes(a).([]byte); ok {
		return b
	}
	return []byte{}
}

// foldAddrDays deletes a key's days before day, and takes them off its totals.
func foldAddrDays(ctx context.Context, tx *Tx, keyID, day int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE request_addr_totals SET n = request_addr_totals.n - o.n, failed = request_addr_totals.failed - o.failed
		FROM (SELECT addr, sum(n) AS n, sum(failed) AS failed FROM request_addr_days WHERE key_id = ? AND day < ? GROUP BY addr) AS o
		WHERE request_addr_totals.key_id = ? AND request_addr_totals.addr = o.addr`, keyID, day, keyID)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM request_addr_totals WHERE key_id = ? AND n <= 0`, keyID); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM request_addr_days WHERE key_id = ? AND day < ?`, keyID, day)
	return err
}

// addAddrDays adds a batch of the log to the requests per key, day and address.
func addAddrDays(ctx context.Context, tx *Tx, batch []LoggedRequest) error {
	m := addrCounts{}
	for _, r := range batch {
		m.add(r.AccountID, r.KeyID, r.At.Unix(), r.Addr, r.Outcome == OutcomeOK)
	}
	return m.write(ctx, tx)
}

// exactSpan is the longest span the usage counts read exactly (top addresses
// from the segments themselves, failures from the hourly rows); longer spans
// add up whole UTC days.
const exactSpan = 24 * time.Hour

// TopAddresses returns the client addresses that sent a key the most
// requests since a time (within keep, the log's retention). Up to a day back
// it counts the logged requests themselves; further back it adds up whole
// UTC days (request_addr_days), from the start of since's day; from as far
// back as the log keeps, the sums of every day kept (request_addr_totals).
func (d *DB) TopAddresses(ctx context.Context, accountID, keyID int64, since, now time.Time, keep time.Duration, limit int) ([]AddrCount, error) {
	counts := map[netip.Addr]*AddrCount{}
	count := func(a netip.Addr) *AddrCount {
		c := counts[a]
		if c == nil {
			c = &AddrCount{Addr: a}
			counts[a] = c
		}
		return c
	}
	if now.Sub(since) <= exactSpan {
		ok := outcomeCode(OutcomeOK)
		err := d.eachEntry(ctx, accountID, keyID, since, func(e entry) {
			c := count(e.addr)
			c.N++
			if e.outcome != ok {
				c.Failed++
			}
		})
		if err != nil {
			return nil, fmt.Errorf("db: top addresses: %w", err)
		}
	} else {
		// Summed and ranked in SQL: a month of a busy key is thousands of rows.
		q, args := `SELECT addr, sum(n), sum(failed) FROM request_addr_days
			WHERE key_id = ? AND day >= ? AND account_id = ? GROUP BY addr ORDER BY sum(n) DESC, addr LIMIT ?`,
			[]any{keyID, since.Unix() / 86400, accountID, limit}
		if keep > 0 && !since.After(now.Add(-keep)) {
			q, args = `SELECT addr, n, failed FROM request_addr_totals
				WHERE key_id = ? AND account_id = ? ORDER BY n DESC, addr LIMIT ?`, []any{keyID, accountID, limit}
		}
		rows, err := d.read.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("db: top addresses: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var addr []byte
			var n, failed int64
			if err := rows.Scan(&addr, &n, &failed); err != nil {
				return nil, fmt.Errorf("db: top addresses: %w", err)
			}
			c := count(addrFromBytes(addr))
			c.N += n
			c.Failed += failed
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("db: top addresses: %w", err)
		}
	}
	out := make([]AddrCount, 0, len(counts))
	for _, c := range counts {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b AddrCount) int {
		return cmp.Or(cmp.Compare(b.N, a.N), a.Addr.Compare(b.Addr))
	})
	return out[:min(len(out), limit)], nil
}

// backfillAddrDays counts the requests per key, day and address of the
// segments written before request_addr_days existed, once (migration 13
// leaves a note in meta), a key at a time.
func (d *DB) backfillAddrDays(ctx context.Context) error {
	const note = "request_addr_days_backfill"
	if _, err := d.Meta(ctx, note); err != nil {
		if err == ErrNotFound {
			return nil
		}
		return err
	}
	return d.Exclusively(ctx, "request-addr-days-backfill", func(ctx context.Context) error {
		if _, err := d.Meta(ctx, note); err == ErrNotFound {
			return nil // another instance did it meanwhile
		}
		owners, err := queryAll(ctx, d.read, "count requests per address", scanPair,
			`SELECT DISTINCT account_id, key_id FROM request_segments`)
		if err != nil {
			return err
		}
		ok := outcomeCode(OutcomeOK)
		for _, o := range owners {
			m := addrCounts{}
			err := d.eachEntry(ctx, o[0], o[1], time.Unix(0, 0), func(e entry) {
				m.add(o[0], o[1], e.at, e.addr, e.outcome == ok)
			})
			if err != nil {
				return fmt.Errorf("db: count requests per address of key %d: %w", o[1], err)
			}
			// The key's rows are replaced, so a backfill cut short is redone whole.
			err = d.inTx(ctx, func(tx *Tx) error {
				for _, table := range []string{"request_addr_days", "request_addr_totals"} {
					if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE key_id = ?`, o[1]); err != nil {
						return err
					}
				}
				return m.write(ctx, tx)
			})
			if err != nil {
				return fmt.Errorf("db: count requests per address of key %d: %w", o[1], err)
			}
		}
		if _, err := d.write.ExecContext(ctx, `DELETE FROM meta WHERE name = ?`, note); err != nil {
			return fmt.Errorf("db: count requests per address: %w", err)
		}
		return nil
	})
}
