// Command oracle measures whether the token endpoint and signed requests
// tell an unknown API key from a known key with a wrong secret by time: it
// assembles keydesk over a fresh SQLite database, then alternates the two
// kinds of try over loopback HTTP and prints the median and p90 of each.
// The clock moves a minute every 20 tries (10 of each kind) so the failure throttle, which
// would answer 429 after 30 failures a minute, stays out of the way.
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"keydesk/db"
	"keydesk/handlers"
	"keydesk/keys"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func main() {
	n := flag.Int("n", 2000, "tries of each kind")
	flag.Parse()
	dir, err := os.MkdirTemp("", "keydesk-oracle")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(dir, "oracle.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	sealer, err := keys.NewSealer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		log.Fatal(err)
	}
	c := &clock{t: time.Now()}
	acc, err := store.CreateAccount(ctx, db.Account{Slug: "oracle", Name: "Oracle", Licenses: db.AllLicenses, CreatedAt: c.now()})
	if err != nil {
		log.Fatal(err)
	}
	public, secret := keys.NewAPIKey(keys.Live), keys.NewSecret(keys.Live)
	if _, err := store.CreateAPIKey(ctx, db.APIKey{AccountID: acc.ID, Name: "known", Type: db.Integration,
		Licenses: []string{db.LicenseLeads}, Mode: keys.Live, PublicKey: public, SecretSealed: sealer.Seal(secret, public),
		SecretLast4: keys.Last4(secret), Settings: keys.Settings{Theme: "lite", SessionExpiry: time.Hour}, CreatedAt: c.now()},
		db.Actor{RemoteAddr: "127.0.0.1"}); err != nil {
		log.Fatal(err)
	}
	app, err := handlers.Assemble(ctx, handlers.Config{Store: store, Sealer: sealer, Clock: c.now,
		Logger: slog.New(slog.DiscardHandler), InstanceID: "oracle", Addr: "oracle"})
	if err != nil {
		log.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go app.Run(runCtx)
	srv := httptest.NewServer(app.Echo)
	defer srv.Close()
	client := srv.Client()

	tokenTry := func(key string) (time.Duration, int) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/auth/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(key+":"+keys.NewSecret(keys.Live))))
		return timed(client, req)
	}
	signedTry := func(key string) (time.Duration, int) {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/key", nil)
		ts := c.now().UTC().Format(keys.TimestampLayout)
		req.Header.Set("API-Key", key)
		req.Header.Set("API-Timestamp", ts)
		req.Header.Set("API-Token", keys.Sign(keys.NewSecret(keys.Live), "oracle", key, ts))
		return timed(client, req)
	}
	for _, kind := range []struct {
		name string
		try  func(string) (time.Duration, int)
	}{{"token endpoint", tokenTry}, {"signed request", signedTry}} {
		var known, unknown []time.Duration
		for i := range *n {
			if i%10 == 0 {
				c.advance(time.Minute)
			}
			d, s1 := kind.try(public)
			known = append(known, d)
			d, s2 := kind.try(keys.NewAPIKey(keys.Live))
			unknown = append(unknown, d)
			if s1 != http.StatusUnauthorized || s2 != http.StatusUnauthorized {
				log.Fatalf("%s: statuses %d and %d, want 401 for both", kind.name, s1, s2)
			}
		}
		fmt.Printf("%-15s known key, wrong secret: p50 %4d µs p90 %4d µs | unknown key: p50 %4d µs p90 %4d µs (n=%d each)\n",
			kind.name, pct(known, 0.5), pct(known, 0.9), pct(unknown, 0.5), pct(unknown, 0.9), *n)
	}
}

func timed(c *http.Client, req *http.Request) (time.Duration, int) {
	start := time.Now()
	res, err := c.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return time.Since(start), res.StatusCode
}

func pct(ds []time.Duration, p float64) int64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))].Microseconds()
}
