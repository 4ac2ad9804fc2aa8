package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// LoggedRequest is one API request that named a key. It never holds a
// secret, a token or a body.
type LoggedRequest struct {
	ID        int64
	At        time.Time
	AccountID int64
	KeyID     int64
	// PublicKey names the key when the request did not reach a usable key
	// (a revoked one) and KeyID is not known either; with AccountID 0 the
	// writer finds the ids, off the request's path.
	PublicKey string
	Route     string
	Status    int
	Outcome   string
	Auth      string
	Addr      netip.Addr
	UserAgent string
	Latency   time.Duration
	// Sent is kept for failed signed and token requests only, for the debugger.
	Sent *SentCredentials
}

// SentCredentials is what a client sent with a failed request, as much as
// the signature debugger needs: the timestamp and MAC it sent (the client's
// MAC, not a secret of ours), the signature version header, and for the
// token endpoint a keyed fingerprint of the secret it sent (never the secret).
type SentCredentials struct {
	Timestamp   string
	Token       string
	Version     string
	SecretPrint []byte
	// Target (path and query as sent) and BodySum (the SHA-256 of the body
	// as received) are kept for a failed version 2 signature.
	Target  string
	BodySum []byte
}

// MaxUserAgent is how much of a user agent the log keeps.
const MaxUserAgent = 120

// maxSent bounds each field of SentCredentials as stored; maxTarget the target.
const (
	maxSent   = 128
	maxTarget = 1024
)

// The writer's limits: entries waiting at most (beyond that they are
// dropped and counted), how often it writes, and how many distinct user
// agents it interns before storing new ones as unknown.
const (
	requestLogBuffer = 1 << 16
	requestLogFlush  = time.Second
	requestLogKick   = 4096
	// maxSpare is the largest buffer kept for the next write (~3 MB).
	maxSpare  = 4 * requestLogKick
	maxAgents = 4096
	// maxLookups bounds the keys looked up by public key per flush.
	maxLookups = 64
	// HourlyRetention is how long the hourly counts are kept.
	HourlyRetention = 400 * 24 * time.Hour
)

// RequestLog records API requests off the request's path: Record appends to
// a buffer, and one goroutine writes the buffer every second in one
// transaction (a multi-row insert, plus the hourly counts). It also folds
// the log: rows older than the retention are deleted (their hourly counts
// were kept as they were written), on one instance at a time.
type RequestLog struct {
	d       *DB
	now     func() time.Time
	keep    time.Duration
	log     *slog.Logger
	kick    chan struct{}
	dropped atomic.Int64

	mu  sync.Mutex
	buf []LoggedRequest
	// spare is the buffer of the last write, emptied, for the next one: a
	// buffer grown afresh each second cost a Bearer call a share of its time.
	spare []LoggedRequest

	flushMu sync.Mutex
	agents  map[string]int64    // user agent → id
	keys    map[string][2]int64 // public key → account id, key id (0, 0: not a key)
}

// NewRequestLog returns the request log of d, keeping rows for keep.
func (d *DB) NewRequestLog(now func() time.Time, keep time.Duration, log *slog.Logger) *RequestLog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RequestLog{d: d, now: now, keep: keep, log: log, kick: make(chan struct{}, 1),
		agents: map[string]int64{}, keys: map[string][2]int64{}}
}

// Record queues r; it never waits for the database.
func (l *RequestLog) Record(r LoggedRequest) {
	l.mu.Lock()
	if len(l.buf) >= requestLogBuffer {
		l.mu.Unlock()
		l.dropped.Add(1)
		return
	}
	l.buf = append(l.buf, r)
	n := len(l.buf)
	l.mu.Unlock()
	if n == requestLogKick {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// Keep is how long the log keeps each request.
func (l *RequestLog) Keep() time.Duration { return l.keep }

// Dropped is how many requests were not logged because the writer fell behind.
func (l *RequestLog) Dropped() int64 { return l.dropped.Load() }

// Run writes the log every second and folds it every ten minutes until ctx
// ends, then writes what is left.
func (l *RequestLog) Run(ctx context.Context) {
	flush := time.NewTicker(requestLogFlush)
	defer flush.Stop()
	fold := time.NewTicker(10 * time.Minute)
	defer fold.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := l.Flush(context.WithoutCancel(ctx)); err != nil {
				l.log.Warn("request log: last write failed", "err", err)
			}
			return
		case <-flush.C:
		case <-l.kick:
		case <-fold.C:
			err := l.d.Exclusively(ctx, "request-log-fold", func(ctx context.Context) error { return l.Fold(ctx) })
			if err != nil && ctx.Err() == nil {
				l.log.Warn("request log: folding failed", "err", err)
			}
			continue
		}
		if err := l.Flush(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn("request log: write failed; those requests are not logged", "err", err)
		}
	}
}

