package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// tokenRevoke ends one access token of the authenticated key (RFC 7009).
// An unknown or foreign token is answered 200 too, as §2.2 asks.
func (h *Handlers) tokenRevoke(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	req, oerr, err := readClientRequest(c.Request())
	if err != nil {
		return err
	}
	if oerr != nil {
		return oerr.reply(c)
	}
	if req.token == "" {
		return invalidRequest("The token parameter is missing.").reply(c)
	}
	k, oerr, err := h.authenticateClient(c, req)
	if err != nil {
		return err
	}
	if oerr != nil {
		return oerr.reply(c)
	}
	h.db.TouchAPIKey(k.ID, h.now())
	// Only a token of this key that is still live is worth remembering.
	if t, ok := h.live.ParseToken(req.token); ok && t.KeyID == k.ID && h.now().Before(t.ExpiresAt) {
		err := h.db.RevokeToken(c.Request().Context(), k.AccountID, k.ID, t.ID[:], t.ExpiresAt, h.now())
		if err != nil {
			return err
		}
	}
	return c.NoContent(http.StatusOK)
}
