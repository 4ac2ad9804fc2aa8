package handlers

import (
	"github.com/labstack/echo/v4"

	"keydesk/keys"
	"keydesk/views"
)

func (h *Handlers) keyRollConfirm(c echo.Context) error {
	k, err := h.activeKey(c)
	if err != nil {
		return err
	}
	return renderConfirm(c, views.KeyConfirmVM{Page: page(c, "Roll key", "integrations"), Key: k, Action: "roll",
		BackToKey: backToKey(c)})
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
	return h.showNewKey(c, views.KeyCreatedVM{Page: page(c, "Key rolled", "integrations"), Key: rolled, Secret: secret,
		Replaced: &old, ToKeyPage: backToKey(c)})
}
