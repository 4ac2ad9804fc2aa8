package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

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
	settings, errs := validateKeyForm(f, raw, acc, &k, h.now())
	if len(errs) > 0 {
		return renderKeyForm(c, http.StatusUnprocessableEntity, f, errs)
	}
	before := k
	k.Name, k.Licenses, k.Settings = f.Name, orderedLicenses(f.Licenses), settings
	detail := editDetail(before, k)
	if detail == noChange {
		// Nothing to write, nothing to audit, nothing for live state to learn.
		return h.afterRowChange(c, k.ID, "Nothing to save: "+k.Name+" already has these settings.")
	}
	err = h.db.UpdateAPIKeySettings(c.Request().Context(), k, actor(c), h.now(), detail)
	if isDuplicate(err) {
		return renderKeyForm(c, http.StatusUnprocessableEntity, f, duplicateNameError(f.Name))
	}
	if err != nil {
		return notFoundAs404(err)
	}
	return h.afterRowChange(c, k.ID, "Saved the settings of "+k.Name+".")
}

// afterRowChange answers a successful edit or revoke: on the list with htmx,
// the modal closes, a toast says what happened and the list fetches its rows
// again; otherwise back to the list or the key's page, with the notice.
func (h *Handlers) afterRowChange(c echo.Context, id int64, notice string) error {
	if !web.IsHTMX(c) || backToKey(c) {
		to := "/settings/integrations"
		if backToKey(c) {
			to = keyPagePath(id)
		}
		return h.redirectWithNotice(c, to, notice)
	}
	c.Response().Header().Set(web.HXTrigger, changedTrigger(notice))
	return c.HTML(http.StatusOK, "")
}

// backToKey reports whether the action was started on the key's page, to
// which it then returns.
func backToKey(c echo.Context) bool { return c.FormValue("back") == "key" }
