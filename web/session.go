package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"keydesk/db"
)

const (
	cookieName = "keydesk"
	keySID     = "sid"
	keyCSRF    = "csrf"
	// CSRFField is the hidden form field that carries the CSRF token.
	CSRFField = "_csrf"
	// CSRFHeader is the header htmx sends the CSRF token in.
	CSRFHeader = "X-CSRF-Token"
	// CSRFRenewHeader carries the session's token on an htmx request refused
	// for an old one, when the user has signed in again since the page loaded.
	CSRFRenewHeader = "KD-CSRF-Token"
)

// Session lifetimes: idle for at most IdleTimeout, alive for at most MaxAge.
const (
	IdleTimeout = 30 * time.Minute
	MaxAge      = 12 * time.Hour
	touchEvery  = time.Minute
)

// Viewer is the signed-in person of a request.
type Viewer struct {
	User    db.User
	Account db.Account
}

// Sessions signs people in and out. The cookie (encrypted and
// authenticated by gorilla/sessions) carries a random session id and the
// CSRF token; the database keeps only the id's hash, so signing out or
// disabling a user ends the session on the server.
type Sessions struct {
	store *sessions.CookieStore
	db    *db.DB
	now   Clock
}

// NewSessions returns Sessions whose cookies are keyed by hashKey (signing)
// and blockKey (encryption), 32 bytes each.
func NewSessions(store *db.DB, hashKey, blockKey []byte, now Clock) *Sessions {
	cs := sessions.NewCookieStore(hashKey, blockKey)
	cs.Options = &sessions.Options{Path: "/", MaxAge: int(MaxAge / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode}
	cs.MaxAge(int(MaxAge / time.Second))
	return &Sessions{store: cs, db: store, now: now}
}

// CurrentViewer returns the signed-in person, if any.
func CurrentViewer(c echo.Context) (Viewer, bool) {
	v, ok := c.Get(viewerKeyName).(Viewer)
	return v, ok
}

// CSRFToken returns the token forms of this request must carry.
func CSRFToken(c echo.Context) string {
	s, _ := c.Get(csrfKeyName).(string)
	return s
}

const (
	viewerKeyName = "keydesk.viewer"
	csrfKeyName   = "keydesk.csrf"
	sessKeyName   = "keydesk.session"
)

// Load reads the session cookie, makes sure it has a CSRF token, and puts
// the signed-in viewer (re-read from the database, so a disabled user or a
// new role counts at once) on the request.
func (s *Sessions) Load(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, _ := s.store.Get(c.Request(), cookieName) // a bad cookie yields a new, empty session
		sess.Options.Secure = IsHTTPS(c)
		c.Set(sessKeyName, sess)
		c.Set(nowKeyName, s.now())
		token, _ := sess.Values[keyCSRF].(string)
		if token == "" {
			token = randomToken()
			sess.Values[keyCSRF] = token
			if err := sess.Save(c.Request(), c.Response()); err != nil {
				return err
			}
		}
		c.Set(csrfKeyName, token)
		if sid, _ := sess.Values[keySID].(string); sid != "" {
			v, err := s.viewer(c, sid)
			if err != nil && !errors.Is(err, db.ErrNotFound) {
				return err
			}
			if err == nil {
				c.Set(viewerKeyName, v)
			} else {
				delete(sess.Values, keySID)
				if err := sess.Save(c.Request(), c.Response()); err != nil {
					return err
				}
			}
		}
		return next(c)
	}
}

func (s *Sessions) viewer(c echo.Context, sid string) (Viewer, error) {
	ctx := c.Request().Context()
	now := s.now()
	row, err := s.db.Session(ctx, sid)
	if err != nil {
		return Viewer{}, err
	}
	if now.Sub(row.LastSeenAt) > IdleTimeout || now.Sub(row.CreatedAt) > MaxAge {
		s.db.DeleteSession(ctx, sid)
		return Viewer{}, db.ErrNotFound
	}
	u, err := s.db.User(ctx, row.UserID)
	if err != nil {
		return Viewer{}, err
	}
	if u.Disabled {
		s.db.DeleteSession(ctx, sid)
		return Viewer{}, db.ErrNotFound
	}
	a, err := s.db.Account(ctx, u.AccountID)
	if err != nil {
		return Viewer{}, err
	}
	if now.Sub(row.LastSeenAt) > touchEvery {
		if err := s.db.TouchSession(ctx, sid, now); err != nil {
			return Viewer{}, err
		}
	}
	return Viewer{User: u, Account: a}, nil
}

// SignIn starts a new session for u: a fresh session id and a fresh CSRF
// token, so nothing from before sign-in carries over.
func (s *Sessions) SignIn(c echo.Context, u db.User) error {
	sess := c.Get(sessKeyName).(*sessions.Session)
	if old, _ := sess.Values[keySID].(string); old != "" {
		s.db.DeleteSession(c.Request().Context(), old)
	}
	sid := randomToken()
	if err := s.db.CreateSession(c.Request().Context(), sid, u.ID, s.now()); err != nil {
		return err
	}
	token := randomToken()
	sess.Values[keySID], sess.Values[keyCSRF] = sid, token
	c.Set(csrfKeyName, token)
	return sess.Save(c.Request(), c.Response())
}

