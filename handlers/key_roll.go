package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/keys"
	"keydesk/views"
	"keydesk/web"
)

func (h *Handlers) keyRollConfirm(c echo.Context) error {
	k, err := h.activeKey(c)
	if err != nil {
		return err
	}
	return renderConfirm(c, views.KeyConfirmVM{Page: page(c, "Roll key", "integrations"), Key: k, Action: "roll"})
}

// keyRoll replaces a key with a new pair of the same settings and shows the
// new secret once; the old pair and its tokens stop working at once.
func (h *Handlers) keyRoll(c echo.Context) error {
	k, err := h.activeKey(c)
	if err != nil {
		return err
	}
	public, secret := keys.NewAPIKey(k.Mode), keys.NewSecret(k.Mode)
	next := k
	next.PublicKey, next.SecretSealed, next.SecretLast4 = public, h.sealer.Seal(secret, public), keys.Last4(secret)
	old, rolled, err := h.db.RollAPIKey(c.Request().Context(), k.AccountID, k.ID, next, actor(c), h.now())
	if err != nil {
		return notFoundAs404(err)
	}
	vm := views.KeyCreatedVM{Page: page(c, "Key rolled", "integrations"), Key: rolled, Secret: secret, Replaced: &old}
	if web.IsHTMX(c) {
		return web.Render(c, http.StatusCreated, views.KeyCreatedModal(vm))
	}
	return web.Render(c, http.StatusCreated, views.KeyCreatedPage(vm))
}
