package db

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRequestLog(t *testing.T) { forEachBackend(t, testRequestLog) }

func testRequestLog(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc, other := fixtureAccount(t, d, "usage"), fixtureAccount(t, d, "elsewhere")
	u, ou := fixtureUser(t, d, acc, "a@usage.test"), fixtureUser(t, d, other, "a@elsewhere.test")
	k, k2, foreign := fixtureKey(t, d, acc, u, "CRM"), fixtureKey(t, d, acc, u, "Web"), fixtureKey(t, d, other, ou, "CRM")
	now := fixtureNow
	clock := func() time.Time { return now }
	l := d.NewRequestLog(clock, 30*24*time.Hour, nil)

	at := func(min int) time.Time { return fixtureNow.Add(time.Duration(min) * time.Minute) }
	v4, v6 := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8::1")
	l.Record(LoggedRequest{At: at(-90), AccountID: acc.ID, KeyID: k.ID, Route: RouteToken, Status: 200, Outcome: OutcomeOK,
		Auth: AuthBasic, Addr: v4, UserAgent: "curl/8.5.0", Latency: 1500 * time.Microsecond})
	l.Record(LoggedRequest{At: at(-20), AccountID: acc.ID, KeyID: k.ID, Route: RouteToken, Status: 200, Outcome: OutcomeOK,
		Auth: AuthBasic, Addr: v4, UserAgent: "curl/8.5.0"})
	l.Record(LoggedRequest{At: at(-10), AccountID: acc.ID, KeyID: k.ID, Route: "GET /api/v1/leads", Status: 401,
		Outcome: "invalid_signature", Auth: AuthSignature, Addr: v6, UserAgent: "integration/1.0",
		Sent: &SentCredentials{Timestamp: "1732390000", Token: "ABCDEF", Version: ""}})
	l.Record(LoggedRequest{At: at(-5), AccountID: acc.ID, KeyID: k.ID, Route: "POST /api/v1/leads", Status: 201,
		Outcome: OutcomeOK, Auth: AuthBearer, Addr: netip.MustParseAddr("::ffff:198.51.100.2")})
	l.Record(LoggedRequest{At: at(-5), AccountID: acc.ID, KeyID: k2.ID, Route: "POST /api/v1/leads", Status: 201, Outcome: OutcomeOK, Auth: AuthBearer})
	l.Record(LoggedRequest{At: at(-4), AccountID: other.ID, KeyID: foreign.ID, Route: RouteToken, Status: 200, Outcome: OutcomeOK, Auth: AuthBasic})
	// Named by public key only (as a revoked key's request is): found by the writer.
	l.Record(LoggedRequest{At: at(-3), PublicKey: k2.PublicKey, Route: RouteToken, Status: 401, Outcome: "invalid_client", Auth: AuthForm})
	l.Record(LoggedRequest{At: at(-3), PublicKey: "kd_live_not-a-key-of-ours", Route: RouteToken, Status: 401, Outcome: "invalid_client"})
	if err := l.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}

	got, next, err := d.RecentRequests(ctx, acc.ID, k.ID, RequestFilter{})
	if err != nil || len(got) != 4 || next != (RequestCursor{}) {
		t.Fatalf("RecentRequests = %d rows, next %v, %v; want 4", len(got), next, err)
	}
	if r := got[1]; r.Outcome != "invalid_signature" || r.Addr != v6 || r.UserAgent != "integration/1.0" || r.Auth != AuthSignature || r.Status != 401 {
		t.Errorf("second newest = %+v", r)
	}
	if r := got[0]; r.Addr != netip.MustParseAddr("198.51.100.2") {
		t.Errorf("an IPv4-mapped address reads back as %v", r.Addr)
	}
	if r := got[3]; r.Latency != 1500*time.Microsecond || r.Route != RouteToken || r.At != at(-90) {
		t.Errorf("oldest = %+v", r)
	}
	if rows, _, _ := d.RecentRequests(ctx, other.ID, k.ID, RequestFilter{}); len(rows) != 0 {
		t.Errorf("another account reads %d rows of this key", len(rows))
	}
	if rows, _, _ := d.RecentRequests(ctx, acc.ID, k.ID, RequestFilter{Outcome: OutcomeFailed}); len(rows) != 1 {
		t.Errorf("failed filter: %d rows, want 1", len(rows))
	}
	if rows, _, _ := d.RecentRequests(ctx, acc.ID, k2.ID, RequestFilter{Outcome: "invalid_client"}); len(rows) != 1 || rows[0].Auth != AuthForm {
		t.Errorf("the request named by public key: %+v", rows)
	}
	page1, cur, err := d.RecentRequests(ctx, acc.ID, k.ID, RequestFilter{Limit: 3})
	if err != nil || len(page1) != 3 || cur == (RequestCursor{}) {
		t.Fatalf("page 1: %d rows, cursor %v, %v", len(page1), cur, err)
	}
	page2, cur2, err := d.RecentRequests(ctx, acc.ID, k.ID, RequestFilter{Limit: 3, Before: cur})
	if err != nil || len(page2) != 1 || page2[0].ID != got[3].ID || cur2 != (RequestCursor{}) {
		t.Fatalf("page 2: %+v, cursor %v, %v", page2, cur2, err)
	}

	if n, err := d.CountRequests(ctx, acc.ID, k.ID, RouteToken, OutcomeOK, now.Add(-30*time.Minute)); err != nil || n != 1 {
		t.Errorf("tokens issued in 30 minutes = %d, %v; want 1", n, err)
	}
	addrs, err := d.TopAddresses(ctx, acc.ID, k.ID, now.Add(-24*time.Hour), now, 30*24*time.Hour, 5)
	if err != nil || len(addrs) != 3 || addrs[0].Addr != v4 || addrs[0].N != 2 || addrs[0].Failed != 0 {
		t.Errorf("TopAddresses = %+v, %v", addrs, err)
	}
	fails, err := d.RequestFailures(ctx, acc.ID, k.ID, 10)
	if err != nil || len(fails) != 1 || fails[0].Sent.Timestamp != "1732390000" || fails[0].Sent.Token != "ABCDEF" || fails[0].Outcome != "invalid_signature" {
		t.Errorf("RequestFailures = %+v, %v", fails, err)
	}
	if fails, _ := d.RequestFailures(ctx, other.ID, k.ID, 10); len(fails) != 0 {
		t.Errorf("another account reads this key's failures")
	}

	sum := func(hs []HourCount) (n int64) {
		for _, h := range hs {
			n += h.OK + h.Failed
		}
		return n
	}
	keyHours, err := d.RequestHours(ctx, acc.ID, k.ID, now.Add(-24*time.Hour), now)
	if err != nil || sum(keyHours) != 4 {
		t.Fatalf("key hours = %+v, %v; want 4 requests", keyHours, err)
	}
	accHours, _ := d.RequestHours(ctx, acc.ID, 0, now.Add(-24*time.Hour), now)
	if sum(accHours) != 6 {
		t.Errorf("account hours count %d requests, want 6", sum(accHours))
	}
	if f, err := d.FailureCounts(ctx, acc.ID, k.ID, now.Add(-24*time.Hour), now); err != nil || len(f) != 1 || f["invalid_signature"] != 1 {
		t.Errorf("FailureCounts = %v, %v; want one invalid_signature", f, err)
	}
	if f, _ := d.FailureCounts(ctx, acc.ID, 0, now.Add(-24*time.Hour), now); f["invalid_client"] != 1 || f["invalid_signature"] != 1 {
		t.Errorf("the account's FailureCounts = %v", f)
	}
	if f, _ := d.FailureCounts(ctx, other.ID, k.ID, now.Add(-24*time.Hour), now); len(f) != 0 {
		t.Errorf("another account reads this key's failures: %v", f)
	}
	// A second flush adds to the same hours.
	l.Record(LoggedRequest{At: at(-1), AccountID: acc.ID, KeyID: k.ID, Route: RouteToken, Status: 200, Outcome: OutcomeOK})
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if keyHours, _ = d.RequestHours(ctx, acc.ID, k.ID, now.Add(-24*time.Hour), now); sum(keyHours) != 5 {
		t.Errorf("after a second flush the key has %d requests, want 5", sum(keyHours))
	}

	// Folding, 31 days on: the rows go, the hourly counts stay until 400 days.
	now = now.Add(31 * 24 * time.Hour)
	if err := l.Fold(ctx); err != nil {
		t.Fatalf("Fold: %v", err)
	}
	if rows, _, _ := d.RecentRequests(ctx, acc.ID, k.ID, RequestFilter{}); len(rows) != 0 {
		t.Errorf("%d rows survive folding", len(rows))
	}
	if fails, _ := d.RequestFailures(ctx, acc.ID, k.ID, 10); len(fails) != 0 {
		t.Errorf("failures survive folding")
	}
	if keyHours, _ = d.RequestHours(ctx, acc.ID, k.ID, fixtureNow.Add(-24*time.Hour), fixtureNow); sum(keyHours) != 5 {
		t.Errorf("hourly counts after folding: %d, want 5", sum(keyHours))
	}
	now = now.Add(400 * 24 * time.Hour)
	if err := l.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	if accHours, _ = d.RequestHours(ctx, acc.ID, 0, fixtureNow.Add(-24*time.Hour), fixtureNow); len(accHours) != 0 {
		t.Errorf("hourly counts older than 400 days survive: %+v", accHours)
	}
}

