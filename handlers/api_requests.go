package handlers

import (
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/keys/live"
	"keydesk/web"
)

// requestNote is what the handlers of one API request learn about the key it
// names; logRequests records the request once it is answered.
type requestNote struct {
	accountID, keyID int64
	public           string // when no usable key has this public key
	auth             string
	sent             *db.SentCredentials
	// outcome is the code of an error a handler wrote itself, not returned.
	outcome string
	// at is when the request came in, by the handlers' clock: read once
	// for the log and the key's last use (a clock read costs ~0.1 µs here).
	at time.Time
}

const requestNoteKey = "keydesk.request-note"

// noteOf returns the note of an API request; outside the API it is a note nobody reads.
func noteOf(c echo.Context) *requestNote {
	if n, ok := c.Get(requestNoteKey).(*requestNote); ok {
		return n
	}
	return &requestNote{}
}

// requestTime is when an API request came in, by the handlers' clock.
func (h *Handlers) requestTime(c echo.Context) time.Time {
	if n, ok := c.Get(requestNoteKey).(*requestNote); ok && !n.at.IsZero() {
		return n.at
	}
	return h.now()
}

// authenticated records, for the request log and for the request's log
// line, that the request authenticated as k.
func authenticated(c echo.Context, k *db.APIKey, auth string) {
	n := noteOf(c)
	n.accountID, n.keyID, n.public, n.auth, n.sent = k.AccountID, k.ID, "", auth, nil
	web.NoteKey(c, k.ID)
}

// answeredWith records, for the request log and for the request's log line,
// the code of an error a handler wrote itself instead of returning it.
func answeredWith(c echo.Context, code string) {
	noteOf(c).outcome = code
	web.NoteOutcome(c, code)
}

// named records the key a request names by its public key, before (or
// without) its credential being checked: a usable key by its ids, a
// well-formed other one by its public key, found later off the request's path.
func (n *requestNote) named(state *live.State, public, auth string) {
	n.auth = auth
	if k := state.Named(public); k != nil {
		n.accountID, n.keyID = k.AccountID, k.ID
		return
	}
	if _, err := keys.ParseAPIKey(public); err == nil {
		n.public = public
	}
}

// namedByToken records the key an access token names, when its tag verifies.
func (n *requestNote) namedByToken(state *live.State, token string) {
	n.auth = db.AuthBearer
	if t, ok := state.ParseToken(token); ok {
		n.keyID = t.KeyID
		if k := state.ByID(t.KeyID); k != nil {
			n.accountID = k.AccountID
		}
	}
}

// logRequests records every API request that names a key in the request
// log, with its outcome; the log writes in the background.
func (h *Handlers) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	if h.requestsOff {
		return next
	}
	return func(c echo.Context) error {
		start := time.Now()
		n := &requestNote{at: h.now()}
		c.Set(requestNoteKey, n)
		err := next(c)
		if n.keyID == 0 && n.public == "" {
			return err
		}
		r := c.Request()
		status, outcome := apiOutcome(c, err)
		if err == nil && status >= 400 && db.KnownOutcome(n.outcome) {
			outcome = n.outcome
		}
		entry := db.LoggedRequest{At: n.at, AccountID: n.accountID, KeyID: n.keyID, PublicKey: n.public,
			Route: h.routeName(r.Method, c.Path()), Status: status, Outcome: outcome, Auth: n.auth,
			UserAgent: r.UserAgent(), Latency: time.Since(start)}
		entry.Addr, _ = netip.ParseAddr(c.RealIP())
		if outcome != db.OutcomeOK {
			entry.Sent = n.sent
		}
		h.requests.Record(entry)
		return err
	}
}

type routeKey struct{ method, path string }

// routeNamesOf names every route of e for the request log ("GET
// /api/v1/key"), once: joined afresh they were an allocation per request.
func routeNamesOf(e *echo.Echo) map[routeKey]string {
	names := map[routeKey]string{}
	for _, r := range e.Routes() {
		names[routeKey{r.Method, r.Path}] = r.Method + " " + r.Path
	}
	return names
}

// routeName is the request log's name of a request's route.
func (h *Handlers) routeName(method, path string) string {
	if name, ok := h.routeNames[routeKey{method, path}]; ok {
		return name
	}
	return method + " " + path
}

// apiOutcome is the status and outcome code of an answered API request.
func apiOutcome(c echo.Context, err error) (int, string) {
	if err == nil {
		if status := c.Response().Status; status >= 400 {
			return status, db.OutcomeOther
		}
		return c.Response().Status, db.OutcomeOK
	}
	// Declared here, not above: errors.As makes them escape, two
	// allocations that a request answered without an error would pay.
	var aerr *web.APIError
	var herr *echo.HTTPError
	switch {
	case web.ClientGone(c, err):
		return web.StatusClientClosedRequest, "client_closed_request"
	case errors.As(err, &aerr):
		if aerr.Status == http.StatusTooManyRequests && aerr.Code == "invalid_client" {
			return aerr.Status, "throttled"
		}
		if !db.KnownOutcome(aerr.Code) {
			return aerr.Status, db.OutcomeOther
		}
		return aerr.Status, aerr.Code
	case errors.As(err, &herr):
		if herr.Code == http.StatusRequestEntityTooLarge {
			return herr.Code, "request_too_large"
		}
		return herr.Code, db.OutcomeOther
	case web.IsTooLarge(err):
		return http.StatusRequestEntityTooLarge, "request_too_large"
	}
	return http.StatusInternalServerError, "server_error"
}

// nameCaller records which key an API request names from its headers alone,
// for a request refused before its credential is checked.
func (h *Handlers) nameCaller(c echo.Context) {
	r := c.Request()
	if public := firstHeader(r.Header, canonicalAPIKey); public != "" {
		noteOf(c).named(h.live, public, db.AuthSignature)
		return
	}
	if token, err := parseBearer(r.Header.Get(echo.HeaderAuthorization)); err == nil {
		noteOf(c).namedByToken(h.live, token)
	}
}

// clientAuth is how a token or revocation request authenticated its client.
func clientAuth(c echo.Context, req clientRequest) string {
	switch {
	case c.Request().Header.Get(echo.HeaderAuthorization) != "":
		return db.AuthBasic
	case req.json:
		return db.AuthJSON
	}
	return db.AuthForm
}
