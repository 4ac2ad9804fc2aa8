// Command revoke measures how long a revoke takes to reach every instance:
// for each of -n keys it checks that every instance accepts the key's signed
// requests, revokes the key through the first instance's dashboard, and
// times from sending the revoke until every instance refuses the key. It
// prints p50, p99 and the slowest, and exits non-zero if any instance still
// accepted a key once its revoke had been answered.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"keydesk/db"
	"keydesk/keys"
)

func main() {
	dsn := flag.String("db", os.Getenv("KEYDESK_DATABASE_URL"), "the instances' database")
	bases := flag.String("urls", "", "comma-separated base URLs of the instances; the first takes the revokes")
	email := flag.String("email", os.Getenv("KEYDESK_ADMIN_EMAIL"), "an admin's email")
	password := flag.String("password", os.Getenv("KEYDESK_ADMIN_PASSWORD"), "the admin's password")
	n := flag.Int("n", 200, "how many keys to revoke")
	flag.Parse()
	urls := strings.Split(*bases, ",")
	master, err := keys.DecodeMasterKey(os.Getenv("KEYDESK_MASTER_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	sealer, err := keys.NewSealer(master)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	store, err := db.Open(ctx, *dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	admin, err := store.UserByEmail(ctx, *email)
	if err != nil {
		log.Fatal(err)
	}
	acc, err := store.Account(ctx, admin.AccountID)
	if err != nil {
		log.Fatal(err)
	}
	dash := signIn(urls[0], *email, *password)
	api := &http.Client{Timeout: 5 * time.Second}

	var took []time.Duration
	stale := 0
	for i := range *n {
		public, secret := keys.NewAPIKey(keys.Live), keys.NewSecret(keys.Live)
		// The key is made through keydesk's own store code, which logs the change; every
		// instance learns of it within one poll.
		k, err := store.CreateAPIKey(ctx, db.APIKey{AccountID: acc.ID, Name: fmt.Sprintf("revoke bench %d", i),
			Type: db.Integration, Licenses: []string{db.LicenseLeads}, Mode: keys.Live, PublicKey: public,
			SecretSealed: sealer.Seal(secret, public), SecretLast4: keys.Last4(secret),
			Settings: keys.Settings{Theme: "lite", SessionExpiry: time.Hour}, CreatedAt: time.Now(), CreatedBy: admin.ID},
			db.Actor{UserID: admin.ID, Email: admin.Email, RemoteAddr: "127.0.0.1"})
		if err != nil {
			log.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); !all(api, urls, acc.Slug, public, secret, http.StatusOK); {
			if time.Now().After(deadline) {
				log.Fatalf("key %d never became usable on every instance", i)
			}
			time.Sleep(20 * time.Millisecond)
		}
		path := fmt.Sprintf("/settings/integrations/keys/%d/revoke", k.ID)
		start := time.Now()
		dash.post(path)
		if !all(api, urls, acc.Slug, public, secret, http.StatusUnauthorized) {
			stale++
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	pct := func(p float64) time.Duration { return took[min(len(took)-1, int(p*float64(len(took))))] }
	fmt.Printf("revoke → refused on all %d instances: n=%d p50 %.2f ms p99 %.2f ms max %.2f ms; accepted after the revoke returned: %d\n",
		len(urls), len(took), ms(pct(0.50)), ms(pct(0.99)), ms(took[len(took)-1]), stale)
	if stale > 0 {
		os.Exit(1)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// all reports whether every instance answers a signed GET /api/v1/key with want.
func all(c *http.Client, urls []string, slug, public, secret string, want int) bool {
	var wg sync.WaitGroup
	got := make([]int, len(urls))
	for i, base := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", base+"/api/v1/key", nil)
			ts := time.Now().UTC().Format(keys.TimestampLayout)
			req.Header.Set("API-Key", public)
			req.Header.Set("API-Timestamp", ts)
			req.Header.Set("API-Token", keys.Sign(secret, slug, public, ts))
			res, err := c.Do(req)
			if err != nil {
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			got[i] = res.StatusCode
		}()
	}
	wg.Wait()
	for _, s := range got {
		if s != want {
			return false
		}
	}
	return true
}

// dashboard is a signed-in browser session on one instance.
type dashboard struct {
	base   string
	client *http.Client
	csrf   string
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func signIn(base, email, password string) *dashboard {
	jar, _ := cookiejar.New(nil)
	d := &dashboard{base: base, client: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	d.csrf = d.token("/login")
	res, err := d.client.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}, "_csrf": {d.csrf}})
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		log.Fatalf("sign-in: status %d", res.StatusCode)
	}
	d.csrf = d.token("/settings/integrations")
	return d
}

func (d *dashboard) token(path string) string {
	res, err := d.client.Get(d.base + path)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := csrfInput.FindSubmatch(body)
	if m == nil {
		log.Fatalf("no CSRF token on %s (status %d)", path, res.StatusCode)
	}
	return string(m[1])
}

func (d *dashboard) post(path string) {
	res, err := d.client.PostForm(d.base+path, url.Values{"_csrf": {d.csrf}})
	if err != nil {
		log.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode >= 400 {
		log.Fatalf("POST %s: status %d", path, res.StatusCode)
	}
}
