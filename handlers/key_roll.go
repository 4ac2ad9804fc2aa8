package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/views"
)

func (h *Handlers) keyRollConfirm(c echo.Context) error {
	k, err := h.activeKey(c)
	if err != nil {
		return err
	}
	return renderConfirm(c, views.KeyConfirmVM{Page: page(c, "Roll key", "integrations"), Key: k, Action: "roll",
		BackToKey: backToKey(c), Old: "revoke", Window: "1h", Deadline: "7d"})
}

// keyRoll replaces a key with a new pair of the same settings and shows the
// new secret once; the old pair and its tokens stop working at once, or the
// old pair retires: it works until the new one is first used, then for a
// window, and never past a hard deadline.
func (h *Handlers) keyRoll(c echo.Context) error {
	if _, err := parseForm(c); err != nil {
		return err
	}
	k, err := h.activeKey(c)
	if err != nil {
		return err
	}
	if k.Retiring() {
		return echo.NewHTTPError(http.StatusConflict, "This key is already retiring after a roll; roll the key that replaced it instead.")
	}
	vm := views.KeyConfirmVM{Page: page(c, "Roll key", "integrations"), Key: k, Action: "roll", BackToKey: backToKey(c),
		Old: c.FormValue("old"), Window: c.FormValue("window"), Deadline: c.FormValue("deadline")}
	var retire *db.Retirement
	switch vm.Old {
	case "", "revoke":
	case "retire":
		w, okW := keys.ChoiceByValue(keys.RetireWindows, vm.Window)
		d, okD := keys.ChoiceByValue(keys.RetireDeadlines, vm.Deadline)
		switch {
		case !okW || !okD:
			vm.Error = "Choose a retiring window and a hard deadline from the lists."
		case w.Duration > d.Duration:
			vm.Error = "The retiring window (" + w.Label + ") is longer than the hard deadline (" + d.Label +
				"): choose a shorter window or a later deadline."
		}
		retire = &db.Retirement{Window: w.Duration, Deadline: h.now().Add(d.Duration).Truncate(time.Second)}
	default:
		vm.Error = "Choose whether the old key is revoked now or kept working for a while."
	}
	if vm.Error != "" {
		return renderConfirmStatus(c, http.StatusUnprocessableEntity, vm)
	}
	public, secret := keys.NewAPIKey(k.Mode), keys.NewSecret(k.Mode)
	next := k
	next.PublicKey, next.SecretSealed, next.SecretLast4 = public, h.sealer.Seal(secret, public), keys.Last4(secret)
	old, rolled, err := h.db.RollAPIKey(c.Request().Context(), k.AccountID, k.ID, next, retire, actor(c), h.now())
	if err != nil {
		return notFoundAs404(err)
	}
	return h.showNewKey(c, views.KeyCreatedVM{Page: page(c, "Key rolled", "integrations"), Key: rolled, Secret: secret,
		Replaced: &old, ToKeyPage: backToKey(c)})
}
