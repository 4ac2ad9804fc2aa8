package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/views"
	"keydesk/web"
)

func (h *Handlers) keyEdit(c echo.Context) error {
	k, err := h.activeKey(c)
	if err != nil {
		return err
	}
	return renderKeyForm(c, http.StatusOK, keyFormOf(k), nil)
}

func (h *Handlers) keyUpdate(c echo.Context) error {
	raw, err := parseForm(c)
	if err != nil {
		return err
	}
	k, err := h.activeKey(c)
	if err != nil {
		return err
	}
	acc := viewer(c).Account
	f := keyFormFrom(raw)
	f.ID, f.Type, f.Mode = k.ID, k.Type, k.Mode
	if errs := validateKeyForm(f, raw, acc, &k); len(errs) > 0 {
		return renderKeyForm(c, http.StatusUnprocessableEntity, f, errs)
	}
	before := k
	k.Name, k.Licenses, k.Settings = f.Name, orderedLicenses(f.Licenses), settingsOf(f)
	err = h.db.UpdateAPIKeySettings(c.Request().Context(), k, actor(c), h.now(), editDetail(before, k))
	if isDuplicate(err) {
		return renderKeyForm(c, http.StatusUnprocessableEntity, f, duplicateNameError(f.Name))
	}
	if err != nil {
		return notFoundAs404(err)
	}
	return h.afterRowChange(c, k.AccountID, k.ID, "Saved the settings of "+k.Name+".")
}

// afterRowChange answers a successful edit or revoke: for htmx, the fresh
// row swapped in place, the modal closed and a toast; otherwise back to the page.
func (h *Handlers) afterRowChange(c echo.Context, accountID, id int64, toast string) error {
	if !web.IsHTMX(c) {
		return c.Redirect(http.StatusSeeOther, "/settings/integrations")
	}
	k, err := h.db.APIKey(c.Request().Context(), accountID, id)
	if err != nil {
		return err
	}
	c.Response().Header().Set(web.HXTrigger, toastTrigger(toast))
	return web.Render(c, http.StatusOK, views.KeyRowSwap(views.KeyRowVM{Key: k, Admin: true, CSRF: web.CSRFToken(c)}))
}
