package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/views"
)

func (h *Handlers) keyNew(c echo.Context) error {
	t := db.KeyType(c.QueryParam("type"))
	if t != db.DigitalRequests && t != db.Integration {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such kind of key. Use one of the Create New Key buttons.")
	}
	return renderKeyForm(c, http.StatusOK, newKeyForm(t, viewer(c).Account), nil)
}

func (h *Handlers) keyCreate(c echo.Context) error {
	raw, err := parseForm(c)
	if err != nil {
		return err
	}
	acc := viewer(c).Account
	f := keyFormFrom(raw)
	settings, errs := validateKeyForm(f, raw, acc, nil, h.now())
	if len(errs) > 0 {
		return renderKeyForm(c, http.StatusUnprocessableEntity, f, errs)
	}
	mode := keys.Test
	if f.Live {
		mode = keys.Live
	}
	public, secret := keys.NewAPIKey(mode), keys.NewSecret(mode)
	by := actor(c)
	k, err := h.db.CreateAPIKey(c.Request().Context(), db.APIKey{
		AccountID: acc.ID, Name: f.Name, Type: f.Type, Licenses: orderedLicenses(f.Licenses), Mode: mode,
		PublicKey: public, SecretSealed: h.sealer.Seal(secret, public), SecretLast4: keys.Last4(secret),
		Settings: settings, CreatedAt: h.now(), CreatedBy: by.UserID,
	}, by)
	if isDuplicate(err) {
		return renderKeyForm(c, http.StatusUnprocessableEntity, f, duplicateNameError(f.Name))
	}
	if err != nil {
		return err
	}
	return h.showNewKey(c, views.KeyCreatedVM{Page: page(c, "Key created", "integrations"), Key: k, Secret: secret})
}
