package db

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// The request log is kept in segments: each write of the log stores one row
// per key, whose data packs that key's requests of the batch, oldest first,
// about 15 bytes each. A row per request cost SQLite two b-tree inserts and
// eleven bound parameters per request, the largest single cost of an API
// call; a segment costs one insert per key and second. Reads decode the
// segments of one key, newest first, which the key page and the debugger
// need anyway, and hourly counts (request_hours) answer the charts.

// maxSegment is how many requests one segment holds at most: an entry's
// place in its segment is the low 16 bits of its id.
const maxSegment = 4096

// entry is one logged request as a segment stores it.
type entry struct {
	at                           int64 // Unix seconds
	route, status, outcome, auth int
	latencyUS                    int64
	addr                         netip.Addr
	agent                        int64 // request_agents.id, 0 for none
}

// segment is a run of one key's entries, oldest first.
type segment struct {
	accountID, keyID int64
	entries          []entry
}

// encode packs s's entries: per entry the seconds since the segment's first,
// route, status, outcome, auth, latency in µs and user agent id as varints,
// then the client address as a length byte (0, 4 or 16) and its bytes.
func (s segment) encode(buf []byte) (data []byte, first, last int64, outcomes int64, tokens int) {
	first = s.entries[0].at
	token := codeOf(requestRoutes, RouteToken)
	for _, e := range s.entries {
		buf = binary.AppendUvarint(buf, uint64(e.at-first))
		buf = binary.AppendUvarint(buf, uint64(e.route))
		buf = binary.AppendUvarint(buf, uint64(e.status))
		buf = binary.AppendUvarint(buf, uint64(e.outcome))
		buf = binary.AppendUvarint(buf, uint64(e.auth))
		buf = binary.AppendUvarint(buf, uint64(max(e.latencyUS, 0)))
		buf = binary.AppendUvarint(buf, uint64(max(e.agent, 0)))
		switch a := e.addr.Unmap(); {
		case !a.IsValid():
			buf = append(buf, 0)
		case a.Is4():
			b := a.As4()
			buf = append(append(buf, 4), b[:]...)
		default:
			b := a.As16()
			buf = append(append(buf, 16), b[:]...)
		}
		last = max(last, e.at)
		outcomes |= outcomeBit(e.outcome)
		if e.route == token && e.outcome == outcomeCode(OutcomeOK) {
			tokens++
		}
	}
	return buf, first, last, outcomes, tokens
}

// outcomeBit is an outcome's bit in a segment's outcomes mask.
func outcomeBit(code int) int64 {
	if code < 0 || code > 62 {
		return 0
	}
	return 1 << code
}

var errBadSegment = errors.New("db: a request log segment does not decode")

// decodeSegment unpacks data, whose first entry was at first, appending to out.
func decodeSegment(data []byte, first int64, out []entry) ([]entry, error) {
	for len(data) > 0 {
		var v [7]uint64
		for i := range v {
			x, n := binary.Uvarint(data)
			if n <= 0 {
				return out, errBadSegment
			}
			v[i], data = x, data[n:]
		}
		if len(data) == 0 {
			return out, errBadSegment
		}
		size := int(data[0])
		if (size != 0 && size != 4 && size != 16) || len(data) < 1+size {
			return out, errBadSegment
		}
		addr, _ := netip.AddrFromSlice(data[1 : 1+size])
		data = data[1+size:]
		out = append(out, entry{at: first + int64(v[0]), route: int(v[1]), status: int(v[2]), outcome: int(v[3]),
			auth: int(v[4]), latencyUS: int64(v[5]), agent: int64(v[6]), addr: addr})
	}
	return out, nil
}

// segmentsOf groups logged requests by key, oldest first, in segments.
func segmentsOf(rows []LoggedRequest, agents map[string]int64) []segment {
	g := keyGroups{first: len(rows)}
	var lastAgent string
	var lastAgentID int64
	for _, r := range rows {
		if r.UserAgent != lastAgent || lastAgentID == 0 {
			lastAgent, lastAgentID = r.UserAgent, agents[truncateUTF8(r.UserAgent, MaxUserAgent)]
		}
		g.add(r.AccountID, r.KeyID, entry{at: r.At.Unix(), route: codeOf(requestRoutes, r.Route), status: r.Status,
			outcome: outcomeCode(r.Outcome), auth: max(codeOf(requestAuths, r.Auth), 0),
			latencyUS: min(r.Latency.Microseconds(), 1<<31-1), addr: r.Addr, agent: lastAgentID})
	}
	return g.segments()
}