// TestRequestHourTotals holds the hourly totals (the charts, Key health) to
// the detailed hourly rows they summarise, as the writer keeps them and as
// migration 12 computes them from rows written before it.
func TestRequestHourTotals(t *testing.T) { forEachBackend(t, testRequestHourTotals) }

func testRequestHourTotals(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "totals")
	u := fixtureUser(t, d, acc, "a@totals.test")
	k := fixtureKey(t, d, acc, u, "DMS")
	now := fixtureNow
	l := d.NewRequestLog(func() time.Time { return now }, 30*24*time.Hour, nil)
	routes := []string{RouteToken, "GET /api/v1/key", "POST /api/v1/leads", "GET /api/v1/leads", "GET /api/v1/leads/:id", "POST /api/v1/capture-sessions"}
	outcomes := []string{OutcomeOK, OutcomeOK, OutcomeOK, "invalid_signature", "stale_timestamp", "insufficient_scope"}
	addrOf := func(i int) netip.Addr {
		if i%5 == 0 {
			return netip.MustParseAddr("2001:db8::" + fmt.Sprint(i%7))
		}
		return netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 9)})
	}
	type want struct{ ok, failed int64 }
	hours := map[int64]*want{}
	var reads, writes int64
	failures, lastDay := map[string]int64{}, map[string]int64{}
	for i := range 600 {
		at := fixtureNow.Add(-time.Duration(i*7) * time.Minute)
		route, outcome := routes[i%len(routes)], outcomes[(i/len(routes))%len(outcomes)]
		l.Record(LoggedRequest{At: at, AccountID: acc.ID, KeyID: k.ID, Route: route, Status: 200, Outcome: outcome, Addr: addrOf(i)})
		w := hours[at.Unix()/3600]
		if w == nil {
			w = &want{}
			hours[at.Unix()/3600] = w
		}
		if outcome != OutcomeOK {
			w.failed++
			failures[outcome]++
			if at.Unix()/3600 >= fixtureNow.Add(-24*time.Hour).Unix()/3600 {
				lastDay[outcome]++
			}
			continue
		}
		w.ok++
		switch code := codeOf(requestRoutes, route); {
		case slices.Contains(readRoutes, code):
			reads++
		case slices.Contains(writeRoutes, code):
			writes++
		}
		if i%100 == 99 { // several writes, so rows are added to
			if err := l.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Addresses: by whole UTC days from since's day when the span is longer
	// than a day; over everything kept when it reaches back as far as the log keeps.
	since := fixtureNow.Add(-50 * time.Hour)
	wantAddrs := func(fromDay int64) map[netip.Addr][2]int64 {
		want := map[netip.Addr][2]int64{}
		for i := range 600 {
			at := fixtureNow.Add(-time.Duration(i*7) * time.Minute)
			if at.Unix()/86400 < fromDay {
				continue
			}
			c := want[addrOf(i)]
			c[0]++
			if outcomes[(i/len(routes))%len(outcomes)] != OutcomeOK {
				c[1]++
			}
			want[addrOf(i)] = c
		}
		return want
	}
	sameAddrs := func(when string, got []AddrCount, err error, want map[netip.Addr][2]int64) {
		t.Helper()
		if err != nil || len(got) != len(want) {
			t.Fatalf("%s: TopAddresses = %d addresses, %v; want %d", when, len(got), err, len(want))
		}
		for i, a := range got {
			if w := want[a.Addr]; a.N != w[0] || a.Failed != w[1] || i > 0 && got[i-1].N < a.N {
				t.Errorf("%s: %v: %d requests, %d failed; want %v (in order)", when, a.Addr, a.N, a.Failed, w)
			}
		}
	}
	checkAddrs := func(when string) {
		t.Helper()
		got, err := d.TopAddresses(ctx, acc.ID, k.ID, since, fixtureNow, 30*24*time.Hour, 100)
		sameAddrs(when+", by days", got, err, wantAddrs(since.Unix()/86400))
		got, err = d.TopAddresses(ctx, acc.ID, k.ID, since, fixtureNow, 50*time.Hour, 100)
		sameAddrs(when+", all kept", got, err, wantAddrs(0))
	}
	checkAddrs("as written")
	if _, err := d.write.ExecContext(ctx, `DELETE FROM request_addr_days`); err != nil {
		t.Fatal(err)
	}
	if err := d.SetMeta(ctx, "request_addr_days_backfill", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := d.backfillAddrDays(ctx); err != nil {
		t.Fatal(err)
	}
	checkAddrs("backfilled from the segments")
	if err := d.backfillAddrDays(ctx); err != nil { // done: a no-op
		t.Fatal(err)
	}
	checkAddrs("after a second start")
	defer func() {
		// Folding drops the oldest days, from the days and from the totals.
		now = fixtureNow.Add(30*24*time.Hour - 40*time.Hour)
		if err := l.Fold(ctx); err != nil {
			t.Fatal(err)
		}
		kept := fixtureNow.Add(-40*time.Hour).Unix() / 86400
		got, err := d.TopAddresses(ctx, acc.ID, k.ID, fixtureNow.Add(-40*time.Hour), now, 30*24*time.Hour, 100)
		sameAddrs("after folding, all kept", got, err, wantAddrs(kept))
		got, err = d.TopAddresses(ctx, acc.ID, k.ID, fixtureNow.Add(-70*time.Hour), now, 40*24*time.Hour, 100)
		sameAddrs("after folding, by days", got, err, wantAddrs(kept))
	}()

	check := func(when string) {
		t.Helper()
		from := fixtureNow.Add(-100 * time.Hour)
		for _, key := range []int64{k.ID, 0} {
			got, err := d.RequestHours(ctx, acc.ID, key, from, fixtureNow)
			if err != nil || len(got) != len(hours) {
				t.Fatalf("%s: key %d: %d hours, %v; want %d", when, key, len(got), err, len(hours))
			}
			for _, h := range got {
				if w := hours[h.Hour.Unix()/3600]; w == nil || h.OK != w.ok || h.Failed != w.failed {
					t.Errorf("%s: key %d: %v has %d ok, %d failed; want %+v", when, key, h.Hour, h.OK, h.Failed, w)
				}
			}
			f, err := d.FailureCounts(ctx, acc.ID, key, from, fixtureNow)
			if err != nil || !maps.Equal(f, failures) {
				t.Errorf("%s: key %d: FailureCounts = %v, %v; want %v", when, key, f, err, failures)
			}
			day, err := d.FailureCounts(ctx, acc.ID, key, fixtureNow.Add(-24*time.Hour), fixtureNow)
			if err != nil || !maps.Equal(day, lastDay) {
				t.Errorf("%s: key %d: FailureCounts of the last 24 hours = %v, %v; want %v", when, key, day, err, lastDay)
			}
		}
		r, w, err := d.ReadsAndWrites(ctx, acc.ID, k.ID, from)
		if err != nil || r != reads || w != writes {
			t.Errorf("%s: ReadsAndWrites = %d, %d, %v; want %d, %d", when, r, w, err, reads, writes)
		}
	}
	check("as written")
	if code := outcomeCode(OutcomeOK); code != 1 {
		t.Fatalf("ok is outcome %d: migration 12 and failureCountsSQL take it to be 1", code)
	}
	if d.backend == SQLite {
		plan := explain(t, d, failureCountsSQL, acc.ID, k.ID, 0, 1)
		if !strings.Contains(plan, "request_hours_failures") {
			t.Errorf("the failure counts do not read the index of failures:\n%s", plan)
		}
	}

	// Migration 12's backfill, run over the detailed rows, comes to the same.
	migrations := sqliteMigrations
	if d.backend == Postgres {
		migrations = postgresMigrations
	}
	for _, b := range []struct {
		migration int
		table     string
	}{{12, "request_hour_totals"}, {14, "request_failure_days"}} {
		m := migrations[b.migration-1].SQL
		i := strings.Index(m, "INSERT INTO "+b.table)
		backfill := m[i : i+strings.Index(m[i:], ";")]
		if _, err := d.write.ExecContext(ctx, `DELETE FROM `+b.table); err != nil {
			t.Fatal(err)
		}
		if _, err := d.write.ExecContext(ctx, backfill); err != nil {
			t.Fatalf("backfill of migration %d: %v", b.migration, err)
		}
	}
	check("backfilled by migrations 12 and 14")
}

// explain is SQLite's query plan of q.
func explain(t *testing.T, d *DB, q string, args ...any) string {
	t.Helper()
	rows, err := d.read.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(detail + "\n")
	}
	return plan.String()
}

// TestRequestLogBytesPerRequest measures what a logged request costs on
// disk in SQLite, indexes included, before folding: at most 64 bytes.
func TestRequestLogBytesPerRequest(t *testing.T) {
	ctx := context.Background()
	d, _ := fixtureStore(t)
	acc := fixtureAccount(t, d, "size")
	u := fixtureUser(t, d, acc, "a@size.test")
	var ids []int64
	for i := range 50 {
		ids = append(ids, fixtureKey(t, d, acc, u, fmt.Sprintf("key %d", i)).ID)
	}
	used := func() int64 {
		var pages, free, size int64
		d.read.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages)
		d.read.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free)
		d.read.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size)
		return (pages - free) * size
	}
	l := d.NewRequestLog(func() time.Time { return fixtureNow }, 30*24*time.Hour, nil)
	agents := []string{"curl/8.5.0", "Go-http-client/1.1", "python-requests/2.31.0", "Mozilla/5.0 (X11; Linux x86_64) DealerCRM/4.2"}
	outcomes := []string{OutcomeOK, OutcomeOK, OutcomeOK, OutcomeOK, OutcomeOK, OutcomeOK, "invalid_signature", "stale_timestamp"}
	routes := []string{RouteToken, "POST /api/v1/leads", "GET /api/v1/leads", "GET /api/v1/key"}
	const n = 40000
	write := func(from, to int) {
		for i := from; i < to; i++ {
			l.Record(LoggedRequest{
				At:        fixtureNow.Add(time.Duration(i) * 2 * time.Second), // a day of traffic
				AccountID: acc.ID, KeyID: ids[i%len(ids)], Route: routes[i%len(routes)], Status: 200,
				Outcome: outcomes[i%len(outcomes)], Auth: AuthBearer,
				Addr:      netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 40)}),
				UserAgent: agents[i%len(agents)], Latency: time.Duration(200+i%5000) * time.Microsecond,
			})
		}
		if err := l.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 1000) // the tables' first pages
	before := used()
	for i := 1000; i < n; i += 4000 {
		write(i, i+4000)
	}
	d.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	per := float64(used()-before) / float64(n-1000)
	t.Logf("SQLite: %.1f bytes per logged request (segments, their index, hourly counts)", per)
	if per > 64 {
		t.Errorf("%.1f bytes per logged request, budget 64", per)
	}
}