// SignOut ends the session on the server and in the browser.
func (s *Sessions) SignOut(c echo.Context) error {
	sess := c.Get(sessKeyName).(*sessions.Session)
	if sid, _ := sess.Values[keySID].(string); sid != "" {
		if err := s.db.DeleteSession(c.Request().Context(), sid); err != nil {
			return err
		}
	}
	delete(sess.Values, keySID)
	sess.Values[keyCSRF] = randomToken()
	return sess.Save(c.Request(), c.Response())
}

// CSRF refuses a state-changing request whose token (form body field or
// htmx header) does not match the session's. The query string never counts:
// a token in a URL leaks through logs, history and Referer.
func CSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		got := c.Request().Header.Get(CSRFHeader)
		if got == "" {
			got = c.Request().PostFormValue(CSRFField)
		}
		want := CSRFToken(c)
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			if _, signedIn := CurrentViewer(c); signedIn && want != "" && IsHTMX(c) {
				// The page was made before its user signed in again (in another
				// tab, after the session ended): hand its script the current
				// token, so what was typed can be sent again without a reload.
				// Only same-origin pages get here (CrossOrigin runs first), and
				// every page they load carries the same token.
				c.Response().Header().Set(CSRFRenewHeader, want)
				c.Response().Header().Set(HXTrigger, `{"keydesk:alert":"You are signed in again. Send this once more: nothing was saved yet, and what you typed is still here."}`)
			}
			return echo.NewHTTPError(http.StatusForbidden,
				"This form has expired or was not sent by keydesk. Go back, reload the page and try again.")
		}
		return next(c)
	}
}

// RequireUser sends anyone not signed in to the sign-in page, remembering
// where they were going.
func RequireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := CurrentViewer(c); ok {
			return next(c)
		}
		r := c.Request()
		if IsHTMX(c) {
			if r.Method != http.MethodGet {
				// Leave the form as it is, with what was typed, and say how to go on.
				c.Response().Header().Set(HXTrigger, `{"keydesk:alert":"Your session has ended. Sign in again in another tab, then send this again: what you typed is still here."}`)
				return c.NoContent(http.StatusUnauthorized)
			}
			c.Response().Header().Set(HXRedirect, loginURL(pathOf(r.Header.Get(HXCurrentURL))))
			return c.NoContent(http.StatusUnauthorized)
		}
		next := ""
		if r.Method == http.MethodGet {
			next = r.URL.RequestURI()
		}
		return c.Redirect(http.StatusSeeOther, loginURL(next))
	}
}

// RequireAdmin refuses dealers (403), whatever the page showed them.
func RequireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		v, ok := CurrentViewer(c)
		if !ok || !v.User.IsAdmin() {
			return echo.NewHTTPError(http.StatusForbidden,
				"This part of keydesk is for account admins. Ask an admin of your dealership if you need a key created or changed.")
		}
		return next(c)
	}
}

// loginURL is the sign-in page, coming back to next (a local path) afterwards.
func loginURL(next string) string {
	if next == "" || next == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}

// pathOf keeps the path and query of a full URL, such as htmx's HX-Current-URL.
func pathOf(full string) string {
	u, err := url.Parse(full)
	if err != nil {
		return ""
	}
	return SafeNext(u.RequestURI(), "")
}

// SafeNext returns next when it is a local path, else fallback, so the
// sign-in page cannot be used to send people to another site.
func SafeNext(next, fallback string) string {
	if len(next) > 1 && next[0] == '/' && next[1] != '/' && next[1] != '\\' {
		if u, err := url.Parse(next); err == nil && u.Host == "" && u.Scheme == "" {
			return next
		}
	}
	return fallback
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Session values read once.
const (
	flashKey  = "flash"
	revealKey = "reveal"
)

// Flash keeps a one-time notice for the next full page this browser opens.
// It is stored in the session cookie, so it must never carry a secret.
func Flash(c echo.Context, notice string) error { return setOnce(c, flashKey, notice) }

// SetRevealHandle keeps the handle of a one-time secret page in the session.
func SetRevealHandle(c echo.Context, handle string) error { return setOnce(c, revealKey, handle) }

// TakeRevealHandle returns the session's reveal handle and forgets it.
func TakeRevealHandle(c echo.Context) (string, error) { return takeOnce(c, revealKey) }

func setOnce(c echo.Context, name, value string) error {
	sess, ok := c.Get(sessKeyName).(*sessions.Session)
	if !ok {
		return errors.New("web: no session on this request")
	}
	sess.Values[name] = value
	return sess.Save(c.Request(), c.Response())
}

func takeOnce(c echo.Context, name string) (string, error) {
	sess, ok := c.Get(sessKeyName).(*sessions.Session)
	if !ok {
		return "", nil
	}
	v, _ := sess.Values[name].(string)
	if v == "" {
		return "", nil
	}
	delete(sess.Values, name)
	return v, sess.Save(c.Request(), c.Response())
}

const nowKeyName = "keydesk.now"

// Now is the time the request started, by the server's clock.
func Now(c echo.Context) time.Time {
	if t, ok := c.Get(nowKeyName).(time.Time); ok {
		return t
	}
	return time.Now()
}

// NewToken returns 256 random bits, URL-safe: for one-time links such as invites.
func NewToken() string { return randomToken() }
