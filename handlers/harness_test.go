package handlers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"keydesk/db"
	"keydesk/keys"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testApp is keydesk's real router over a real SQLite file in a temp dir.
type testApp struct {
	t      *testing.T
	srv    *httptest.Server
	db     *db.DB
	sealer *keys.Sealer
	clock  *testClock
	logs   *strings.Builder
	dbPath string
	echo   *echo.Echo
	app    *App
	// requests is the request log's writer: flushRequests writes it at once.
	requests *db.RequestLog
	stop     func()
}

func newTestApp(t *testing.T) *testApp {
	t.Helper()
	return newTestAppOn(t, filepath.Join(t.TempDir(), "keydesk.db"))
}

// testSealer is the master key every test instance shares.
func testSealer(t *testing.T) *keys.Sealer {
	t.Helper()
	sealer, err := keys.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return sealer
}

// newTestAppOn is newTestApp over the database dsn names; apps over one
// PostgreSQL database are instances of one deployment (they share the master key).
func newTestAppOn(t *testing.T, dsn string) *testApp {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	return startTestApp(t, dsn, testSealer(t), clock)
}

// instances numbers the test instances, so each has its own row in the instances table.
var instances atomic.Int64

// restart stops a's server and store and starts a new process's worth over the same database.
func (a *testApp) restart() *testApp {
	a.t.Helper()
	a.stop()
	return startTestApp(a.t, a.dbPath, a.sealer, a.clock)
}

func startTestApp(t *testing.T, path string, sealer *keys.Sealer, clock *testClock) *testApp {
	t.Helper()
	return startTestAppWith(t, path, sealer, clock, nil)
}

// newTestAppBehindProxy is newTestApp with KEYDESK_BEHIND_PROXY=1.
func newTestAppBehindProxy(t *testing.T) *testApp {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	return startTestAppWith(t, filepath.Join(t.TempDir(), "keydesk.db"), testSealer(t), clock, func(c *Config) { c.BehindProxy = true })
}

// newTestAppTrusting is newTestApp with KEYDESK_TRUSTED_PROXIES set to proxies.
func newTestAppTrusting(t *testing.T, proxies ...string) *testApp {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	return startTestAppWith(t, filepath.Join(t.TempDir(), "keydesk.db"), testSealer(t), clock, func(c *Config) {
		for _, p := range proxies {
			c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix(p))
		}
	})
}

func startTestAppWith(t *testing.T, path string, sealer *keys.Sealer, clock *testClock, configure func(*Config)) *testApp {
	t.Helper()
	store, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &strings.Builder{}
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{w: logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The server's address is the public URL, so it is known before the routes are built.
	srv := httptest.NewUnstartedServer(nil)
	cfg := Config{Store: store, Sealer: sealer, Clock: clock.Now, Logger: logger,
		PublicURL: "http://" + srv.Listener.Addr().String(), InstanceID: fmt.Sprintf("%s-%d", t.Name(), instances.Add(1)), Addr: "test"}
	if configure != nil {
		configure(&cfg)
	}
	app, err := Assemble(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { app.Run(ctx); close(ran) }()
	srv.Config.Handler = app.Echo
	srv.Start()
	a := &testApp{t: t, srv: srv, db: store, sealer: sealer, clock: clock, logs: logs, dbPath: path, echo: app.Echo, app: app, requests: app.Requests}
	var once sync.Once
	a.stop = func() { once.Do(func() { srv.Close(); cancel(); <-ran; store.Close() }) }
	t.Cleanup(a.stop)
	return a
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// account makes an account holding licenses, with an admin and a dealer.
func (a *testApp) account(slug string, licenses ...string) (db.Account, db.User, db.User) {
	a.t.Helper()
	ctx := context.Background()
	acc, err := a.db.CreateAccount(ctx, db.Account{Slug: slug, Name: strings.ToUpper(slug), Licenses: licenses, CreatedAt: a.clock.Now()})
	if err != nil {
		a.t.Fatal(err)
	}
	admin := a.user(acc, "admin@"+slug+".test", db.RoleAdmin)
	dealer := a.user(acc, "dealer@"+slug+".test", db.RoleDealer)
	return acc, admin, dealer
}

const testPassword = "correct horse battery staple"

var testHash = func() string {
	h, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	return string(h)
}()

func (a *testApp) user(acc db.Account, email, role string) db.User {
	a.t.Helper()
	u, err := a.db.CreateUser(context.Background(), db.User{AccountID: acc.ID, Email: email, PasswordHash: testHash, Role: role, CreatedAt: a.clock.Now()})
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

// key creates a key directly in the store and returns it with its secret.
func (a *testApp) key(acc db.Account, by db.User, name string, typ db.KeyType, mode keys.Mode, licenses ...string) (db.APIKey, string) {
	a.t.Helper()
	public, secret := keys.NewAPIKey(mode), keys.NewSecret(mode)
	k, err := a.db.CreateAPIKey(context.Background(), db.APIKey{
		AccountID: acc.ID, Name: name, Type: typ, Licenses: licenses, Mode: mode, PublicKey: public,
		SecretSealed: a.sealer.Seal(secret, public), SecretLast4: keys.Last4(secret),
		Settings:  keys.Settings{Theme: "lite", SessionExpiry: 24 * time.Hour},
		CreatedAt: a.clock.Now(), CreatedBy: by.ID,
	}, db.Actor{UserID: by.ID, Email: by.Email, RemoteAddr: "127.0.0.1"})
	if err != nil {
		a.t.Fatal(err)
	}
	return k, secret
}

// browser is a cookie-jar client that does not follow redirects.
type browser struct {
	app    *testApp
	client *http.Client
}

func (a *testApp) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{app: a, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, header map[string]string) response {
	b.app.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.app.srv.URL+path, body)
	if err != nil {
		b.app.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	setHeader(req, header)
	res, err := b.client.Do(req)
	if err != nil {
		b.app.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, body: string(raw)}
	checkContract(b.app.t, req, out)
	return out
}

// setHeader sets header on req; "Host" names the host the request claims.
func setHeader(req *http.Request, header map[string]string) {
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
}

func (b *browser) get(path string) response { return b.do("GET", path, nil, nil) }

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a page's form, as a browser would submit it.
func (b *browser) csrf(path string) string {
	b.app.t.Helper()
	res := b.get(path)
	for i := 0; i < 3 && res.status == http.StatusSeeOther; i++ {
		res = b.get(res.header.Get("Location"))
	}
	m := csrfInput.FindStringSubmatch(res.body)
	if m == nil {
		b.app.t.Fatalf("no CSRF token in %s", path)
	}
	return m[1]
}

// post submits a form from page with the page's CSRF token.
func (b *browser) post(page, path string, form url.Values) response {
	b.app.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", b.csrf(page))
	return b.do("POST", path, form, nil)
}

// login signs in through the real form and fails the test if it does not work.
func (b *browser) login(email string) *browser {
	b.app.t.Helper()
	res := b.post("/login", "/login", url.Values{"email": {email}, "password": {testPassword}})
	if res.status != http.StatusSeeOther {
		b.app.t.Fatalf("login %s: status %d: %s", email, res.status, res.body)
	}
	return b
}