// BenchmarkRequestLogFlush writes batches of 1,000 logged requests, as the
// writer does under load; -benchparams would be nice, so the SQLite
// statement size is swept by hand: go test -bench RequestLogFlush ./db
func BenchmarkRequestLogFlush(b *testing.B) {
	for _, params := range []int{20, 50, 100, 200, 2560} {
		b.Run(fmt.Sprintf("params=%d", params), func(b *testing.B) {
			was := sqliteParamsPerInsert
			sqliteParamsPerInsert = params
			defer func() { sqliteParamsPerInsert = was }()
			d, _ := fixtureStore(b)
			acc := fixtureAccount(b, d, "bench")
			k := fixtureKey(b, d, acc, fixtureUser(b, d, acc, "a@bench.test"), "CRM")
			l := d.NewRequestLog(func() time.Time { return fixtureNow }, 30*24*time.Hour, nil)
			addr := netip.MustParseAddr("127.0.0.1")
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				for range 1000 {
					l.Record(LoggedRequest{At: fixtureNow, AccountID: acc.ID, KeyID: k.ID, Route: "GET /api/v1/key", Status: 200,
						Outcome: OutcomeOK, Auth: AuthBearer, Addr: addr, UserAgent: "wrk"})
				}
				if err := l.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestFailingKeys(t *testing.T) { forEachBackend(t, testFailingKeys) }

func testFailingKeys(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc, other := fixtureAccount(t, d, "failing"), fixtureAccount(t, d, "elsewhere")
	u, ou := fixtureUser(t, d, acc, "a@failing.test"), fixtureUser(t, d, other, "a@elsewhere.test")
	bad, worse, fine, few, old, gone := fixtureKey(t, d, acc, u, "Bad"), fixtureKey(t, d, acc, u, "Worse"),
		fixtureKey(t, d, acc, u, "Fine"), fixtureKey(t, d, acc, u, "Few"), fixtureKey(t, d, acc, u, "Old"), fixtureKey(t, d, acc, u, "Gone")
	foreign := fixtureKey(t, d, other, ou, "Foreign")
	l := d.NewRequestLog(func() time.Time { return fixtureNow }, 30*24*time.Hour, nil)
	send := func(k APIKey, ok, failed int, ago time.Duration) {
		for i := range ok + failed {
			outcome := OutcomeOK
			if i < failed {
				outcome = "invalid_signature"
			}
			l.Record(LoggedRequest{At: fixtureNow.Add(-ago), AccountID: k.AccountID, KeyID: k.ID, Route: "GET /api/v1/key", Status: 200, Outcome: outcome})
		}
	}
	send(bad, 27, 3, time.Hour)      // 10 %: flagged, at the threshold
	send(worse, 10, 20, 2*time.Hour) // 67 %
	send(fine, 95, 5, time.Hour)     // 5 %
	send(few, 5, 10, time.Hour)      // too few requests to judge
	send(old, 0, 50, 30*time.Hour)   // before the span
	send(gone, 0, 50, time.Hour)     // revoked below
	send(foreign, 0, 50, time.Hour)  // another account
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RevokeAPIKey(ctx, acc.ID, gone.ID, Actor{UserID: u.ID}, fixtureNow); err != nil {
		t.Fatal(err)
	}
	got, err := d.FailingKeys(ctx, acc.ID, fixtureNow.Add(-24*time.Hour), 20, 10, 10)
	want := []KeyTraffic{{worse.ID, "Worse", 10, 20}, {bad.ID, "Bad", 27, 3}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("FailingKeys = %+v, %v; want %+v", got, err, want)
	}
	if got, _ := d.FailingKeys(ctx, acc.ID, fixtureNow.Add(-24*time.Hour), 20, 10, 1); len(got) != 1 || got[0].KeyID != worse.ID {
		t.Errorf("limit 1: %+v", got)
	}
	if d.backend == SQLite {
		// A key at a time along the totals' key, never every hour of the account.
		plan := explain(t, d, failingKeysSQL(SQLite), 0, acc.ID, 20, 10, 8)
		if lines := strings.Split(plan, "\n"); !strings.HasPrefix(lines[0], "SEARCH k") || !strings.Contains(plan, "key_id=? AND hour>?") {
			t.Errorf("FailingKeys' plan:\n%s", plan)
		}
	}
}