// Flush writes every queued request now.
func (l *RequestLog) Flush(ctx context.Context) error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	batch := l.buf
	l.buf, l.spare = l.spare[:0], nil
	l.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if cap(batch) <= maxSpare {
		defer func() {
			clear(batch[:cap(batch)]) // drop what the entries point at
			l.mu.Lock()
			l.spare = batch[:0]
			l.mu.Unlock()
		}()
	}
	batch = l.resolveKeys(ctx, batch)
	return l.d.inTxUnsynced(ctx, func(tx *Tx) error {
		agentIDs, err := l.internAgents(ctx, tx, batch)
		if err != nil {
			return err
		}
		if err := insertSegments(ctx, tx, segmentsOf(batch, agentIDs)); err != nil {
			return err
		}
		if err := insertFailures(ctx, tx, batch); err != nil {
			return err
		}
		if err := addAddrDays(ctx, tx, batch); err != nil {
			return err
		}
		return addHours(ctx, tx, batch)
	})
}

// resolveKeys fills in the ids of requests that named a key by its public
// key only, and drops those that named no key of keydesk's.
func (l *RequestLog) resolveKeys(ctx context.Context, batch []LoggedRequest) []LoggedRequest {
	lookups := 0
	out := batch[:0]
	for _, r := range batch {
		if r.AccountID == 0 && (r.KeyID != 0 || r.PublicKey != "") {
			name := r.PublicKey
			if r.KeyID != 0 {
				name = strconv.FormatInt(r.KeyID, 10)
			}
			ids, ok := l.keys[name]
			if !ok && lookups < maxLookups {
				lookups++
				var k APIKey
				var err error
				if r.KeyID != 0 {
					k, err = l.d.APIKeyByID(ctx, r.KeyID)
				} else {
					k, err = l.d.APIKeyByPublic(ctx, r.PublicKey)
				}
				if err == nil {
					ids = [2]int64{k.AccountID, k.ID}
				}
				if err == nil || errors.Is(err, ErrNotFound) {
					if len(l.keys) > maxAgents {
						clear(l.keys)
					}
					l.keys[name] = ids
				}
			}
			r.AccountID, r.KeyID = ids[0], ids[1]
		}
		if r.KeyID != 0 && r.AccountID != 0 {
			out = append(out, r)
		}
	}
	return out
}

// internAgents returns the id of each user agent of batch, storing new ones.
func (l *RequestLog) internAgents(ctx context.Context, tx *Tx, batch []LoggedRequest) (map[string]int64, error) {
	ids := map[string]int64{}
	for _, r := range batch {
		ua := truncateUTF8(r.UserAgent, MaxUserAgent)
		if ua == "" {
			continue
		}
		if _, seen := ids[ua]; seen {
			continue
		}
		if id, ok := l.agents[ua]; ok {
			ids[ua] = id
			continue
		}
		if len(l.agents) >= maxAgents {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO request_agents (agent) VALUES (?) ON CONFLICT (agent) DO NOTHING`, ua); err != nil {
			return nil, fmt.Errorf("db: intern user agent: %w", err)
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM request_agents WHERE agent = ?`, ua).Scan(&id); err != nil {
			return nil, fmt.Errorf("db: intern user agent: %w", err)
		}
		ids[ua] = id
	}
	// Remembered only once the transaction is likely to commit; a failed
	// flush at worst looks an agent up again.
	for ua, id := range ids {
		l.agents[ua] = id
	}
	return ids, nil
}

