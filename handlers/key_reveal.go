package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/views"
	"keydesk/web"
)

// keyReveal shows a key's secret to an admin or a dealer of its account and
// writes the reveal to the audit log first.
func (h *Handlers) keyReveal(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	k, err := h.db.APIKey(ctx, viewer(c).Account.ID, id)
	if err != nil {
		return notFoundAs404(err)
	}
	if k.Revoked() {
		return echo.NewHTTPError(http.StatusConflict, "This key is revoked; its secret is no longer shown.")
	}
	secret, err := h.sealer.Open(k.SecretSealed, k.PublicKey)
	if err != nil {
		return err
	}
	if err := h.db.RecordReveal(ctx, k, actor(c), h.now()); err != nil {
		return err
	}
	if web.IsHTMX(c) {
		return web.Render(c, http.StatusOK, views.SecretRevealed(k, secret, web.CSRFToken(c)))
	}
	// The navigation marks where the key's page lives for this person.
	admin, section := viewer(c).User.IsAdmin(), "keys"
	if admin {
		section = "integrations"
	}
	return web.Render(c, http.StatusOK, views.RevealPage(views.KeyRevealVM{
		Page: page(c, "Secret of "+k.Name, section), Key: k, Secret: secret,
		Back: views.KeyPagePath(k.ID, admin)}))
}
