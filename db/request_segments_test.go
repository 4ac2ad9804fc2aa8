package db

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func TestSegmentRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
	}{
		{"one, no address", []entry{{at: 1732390000, route: 1, status: 200, outcome: 1, auth: 2, latencyUS: 900}}},
		{"v4, v6 and a mapped v4", []entry{
			{at: 100, route: 3, status: 401, outcome: 5, auth: 3, latencyUS: 1 << 30, addr: netip.MustParseAddr("203.0.113.7"), agent: 7},
			{at: 100, route: 0, status: 201, outcome: 1, addr: netip.MustParseAddr("2001:db8::1"), agent: 1 << 40},
			{at: 4000, route: 2, status: 429, outcome: 27, addr: netip.MustParseAddr("::ffff:198.51.100.2")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, first, last, outcomes, _ := segment{entries: tt.entries}.encode(nil)
			got, err := decodeSegment(data, first, nil)
			if err != nil || len(got) != len(tt.entries) {
				t.Fatalf("decode = %d entries, %v", len(got), err)
			}
			for i, e := range tt.entries {
				e.addr = e.addr.Unmap()
				if got[i] != e {
					t.Errorf("entry %d = %+v, want %+v", i, got[i], e)
				}
				if outcomes&outcomeBit(e.outcome) == 0 {
					t.Errorf("outcome %d missing from mask %b", e.outcome, outcomes)
				}
				if e.at > last {
					t.Errorf("last %d before entry at %d", last, e.at)
				}
			}
			if _, err := decodeSegment(data[:len(data)-1], first, nil); err == nil {
				t.Error("a segment missing its last byte decodes without an error")
			}
		})
	}
}

// Pages cross segments (one per key and write) without losing or repeating
// a request, and the outcome filter skips segments without that outcome.
func TestRecentRequestsAcrossSegments(t *testing.T) {
	forEachBackend(t, testRecentRequestsAcrossSegments)
}

func testRecentRequestsAcrossSegments(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "pages")
	k := fixtureKey(t, d, acc, fixtureUser(t, d, acc, "a@pages.test"), "CRM")
	l := d.NewRequestLog(func() time.Time { return fixtureNow }, 30*24*time.Hour, nil)
	const writes, each = 5, 7
	for w := range writes {
		for i := range each {
			outcome := OutcomeOK
			if w == 3 && i == 2 {
				outcome = "invalid_signature"
			}
			l.Record(LoggedRequest{At: fixtureNow.Add(time.Duration(w*each+i) * time.Second), AccountID: acc.ID, KeyID: k.ID,
				Route: "GET /api/v1/key", Status: 200, Outcome: outcome, Auth: AuthBearer, UserAgent: fmt.Sprintf("agent %d", w)})
		}
		if err := l.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var seen []time.Time
	cur := RequestCursor{}
	for page := 0; ; page++ {
		rows, next, err := d.RecentRequests(ctx, acc.ID, k.ID, RequestFilter{Limit: 4, Before: cur})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			seen = append(seen, r.At)
			if want := fmt.Sprintf("agent %d", int(r.At.Sub(fixtureNow)/time.Second)/each); r.UserAgent != want {
				t.Errorf("request at %v has agent %q, want %q", r.At, r.UserAgent, want)
			}
		}
		if next == (RequestCursor{}) {
			break
		}
		if page > writes*each {
			t.Fatal("paging does not end")
		}
		cur = next
	}
	if len(seen) != writes*each {
		t.Fatalf("paged through %d requests, want %d", len(seen), writes*each)
	}
	for i := 1; i < len(seen); i++ {
		if !seen[i].Before(seen[i-1]) {
			t.Fatalf("request %d at %v is not older than the one before (%v)", i, seen[i], seen[i-1])
		}
	}
	failed, next, err := d.RecentRequests(ctx, acc.ID, k.ID, RequestFilter{Outcome: OutcomeFailed, Limit: 4})
	if err != nil || len(failed) != 1 || failed[0].Outcome != "invalid_signature" || next != (RequestCursor{}) {
		t.Errorf("failed = %+v, next %v, %v", failed, next, err)
	}
	if n, err := d.CountRequests(ctx, acc.ID, k.ID, "GET /api/v1/key", OutcomeOK, fixtureNow.Add(10*time.Second)); err != nil || n != writes*each-10-1 {
		t.Errorf("CountRequests since 10 s = %d, %v; want %d", n, err, writes*each-10-1)
	}
}

// Rows logged before segments existed are moved into segments at start.
func TestRequestLogMovesOldRows(t *testing.T) { forEachBackend(t, testRequestLogMovesOldRows) }