// keyGroups gathers entries by key, in the order keys first appear. A
// write's requests come in runs of one key, so the last key's group is kept
// at hand instead of looked up for each.
type keyGroups struct {
	order  [][2]int64
	groups [][]entry
	byKey  map[[2]int64]int // index in order and groups
	last   int              // 1 + the index of the last key added to; 0: none
	// first is the room the first key's group starts with: most writes
	// hold one key's requests, whose group would otherwise grow a dozen times.
	first int
}

func (g *keyGroups) add(accountID, keyID int64, e entry) {
	k := [2]int64{accountID, keyID}
	if g.last == 0 || g.order[g.last-1] != k {
		i, ok := g.byKey[k]
		if !ok {
			if g.byKey == nil {
				g.byKey = map[[2]int64]int{}
			}
			i = len(g.order)
			g.byKey[k] = i
			var es []entry
			if i == 0 {
				es = make([]entry, 0, g.first)
			}
			g.order, g.groups = append(g.order, k), append(g.groups, es)
		}
		g.last = i + 1
	}
	g.groups[g.last-1] = append(g.groups[g.last-1], e)
}

// segments cuts each key's entries, oldest first, into segments of at most maxSegment.
func (g *keyGroups) segments() []segment {
	var out []segment
	for i, k := range g.order {
		es := g.groups[i]
		slices.SortStableFunc(es, func(a, b entry) int { return int(a.at - b.at) })
		for len(es) > 0 {
			n := min(len(es), maxSegment)
			out = append(out, segment{accountID: k[0], keyID: k[1], entries: es[:n]})
			es = es[n:]
		}
	}
	return out
}

// convertRequestLog moves the rows of the request log's first form (a row
// per request, before segments) into segments, once, a batch at a time.
func (d *DB) convertRequestLog(ctx context.Context) error {
	return d.Exclusively(ctx, "request-log-convert", func(ctx context.Context) error {
		for {
			moved := 0
			err := d.inTx(ctx, func(tx *Tx) error {
				rows, err := tx.QueryContext(ctx, `SELECT id, account_id, key_id, at, route, status, outcome, auth,
					latency_us, addr, coalesce(agent_id, 0) FROM request_log ORDER BY id LIMIT 10000`)
				if err != nil {
					return err
				}
				var g keyGroups
				var last int64
				for rows.Next() {
					var e entry
					var account, key int64
					var addr []byte
					if err := rows.Scan(&last, &account, &key, &e.at, &e.route, &e.status, &e.outcome, &e.auth,
						&e.latencyUS, &addr, &e.agent); err != nil {
						rows.Close()
						return err
					}
					e.addr = addrFromBytes(addr)
					g.add(account, key, e)
					moved++
				}
				rows.Close()
				if err := rows.Err(); err != nil || moved == 0 {
					return err
				}
				if err := insertSegments(ctx, tx, g.segments()); err != nil {
					return err
				}
				_, err = tx.ExecContext(ctx, `DELETE FROM request_log WHERE id <= ?`, last)
				return err
			})
			if err != nil {
				return fmt.Errorf("db: move the request log into segments: %w", err)
			}
			if moved == 0 {
				return nil
			}
		}
	})
}

var segmentInsert = newInsertTable("request_segments", "account_id", "key_id", "first_at", "last_at", "n", "outcomes", "tokens", "data")

// insertSegments stores segs inside tx.
func insertSegments(ctx context.Context, tx *Tx, segs []segment) error {
	t := segmentInsert
	for len(segs) > 0 {
		n := min(len(segs), tx.rowsPerInsert(len(t.columns)))
		args := make([]any, 0, n*len(t.columns))
		for _, s := range segs[:n] {
			data, first, last, outcomes, tokens := s.encode(make([]byte, 0, 16*len(s.entries)))
			args = append(args, s.accountID, s.keyID, first, last, len(s.entries), outcomes, tokens, data)
		}
		if _, err := tx.ExecPrepared(ctx, t.insertSQL(n), args...); err != nil {
			return fmt.Errorf("db: insert request log: %w", err)
		}
		segs = segs[n:]
	}
	return nil
}

