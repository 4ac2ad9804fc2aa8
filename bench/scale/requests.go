package main

import (
	"context"
	"log"
	"math/rand/v2"
	"net/netip"
	"os"
	"time"

	"keydesk/db"
)

// fillRequestLog writes n logged API requests across the created keys,
// spread evenly over the request log's 30 days, through keydesk's own store
// code (the request log's writer, as the server uses it) on the server's
// database file (SCALE_REQUESTS; SQLite only). Each write holds
// SCALE_REQUESTS_PER_WRITE requests (default 20,000: a busy instance's
// second), so a key's segment holds about that many divided by the keys.
func fillRequestLog(cfg config, created []createdKey, n, perWrite int) {
	ctx := context.Background()
	path := os.Getenv("KEYDESK_DB")
	size := func() int64 {
		var total int64
		for _, p := range []string{path, path + "-wal"} {
			if st, err := os.Stat(p); err == nil {
				total += st.Size()
			}
		}
		return total
	}
	store, err := db.Open(ctx, path)
	if err != nil {
		log.Fatalf("open %s: %v", path, err)
	}
	defer store.Close()
	accounts := map[int64]int64{}
	for _, k := range created {
		key, err := store.APIKeyByID(ctx, k.id)
		if err != nil {
			log.Fatalf("key %d: %v", k.id, err)
		}
		accounts[k.id] = key.AccountID
	}
	now := time.Now()
	from := now.Add(-30 * 24 * time.Hour)
	step := 30 * 24 * time.Hour / time.Duration(n)
	l := store.NewRequestLog(func() time.Time { return now }, 30*24*time.Hour, nil)
	routes := []string{db.RouteToken, "GET /api/v1/key", "POST /api/v1/leads", "GET /api/v1/leads"}
	outcomes := []string{db.OutcomeOK, db.OutcomeOK, db.OutcomeOK, db.OutcomeOK, db.OutcomeOK, db.OutcomeOK, db.OutcomeOK, "invalid_signature", "stale_timestamp", "invalid_client"}
	agents := []string{"curl/8.5.0", "Go-http-client/1.1", "DealerCRM/4.2 (+https://crm.example)", "python-requests/2.31.0"}
	before, start := size(), time.Now()
	for i := range n {
		k := created[rand.IntN(len(created))]
		outcome := outcomes[rand.IntN(len(outcomes))]
		status := 200
		if outcome != db.OutcomeOK {
			status = 401
		}
		l.Record(db.LoggedRequest{At: from.Add(time.Duration(i) * step), AccountID: accounts[k.id], KeyID: k.id,
			Route: routes[rand.IntN(len(routes))], Status: status, Outcome: outcome, Auth: db.AuthBearer,
			Addr:      netip.AddrFrom4([4]byte{203, 0, 113, byte(rand.IntN(64))}),
			UserAgent: agents[rand.IntN(len(agents))], Latency: time.Duration(200+rand.IntN(5000)) * time.Microsecond})
		if (i+1)%perWrite == 0 || i == n-1 {
			if err := l.Flush(ctx); err != nil {
				log.Fatalf("write the request log: %v", err)
			}
		}
		if (i+1)%1_000_000 == 0 {
			log.Printf("%d logged requests", i+1)
		}
	}
	log.Printf("%d logged requests written through the request log in %s; the database grew by %.1f bytes per request (file and WAL)",
		n, time.Since(start).Round(time.Millisecond), float64(size()-before)/float64(n))
}