func testRequestLogMovesOldRows(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "old")
	u := fixtureUser(t, d, acc, "a@old.test")
	k, k2 := fixtureKey(t, d, acc, u, "CRM"), fixtureKey(t, d, acc, u, "Web")
	var agent int64
	if err := d.write.QueryRowContext(ctx, `INSERT INTO request_agents (agent) VALUES ('curl/8.5.0') RETURNING id`).Scan(&agent); err != nil {
		t.Fatal(err)
	}
	v4 := netip.MustParseAddr("203.0.113.9")
	for i := range 12 {
		key := k.ID
		if i%3 == 0 {
			key = k2.ID
		}
		_, err := d.write.ExecContext(ctx, `INSERT INTO request_log (account_id, key_id, at, route, status, outcome, auth, latency_us, addr, agent_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, acc.ID, key, fixtureNow.Unix()+int64(i), codeOf(requestRoutes, RouteToken), 200,
			outcomeCode(OutcomeOK), codeOf(requestAuths, AuthBasic), 1500, addrBytes(v4), agent)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := d.convertRequestLog(ctx); err != nil {
		t.Fatal(err)
	}
	rows, _, err := d.RecentRequests(ctx, acc.ID, k.ID, RequestFilter{})
	if err != nil || len(rows) != 8 {
		t.Fatalf("key 1 has %d requests after the move, %v; want 8", len(rows), err)
	}
	if r := rows[0]; r.At.Unix() != fixtureNow.Unix()+11 || r.Addr != v4 || r.UserAgent != "curl/8.5.0" || r.Route != RouteToken || r.Latency != 1500*time.Microsecond {
		t.Errorf("newest moved request = %+v", r)
	}
	if n, _ := d.CountRequests(ctx, acc.ID, k2.ID, RouteToken, OutcomeOK, fixtureNow); n != 4 {
		t.Errorf("key 2 issued %d tokens after the move, want 4", n)
	}
	var left int
	d.read.QueryRowContext(ctx, `SELECT count(*) FROM request_log`).Scan(&left)
	if left != 0 {
		t.Errorf("%d rows left in the old request log", left)
	}
	if err := d.convertRequestLog(ctx); err != nil {
		t.Fatal(err)
	}
	if rows, _, _ := d.RecentRequests(ctx, acc.ID, k.ID, RequestFilter{}); len(rows) != 8 {
		t.Errorf("a second start moved again: %d requests", len(rows))
	}
}

// Folding merges a quiet key's one-request segments into one, keeping every request.
func TestFoldCompactsSmallSegments(t *testing.T) { forEachBackend(t, testFoldCompactsSmallSegments) }

func testFoldCompactsSmallSegments(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "quiet")
	k := fixtureKey(t, d, acc, fixtureUser(t, d, acc, "a@quiet.test"), "CRM")
	now := fixtureNow
	l := d.NewRequestLog(func() time.Time { return now }, 30*24*time.Hour, nil)
	const n = 10
	for i := range n {
		l.Record(LoggedRequest{At: fixtureNow.Add(time.Duration(i) * time.Minute), AccountID: acc.ID, KeyID: k.ID,
			Route: RouteToken, Status: 200, Outcome: OutcomeOK, Auth: AuthBasic, UserAgent: "curl/8.5.0"})
		if err := l.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	segments := func() (c int) {
		d.read.QueryRowContext(ctx, `SELECT count(*) FROM request_segments WHERE key_id = ?`, k.ID).Scan(&c)
		return c
	}
	if got := segments(); got != n {
		t.Fatalf("%d segments before folding, want %d", got, n)
	}
	now = fixtureNow.Add(3 * time.Hour)
	if err := l.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	if got := segments(); got != 1 {
		t.Errorf("%d segments after folding, want 1", got)
	}
	rows, _, err := d.RecentRequests(ctx, acc.ID, k.ID, RequestFilter{})
	if err != nil || len(rows) != n || !rows[0].At.Equal(fixtureNow.Add((n-1)*time.Minute)) || rows[0].UserAgent != "curl/8.5.0" {
		t.Fatalf("after folding: %d requests, newest %+v, %v", len(rows), rows, err)
	}
	if c, _ := d.CountRequests(ctx, acc.ID, k.ID, RouteToken, OutcomeOK, fixtureNow.Add(5*time.Minute)); c != n-5 {
		t.Errorf("tokens since 5 minutes in = %d, want %d", c, n-5)
	}
}

// ReadsAndWrites sums a key's successful reads and writes from the hourly counts.
func TestReadsAndWrites(t *testing.T) { forEachBackend(t, testReadsAndWrites) }

func testReadsAndWrites(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "rw")
	k := fixtureKey(t, d, acc, fixtureUser(t, d, acc, "a@rw.test"), "CRM")
	l := d.NewRequestLog(func() time.Time { return fixtureNow }, 30*24*time.Hour, nil)
	for i, r := range []struct {
		route, outcome string
		n              int
	}{
		{"POST /api/v1/leads", OutcomeOK, 5},
		{"GET /api/v1/leads", OutcomeOK, 2},
		{"GET /api/v1/leads", "invalid_signature", 7},
		{RouteToken, OutcomeOK, 3},
	} {
		for range r.n {
			l.Record(LoggedRequest{At: fixtureNow.Add(-time.Duration(i) * 24 * time.Hour), AccountID: acc.ID, KeyID: k.ID,
				Route: r.route, Status: 200, Outcome: r.outcome, Auth: AuthBearer})
		}
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if reads, writes, err := d.ReadsAndWrites(ctx, acc.ID, k.ID, fixtureNow.Add(-90*24*time.Hour)); err != nil || reads != 2 || writes != 5 {
		t.Errorf("ReadsAndWrites = %d reads, %d writes, %v; want 2 and 5 (failures and tokens left out)", reads, writes, err)
	}
	if reads, writes, _ := d.ReadsAndWrites(ctx, acc.ID, k.ID, fixtureNow.Add(-12*time.Hour)); reads != 0 || writes != 5 {
		t.Errorf("in the last 12 hours: %d reads, %d writes; want 0 and 5", reads, writes)
	}
}
