package handlers

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/keys/live"
)

// accessTokenLifetime is how long an access token lives (CarBuddii: 1800 s).
const accessTokenLifetime = 1800 * time.Second

var noStore, noCache = []string{"no-store"}, []string{"no-cache"}

// tokenIssue is the OAuth 2.0 client credentials grant (RFC 6749 §4.4).
func (h *Handlers) tokenIssue(c echo.Context) error {
	hdr := c.Response().Header()
	hdr["Cache-Control"], hdr["Pragma"] = noStore, noCache // canonical, shared: see securityHeaders
	req, oerr, err := readClientRequest(c.Request())
	if err != nil {
		return err
	}
	if oerr != nil {
		return oerr.reply(c)
	}
	switch {
	case !req.hasGrantType && !req.json:
		return invalidRequest("The grant_type parameter is missing: send grant_type=client_credentials.").reply(c)
	case req.hasGrantType && req.grantType != "client_credentials":
		return (&oauthError{http.StatusBadRequest, "unsupported_grant_type",
			"Only grant_type=client_credentials is supported."}).reply(c)
	}
	k, oerr, err := h.authenticateClient(c, req)
	if err != nil {
		return err
	}
	if oerr != nil {
		return oerr.reply(c)
	}
	granted := keyScope(k.Type)
	if req.scope != "" {
		asked, ok := parseScope(req.scope)
		if !ok || asked == 0 || asked&^granted != 0 {
			return (&oauthError{http.StatusBadRequest, "invalid_scope",
				"This key may ask for the scope \"" + granted.String() + "\" or a part of it."}).reply(c)
		}
		granted = asked
	}
	token, t := h.live.MintToken(k, uint8(granted), accessTokenLifetime)
	h.metrics.TokensIssued.Inc()
	now := h.now()
	h.db.TouchAPIKey(k.ID, now)
	h.setSunset(c, &k.APIKey)
	expiresIn := int64(math.Ceil(t.ExpiresAt.Sub(now).Seconds()))
	return writeJSON(c, http.StatusOK, func(body []byte) []byte {
		body = append(body, `{"access_token":"`...)
		body = append(body, token...)
		body = append(body, `","token_type":"Bearer","expires_in":`...)
		body = strconv.AppendInt(body, expiresIn, 10)
		body = append(body, `,"scope":"`...)
		body = append(body, granted.String()...)
		return append(body, `"}`...)
	})
}

// authenticateClient finds the key of a client's credentials; anything
// wrong is the same invalid_client, so a caller learns nothing about which
// part. Repeated failures from one address or against one key are refused
// for a while with 429, before any secret is compared.
func (h *Handlers) authenticateClient(c echo.Context, req clientRequest) (*live.Key, *oauthError, error) {
	noteOf(c).named(h.live, req.clientID, clientAuth(c, req))
	if err := h.inStep(c); err != nil {
		return nil, nil, err
	}
	if req.clientID == "" {
		return nil, errInvalidClient, nil
	}
	keyMode, kerr := keys.ParseAPIKey(req.clientID)
	secretMode, serr := keys.ParseSecret(req.clientSecret)
	if kerr != nil || serr != nil || keyMode != secretMode {
		h.noteSecretSent(c, req)
		return nil, errInvalidClient, nil
	}
	addr := c.RealIP()
	if wait, blocked := h.clientFailures.blocked(addr, req.clientID); blocked {
		h.noteSecretSent(c, req)
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return nil, &oauthError{http.StatusTooManyRequests, "invalid_client",
			"Too many failed attempts with this API key or from this address: wait " +
				strconv.Itoa(int(math.Ceil(wait.Seconds()))) + " s and try again."}, nil
	}
	k, err := h.live.Client(req.clientID, req.clientSecret, c.RealIP())
	if r, ok := err.(*live.Refusal); ok {
		if r.Status != 0 {
			return nil, nil, refusal(c, r)
		}
		code := r.Code
		if code == "key_expired" {
			code = "invalid_client" // RFC 6749 §5.2; the description says it expired
		}
		return nil, &oauthError{http.StatusUnauthorized, code, r.Message}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if k == nil {
		h.clientFailures.failed(addr, req.clientID)
		h.noteSecretSent(c, req)
		return nil, errInvalidClient, nil
	}
	authenticated(c, &k.APIKey, clientAuth(c, req))
	return k, nil, nil
}

// noteSecretSent keeps, for the signature debugger, a keyed fingerprint of
// the secret a refused client sent: never the secret itself.
func (h *Handlers) noteSecretSent(c echo.Context, req clientRequest) {
	noteOf(c).sent = &db.SentCredentials{SecretPrint: keys.SecretPrint(h.secretPrints, req.clientSecret)}
}