// smallSegment is a segment worth merging with its neighbours: a key that
// sees a request now and then writes a segment per request, whose row costs
// more than the request.
const smallSegment = 64

// compactSegments merges a key's small segments written before until into
// full ones, so a quiet key's log costs about what a busy key's does.
func compactSegments(ctx context.Context, tx *Tx, accountID, keyID, until int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, first_at, data FROM request_segments
		WHERE key_id = ? AND last_at < ? AND n < ? ORDER BY last_at, id`, keyID, until, smallSegment)
	if err != nil {
		return err
	}
	var g keyGroups
	var ids []any
	for rows.Next() {
		var id, first int64
		var data []byte
		if err := rows.Scan(&id, &first, &data); err != nil {
			rows.Close()
			return err
		}
		entries, err := decodeSegment(data, first, nil)
		if err != nil {
			rows.Close()
			return err
		}
		for _, e := range entries {
			g.add(accountID, keyID, e)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) < 2 {
		return err
	}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		q := `DELETE FROM request_segments WHERE id IN (?` + strings.Repeat(", ?", n-1) + `)`
		if _, err := tx.ExecContext(ctx, q, ids[:n]...); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return insertSegments(ctx, tx, g.segments())
}

// entryID is the id of a segment's i-th entry: the segment's id and the place.
func entryID(segment int64, i int) int64 { return segment<<16 | int64(i) }

// RecentRequests returns a page of a key's logged requests, newest first,
// and the cursor of the next page (zero when there is none).
func (d *DB) RecentRequests(ctx context.Context, accountID, keyID int64, f RequestFilter) ([]LoggedRequest, RequestCursor, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	keep := func(outcome int) bool { return true }
	q := `SELECT id, first_at, last_at, data FROM request_segments WHERE key_id = ? AND account_id = ?`
	args := []any{keyID, accountID}
	switch f.Outcome {
	case "":
	case OutcomeFailed:
		ok := outcomeCode(OutcomeOK)
		q += ` AND outcomes <> ?`
		args = append(args, outcomeBit(ok))
		keep = func(outcome int) bool { return outcome != ok }
	default:
		want := outcomeCode(f.Outcome)
		q += ` AND (outcomes & ?) <> 0`
		args = append(args, outcomeBit(want))
		keep = func(outcome int) bool { return outcome == want }
	}
	if f.Before != (RequestCursor{}) {
		q += ` AND (last_at < ? OR last_at = ? AND id <= ?)`
		args = append(args, f.Before.At, f.Before.At, f.Before.ID>>16)
	}
	q += ` ORDER BY last_at DESC, id DESC`
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, RequestCursor{}, fmt.Errorf("db: recent requests: %w", err)
	}
	defer rows.Close()
	var out []LoggedRequest
	var cursors []RequestCursor
	var entries []entry
	for rows.Next() && len(out) <= limit {
		var id, first, last int64
		var data []byte
		if err := rows.Scan(&id, &first, &last, &data); err != nil {
			return nil, RequestCursor{}, fmt.Errorf("db: recent requests: %w", err)
		}
		if entries, err = decodeSegment(data, first, entries[:0]); err != nil {
			return nil, RequestCursor{}, err
		}
		for i := len(entries) - 1; i >= 0 && len(out) <= limit; i-- {
			e := entries[i]
			if f.Before != (RequestCursor{}) && id == f.Before.ID>>16 && int64(i) >= f.Before.ID&0xffff {
				continue
			}
			if !keep(e.outcome) {
				continue
			}
			out = append(out, LoggedRequest{ID: entryID(id, i), AccountID: accountID, KeyID: keyID,
				At: time.Unix(e.at, 0).UTC(), Route: nameOf(requestRoutes, e.route), Status: e.status,
				Outcome: nameOf(requestOutcomes, e.outcome), Auth: nameOf(requestAuths, e.auth),
				Latency: time.Duration(e.latencyUS) * time.Microsecond, Addr: e.addr, UserAgent: agentRef(e.agent)})
			cursors = append(cursors, RequestCursor{At: last, ID: entryID(id, i)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, RequestCursor{}, fmt.Errorf("db: recent requests: %w", err)
	}
	rows.Close()
	var next RequestCursor
	if len(out) > limit {
		out, next = out[:limit], cursors[limit-1]
	}
	if err := d.nameAgents(ctx, out); err != nil {
		return nil, RequestCursor{}, err
	}
	return out, next, nil
}

// agentRef holds a user agent's id in UserAgent until nameAgents names it.
func agentRef(id int64) string {
	if id == 0 {
		return ""
	}
	return "\x00" + string(binary.AppendVarint(nil, id))
}

// nameAgents replaces the agent ids agentRef left in rs by the agents.
func (d *DB) nameAgents(ctx context.Context, rs []LoggedRequest) error {
	names := map[string]string{}
	for _, r := range rs {
		if r.UserAgent != "" {
			names[r.UserAgent] = ""
		}
	}
	for ref := range names {
		id, _ := binary.Varint([]byte(ref[1:]))
		var agent string
		err := d.read.QueryRowContext(ctx, `SELECT agent FROM request_agents WHERE id = ?`, id).Scan(&agent)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("db: user agent: %w", err)
		}
		names[ref] = agent
	}
	for i := range rs {
		if rs[i].UserAgent != "" {
			rs[i].UserAgent = names[rs[i].UserAgent]
		}
	}
	return nil
}

// eachEntry calls fn with every logged request of a key at since or later.
func (d *DB) eachEntry(ctx context.Context, accountID, keyID int64, since time.Time, fn func(e entry)) error {
	rows, err := d.read.QueryContext(ctx, `SELECT first_at, data FROM request_segments
		WHERE key_id = ? AND account_id = ? AND last_at >= ?`, keyID, accountID, since.Unix())
	if err != nil {
		return err
	}
	defer rows.Close()
	var entries []entry
	for rows.Next() {
		var first int64
		var data []byte
		if err := rows.Scan(&first, &data); err != nil {
			return err
		}
		if entries, err = decodeSegment(data, first, entries[:0]); err != nil {
			return err
		}
		for _, e := range entries {
			if e.at >= since.Unix() {
				fn(e)
			}
		}
	}
	return rows.Err()
}

// CountRequests counts a key's logged requests of one route and outcome
// since a time. Tokens issued are counted per segment as it is written, so
// only the segment that straddles since is decoded for them.
func (d *DB) CountRequests(ctx context.Context, accountID, keyID int64, route, outcome string, since time.Time) (int64, error) {
	routeCode, want := codeOf(requestRoutes, route), outcomeCode(outcome)
	var n int64
	if route == RouteToken && outcome == OutcomeOK {
		// first_at >= since implies last_at >= since, which the index can seek.
		err := d.read.QueryRowContext(ctx, `SELECT coalesce(sum(tokens), 0) FROM request_segments
			WHERE key_id = ? AND last_at >= ? AND first_at >= ? AND account_id = ?`,
			keyID, since.Unix(), since.Unix(), accountID).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("db: count requests: %w", err)
		}
		var straddling int64
		rows, err := d.read.QueryContext(ctx, `SELECT first_at, data FROM request_segments
			WHERE key_id = ? AND account_id = ? AND last_at >= ? AND first_at < ?`, keyID, accountID, since.Unix(), since.Unix())
		if err != nil {
			return 0, fmt.Errorf("db: count requests: %w", err)
		}
		defer rows.Close()
		var entries []entry
		for rows.Next() {
			var first int64
			var data []byte
			if err := rows.Scan(&first, &data); err != nil {
				return 0, fmt.Errorf("db: count requests: %w", err)
			}
			if entries, err = decodeSegment(data, first, entries[:0]); err != nil {
				return 0, err
			}
			for _, e := range entries {
				if e.at >= since.Unix() && e.route == routeCode && e.outcome == want {
					straddling++
				}
			}
		}
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("db: count requests: %w", err)
		}
		return n + straddling, nil
	}
	err := d.eachEntry(ctx, accountID, keyID, since, func(e entry) {
		if e.route == routeCode && e.outcome == want {
			n++
		}
	})
	if err != nil {
		return 0, fmt.Errorf("db: count requests: %w", err)
	}
	return n, nil
}
