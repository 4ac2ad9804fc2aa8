// Command scale fills a fresh keydesk through its own front doors — keys
// through the dashboard's Create New Key form, leads through the API — and
// then measures the server-side time (the Server-Timing header) of every
// dashboard page as a signed-in admin. bench/scale.sh starts the server and
// runs it; see bench/README.md.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	base        string
	email       string
	password    string
	keys        int
	leads       int
	concurrency int
	fetches     int
	keyPage     string // printf pattern of a key's page, e.g. /settings/integrations/keys/%d
	only        string // SCALE_ONLY: measure only the pages whose name has this in it (for profiling one)
}

func env(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func main() {
	cfg := config{
		base:        "http://" + os.Getenv("KEYDESK_ADDR"),
		email:       os.Getenv("KEYDESK_ADMIN_EMAIL"),
		password:    os.Getenv("KEYDESK_ADMIN_PASSWORD"),
		keys:        env("SCALE_KEYS", 1000),
		leads:       env("SCALE_LEADS", 1000000),
		concurrency: env("SCALE_CONCURRENCY", 32),
		fetches:     env("SCALE_FETCHES", 200),
		keyPage:     os.Getenv("SCALE_KEY_PAGE"),
		only:        os.Getenv("SCALE_ONLY"),
	}
	if cfg.keyPage == "" {
		cfg.keyPage = "/settings/integrations/keys/%d"
	}
	admin := signIn(cfg)
	if os.Getenv("SCALE_PAGER") != "" {
		pageLeads(admin)
		return
	}

	start := time.Now()
	created := createKeys(cfg, admin)
	log.Printf("%d keys created through the form in %s", len(created), time.Since(start).Round(time.Millisecond))

	start = time.Now()
	postLeads(cfg, created)
	el := time.Since(start)
	log.Printf("%d leads posted through the API in %s (%.0f/s)", cfg.leads, el.Round(time.Millisecond), float64(cfg.leads)/el.Seconds())
	if n := env("SCALE_REQUESTS", 0); n > 0 {
		fillRequestLog(cfg, created, n, env("SCALE_REQUESTS_PER_WRITE", 20000))
	}

	measure(cfg, admin, created)
}

// session is a signed-in browser: a cookie jar and the page's CSRF token.
type session struct {
	client *http.Client
	base   string
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (s *session) get(path string) (*http.Response, []byte) {
	res, err := s.client.Get(s.base + path)
	if err != nil {
		log.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

func (s *session) csrf(path string) string {
	_, body := s.get(path)
	m := csrfRe.FindSubmatch(body)
	if m == nil {
		log.Fatalf("no CSRF token on %s", path)
	}
	return string(m[1])
}

func (s *session) post(path string, form url.Values) (*http.Response, []byte) {
	res, err := s.client.PostForm(s.base+path, form)
	if err != nil {
		log.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

func signIn(cfg config) *session {
	jar, _ := cookiejar.New(nil)
	s := &session{client: &http.Client{Jar: jar, Timeout: time.Minute}, base: cfg.base}
	res, body := s.post("/login", url.Values{"_csrf": {s.csrf("/login")}, "email": {cfg.email}, "password": {cfg.password}})
	if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(cfg.email)) {
		log.Fatalf("sign-in as %s: %d", cfg.email, res.StatusCode)
	}
	return s
}

var olderRe = regexp.MustCompile(`href="(/leads\?[^"]*before=\d+[^"]*)"`)

// pageLeads is a person reading the Leads page, page after page, as fast as
// the server answers (bench/run.sh with BENCH_PAGING=1): back to the first
// page at the end. It runs until killed, and says how many pages it read
// every 5 seconds.
func pageLeads(s *session) {
	path, pages, since := "/leads", 0, time.Now()
	for {
		res, body := s.get(path)
		if res.StatusCode != http.StatusOK {
			log.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		pages++
		path = "/leads"
		if m := olderRe.FindSubmatch(body); m != nil {
			path = strings.ReplaceAll(string(m[1]), "&amp;", "&")
		}
		if el := time.Since(since); el >= 5*time.Second {
			log.Printf("paging through Leads: %.0f pages/s", float64(pages)/el.Seconds())
			pages, since = 0, time.Now()
		}
	}
}

type createdKey struct {
	id             int64
	public, secret string
}

var (
	newKeyRe    = regexp.MustCompile(`data-testid="new-api-key">([^<]+)<`)
	newSecretRe = regexp.MustCompile(`data-testid="new-api-secret">([^<]+)<`)
)

// createKeys submits the Create New Key form (without JavaScript) once per
// key, alternating the two types, and reads each new pair off the answer.
func createKeys(cfg config, s *session) []createdKey {
	csrf := s.csrf("/settings/integrations")
	var out []createdKey
	for i := range cfg.keys {
		typ := "digital_requests"
		if i%2 == 1 {
			typ = "integration"
		}
		form := url.Values{"_csrf": {csrf}, "type": {typ}, "name": {fmt.Sprintf("Key %04d", i+1)},
			"licenses": {"leads"}, "live": {"on"}, "theme": {"lite"}, "session_expiry": {"24h"}}
		res, body := s.post("/settings/integrations/keys", form)
		pub, sec := newKeyRe.FindSubmatch(body), newSecretRe.FindSubmatch(body)
		if res.StatusCode >= 300 || pub == nil || sec == nil {
			log.Fatalf("create key %d: %d %.300s", i+1, res.StatusCode, body)
		}
		// The database is fresh and nothing else makes keys, so ids count up from 1.
		out = append(out, createdKey{id: int64(i + 1), public: html.UnescapeString(string(pub[1])),
			secret: html.UnescapeString(string(sec[1]))})
	}
	return out
}

var (
	firstNames = strings.Fields("Ann Bob Cara Dan Eve Finn Gia Hal Ivy Jon Kim Leo Mia Ned Ola Pam Quin Rob Sue Tom Uma Vic Wes Xia Yul Zoe")
	lastNames  = func() []string {
		var out []string
		for _, a := range strings.Fields("Lee Park Smith Jones Brown Garcia Miller Davis Lopez Clark Lewis Young Hall Allen King Wright Scott Green Baker Adams") {
			for _, b := range []string{"", "son", "ley", "ford", "man"} {
				out = append(out, a+b)
			}
		}
		return out
	}()
)

const vinChars = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"

// postLeads sends cfg.leads leads with cfg.concurrency clients, spread over
// up to 100 keys, each with its own Bearer token.
func postLeads(cfg config, created []createdKey) {
	var tokens []string
	for _, k := range created[:min(len(created), 100)] {
		tokens = append(tokens, token(cfg, k))
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.concurrency}}
	for w := range cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for {
				n := next.Add(1)
				if n > int64(cfg.leads) {
					return
				}
				first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
				vin := make([]byte, 17)
				for i := range vin {
					vin[i] = vinChars[rng.IntN(len(vinChars))]
				}
				lead, _ := json.Marshal(map[string]any{
					"contact": map[string]string{"first_name": first, "last_name": last,
						"email": fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(first), strings.ToLower(last), n),
						"phone": fmt.Sprintf("+1 555 %03d %04d", rng.IntN(1000), rng.IntN(10000))},
					"vehicle": map[string]any{"vin": string(vin), "year": 2015 + rng.IntN(11), "make": "Honda", "model": "Accord"},
					"message": "Is it still available?", "source": "scale benchmark",
				})
				req, _ := http.NewRequest("POST", cfg.base+"/api/v1/leads", bytes.NewReader(lead))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tokens[int(n)%len(tokens)])
				res, err := client.Do(req)
				if err != nil {
					log.Fatalf("lead %d: %v", n, err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					log.Fatalf("lead %d: %d", n, res.StatusCode)
				}
				if n%100000 == 0 {
					log.Printf("%d leads", n)
				}
			}
		}()
	}
	wg.Wait()
}

func token(cfg config, k createdKey) string {
	req, _ := http.NewRequest("POST", cfg.base+"/api/v1/auth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(k.public, k.secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&t); err != nil || t.AccessToken == "" {
		log.Fatalf("token for %s: %d %v", k.public, res.StatusCode, err)
	}
	return t.AccessToken
}

// measure fetches every page cfg.fetches times (after a few unmeasured ones)
// and prints the median and p99 of the server's own time for it.
func measure(cfg config, s *session, created []createdKey) {
	mid := created[len(created)/2]
	deep := max(cfg.leads/2, 2)
	pages := []struct{ name, path string }{
		{"landing page", "/"},
		{"Integrations", "/settings/integrations"},
		{"key page", fmt.Sprintf(cfg.keyPage, mid.id)},
		{"key usage (chart, 24 h)", fmt.Sprintf(cfg.keyPage+"/usage", mid.id)},
		{"key usage (chart, 30 days)", fmt.Sprintf(cfg.keyPage+"/usage?range=30d", mid.id)},
		{"API Keys", "/keys"},
		{"Users", "/settings/users"},
		{"Leads, first page", "/leads"},
		{"Leads, search (last name)", "/leads?q=" + lastNames[7]},
		{"Leads, search (email)", "/leads?q=" + url.QueryEscape("ann.lee.1000@example.com")},
		{"Leads, deep page", fmt.Sprintf("/leads?before=%d", deep)},
		{"Leads, by key", fmt.Sprintf("/leads?key=%d", created[0].id)},
		{"a lead", fmt.Sprintf("/leads/%d", deep)},
		{"Audit log", "/settings/audit"},
		{"Audit log, filtered", fmt.Sprintf("/settings/audit?action=create&key=%d", mid.id)},
	}
	fmt.Printf("\nkeydesk dashboard at %d keys and %d leads: server time over %d fetches per page (Server-Timing)\n",
		cfg.keys, cfg.leads, cfg.fetches)
	fmt.Printf("%-28s %8s %8s %8s  %s\n", "page", "p50 ms", "p99 ms", "max ms", "target p50 ≤ 5, p99 ≤ 20")
	for _, p := range pages {
		if !strings.Contains(p.name, cfg.only) {
			continue
		}
		var times []float64
		status := 0
		for i := range cfg.fetches + 5 {
			res, _ := s.get(p.path)
			status = res.StatusCode
			if status != http.StatusOK {
				break
			}
			dur, ok := serverTime(res.Header.Get("Server-Timing"))
			if !ok {
				log.Fatalf("%s: no Server-Timing header", p.path)
			}
			if i >= 5 {
				times = append(times, dur)
			}
		}
		if status != http.StatusOK {
			fmt.Printf("%-28s %8s %8s %8s  HTTP %d for %s\n", p.name, "-", "-", "-", status, p.path)
			continue
		}
		slices.Sort(times)
		p50, p99, top := pct(times, 0.50), pct(times, 0.99), times[len(times)-1]
		verdict := "ok"
		if p50 > 5 || p99 > 20 {
			verdict = "OVER"
		}
		fmt.Printf("%-28s %8.2f %8.2f %8.2f  %s\n", p.name, p50, p99, top, verdict)
	}
}

func serverTime(h string) (float64, bool) {
	_, v, ok := strings.Cut(h, "dur=")
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

func pct(sorted []float64, p float64) float64 {
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}
