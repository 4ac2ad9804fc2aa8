package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
)

// accessTokenLifetime is how long an access token lives (CarBuddii: 1800 s).
const accessTokenLifetime = 1800 * time.Second

// tokenIssue is the OAuth 2.0 client credentials grant (RFC 6749 §4.4).
func (h *Handlers) tokenIssue(c echo.Context) error {
	hdr := c.Response().Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Pragma", "no-cache")
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
	now := h.now()
	token := newAccessToken()
	ok, err := h.db.StoreAccessToken(c.Request().Context(), token, db.AccessToken{
		KeyID: k.ID, PublicKey: k.PublicKey, Scope: granted.String(),
		CreatedAt: now, ExpiresAt: now.Add(accessTokenLifetime),
	})
	if err != nil {
		return err
	}
	if !ok {
		return errInvalidClient.reply(c) // revoked while we were answering
	}
	h.db.TouchAPIKey(k.ID, now)
	body := make([]byte, 0, 160)
	body = append(body, `{"access_token":"`...)
	body = append(body, token...)
	body = append(body, `","token_type":"Bearer","expires_in":`...)
	body = strconv.AppendInt(body, int64(accessTokenLifetime/time.Second), 10)
	body = append(body, `,"scope":"`...)
	body = append(body, granted.String()...)
	body = append(body, `"}`...)
	return c.JSONBlob(http.StatusOK, body)
}

// authenticateClient finds the key of a client's credentials; anything
// wrong is the same invalid_client, so a caller learns nothing about which part.
func (h *Handlers) authenticateClient(c echo.Context, req clientRequest) (*db.APIKey, *oauthError, error) {
	if req.clientID == "" {
		return nil, errInvalidClient, nil
	}
	keyMode, kerr := keys.ParseAPIKey(req.clientID)
	secretMode, serr := keys.ParseSecret(req.clientSecret)
	if kerr != nil || serr != nil || keyMode != secretMode {
		return nil, errInvalidClient, nil
	}
	k, err := h.db.APIKeyByPublic(c.Request().Context(), req.clientID)
	if errors.Is(err, db.ErrNotFound) {
		return nil, errInvalidClient, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if h.db.KeyRevoked(k) {
		return nil, errInvalidClient, nil
	}
	ok, err := h.secretMatches(k, req.clientSecret)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, errInvalidClient, nil
	}
	return k, nil, nil
}

// newAccessToken returns kdt_ and 256 random bits, base64url.
func newAccessToken() string {
	var b [32]byte
	rand.Read(b[:])
	return accessTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}