func insertFailures(ctx context.Context, tx *Tx, batch []LoggedRequest) error {
	for _, r := range batch {
		if r.Sent == nil {
			continue
		}
		s := r.Sent
		_, err := tx.ExecPrepared(ctx, `INSERT INTO request_failures (account_id, key_id, at, route, outcome,
			sent_timestamp, sent_token, sent_version, secret_print, sent_target, body_sum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.AccountID, r.KeyID, r.At.Unix(), codeOf(requestRoutes, r.Route), outcomeCode(r.Outcome),
			truncateUTF8(s.Timestamp, maxSent), truncateUTF8(s.Token, maxSent), truncateUTF8(s.Version, 8), s.SecretPrint,
			truncateUTF8(s.Target, maxTarget), s.BodySum)
		if err != nil {
			return fmt.Errorf("db: insert request failure: %w", err)
		}
	}
	return nil
}

type hourKey struct {
	account, key, hour int64
	route, outcome     int
}

type totalKey struct{ account, key, hour int64 }

// hourTotal is a key's row of request_hour_totals.
type hourTotal struct{ ok, failed, reads, writes int64 }

// addHours adds the batch to the hourly counts of each key and of each
// account (key 0), per route and outcome and in total, in a fixed order so
// two instances never deadlock.
func addHours(ctx context.Context, tx *Tx, batch []LoggedRequest) error {
	counts := map[hourKey]int64{}
	for _, r := range batch {
		k := hourKey{r.AccountID, r.KeyID, r.At.Unix() / 3600, max(codeOf(requestRoutes, r.Route), 0), outcomeCode(r.Outcome)}
		counts[k]++
		k.key = 0
		counts[k]++
	}
	// The hourly totals, from the counts' groups rather than from each request.
	okCode := outcomeCode(OutcomeOK)
	totals := map[totalKey]*hourTotal{}
	for k, n := range counts {
		tk := totalKey{k.account, k.key, k.hour}
		t := totals[tk]
		if t == nil {
			t = &hourTotal{}
			totals[tk] = t
		}
		switch {
		case k.outcome != okCode:
			t.failed += n
		case slices.Contains(readRoutes, k.route):
			t.ok += n
			t.reads += n
		case slices.Contains(writeRoutes, k.route):
			t.ok += n
			t.writes += n
		default:
			t.ok += n
		}
	}
	groups := slices.SortedFunc(maps.Keys(counts), func(a, b hourKey) int {
		return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.key, b.key), cmp.Compare(a.hour, b.hour),
			cmp.Compare(a.route, b.route), cmp.Compare(a.outcome, b.outcome))
	})
	err := upsertRows(ctx, tx, len(groups), 6, func(args []any, i int) []any {
		g := groups[i]
		return append(args, g.account, g.key, g.hour, g.route, g.outcome, counts[g])
	}, `INSERT INTO request_hours (account_id, key_id, hour, route, outcome, n) VALUES `,
		` ON CONFLICT (account_id, key_id, hour, route, outcome) DO UPDATE SET n = request_hours.n + excluded.n`)
	if err != nil {
		return fmt.Errorf("db: add hourly counts: %w", err)
	}
	// The failures per day and outcome, from the hourly counts' groups.
	failDays := map[hourKey]int64{}
	for k, n := range counts {
		if k.outcome != okCode {
			failDays[hourKey{k.account, k.key, k.hour / 24, 0, k.outcome}] += n
		}
	}
	days := slices.SortedFunc(maps.Keys(failDays), func(a, b hourKey) int {
		return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.key, b.key), cmp.Compare(a.hour, b.hour), cmp.Compare(a.outcome, b.outcome))
	})
	err = upsertRows(ctx, tx, len(days), 5, func(args []any, i int) []any {
		d := days[i]
		return append(args, d.account, d.key, d.hour, d.outcome, failDays[d])
	}, `INSERT INTO request_failure_days (account_id, key_id, day, outcome, n) VALUES `,
		` ON CONFLICT (account_id, key_id, day, outcome) DO UPDATE SET n = request_failure_days.n + excluded.n`)
	if err != nil {
		return fmt.Errorf("db: add failures per day: %w", err)
	}
	keys := slices.SortedFunc(maps.Keys(totals), func(a, b totalKey) int {
		return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.key, b.key), cmp.Compare(a.hour, b.hour))
	})
	err = upsertRows(ctx, tx, len(keys), 7, func(args []any, i int) []any {
		k, t := keys[i], totals[keys[i]]
		return append(args, k.account, k.key, k.hour, t.ok, t.failed, t.reads, t.writes)
	}, `INSERT INTO request_hour_totals (account_id, key_id, hour, ok, failed, reads, writes) VALUES `,
		` ON CONFLICT (account_id, key_id, hour) DO UPDATE SET ok = request_hour_totals.ok + excluded.ok,
			failed = request_hour_totals.failed + excluded.failed, reads = request_hour_totals.reads + excluded.reads,
			writes = request_hour_totals.writes + excluded.writes`)
	if err != nil {
		return fmt.Errorf("db: add hourly totals: %w", err)
	}
	return nil
}

// upsertRows inserts n rows of cols values each, as many a statement as the
// backend binds well: row(args, i) appends row i's values.
func upsertRows(ctx context.Context, tx *Tx, n, cols int, row func(args []any, i int) []any, insert, conflict string) error {
	placeholders := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	for done := 0; done < n; {
		m := min(n-done, tx.rowsPerInsert(cols))
		args := make([]any, 0, cols*m)
		for i := done; i < done+m; i++ {
			args = row(args, i)
		}
		q := insert + strings.TrimSuffix(strings.Repeat(placeholders+", ", m), ", ") + conflict
		if _, err := tx.ExecPrepared(ctx, q, args...); err != nil {
			return err
		}
		done += m
	}
	return nil
}

// scanPair reads two integers: an account's and a key's id.
func scanPair(s scanner) ([2]int64, error) {
	var o [2]int64
	err := s.Scan(&o[0], &o[1])
	return o, err
}

// Fold deletes logged requests older than the log's retention, whose
// hourly counts stay, and hourly counts older than HourlyRetention. It
// works key by key so every delete follows an index.
func (l *RequestLog) Fold(ctx context.Context) error {
	now := l.now()
	before, hourBefore := now.Add(-l.keep).Unix(), now.Add(-HourlyRetention).Unix()/3600
	owners, err := queryAll(ctx, l.d.read, "fold request log", scanPair,
		`SELECT account_id, id FROM api_keys UNION ALL SELECT id, 0 FROM accounts`)
	if err != nil {
		return err
	}
	for _, o := range owners {
		err := l.d.inTx(ctx, func(tx *Tx) error {
			if o[1] != 0 {
				if _, err := tx.ExecContext(ctx, `DELETE FROM request_segments WHERE key_id = ? AND last_at < ?`, o[1], before); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM request_failures WHERE key_id = ? AND at < ?`, o[1], before); err != nil {
					return err
				}
				if err := foldAddrDays(ctx, tx, o[1], before/86400); err != nil {
					return err
				}
				if err := compactSegments(ctx, tx, o[0], o[1], now.Add(-time.Hour).Unix()); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM request_hours WHERE account_id = ? AND key_id = ? AND hour < ?`, o[0], o[1], hourBefore); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM request_hour_totals WHERE account_id = ? AND key_id = ? AND hour < ?`, o[0], o[1], hourBefore); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM request_failure_days WHERE account_id = ? AND key_id = ? AND day < ?`, o[0], o[1], hourBefore/24)
			return err
		})
		if err != nil {
			return fmt.Errorf("db: fold request log of key %d: %w", o[1], err)
		}
	}
	return nil
}

func outcomeCode(name string) int {
	if strings.HasPrefix(name, "missing_license_") && codeOf(requestOutcomes, name) < 0 {
		return 0
	}
	return max(codeOf(requestOutcomes, name), 0)
}

// addrBytes stores an IPv4 address (or an IPv4-mapped IPv6 one) in 4 bytes, IPv6 in 16.
func addrBytes(a netip.Addr) any {
	if !a.IsValid() {
		return nil
	}
	if a = a.Unmap(); a.Is4() {
		b := a.As4()
		return b[:]
	}
	b := a.As16()
	return b[:]
}

func addrFromBytes(b []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(b)
	return a
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
