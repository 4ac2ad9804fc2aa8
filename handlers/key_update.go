package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
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
	err = h.db.UpdateAPIKeySettings(c.Request().Context(), k, actor(c), h.now(), changes(before, k))
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

// changes names what an edit changed, for the audit log.
func changes(before, after db.APIKey) string {
	var out []string
	if before.Name != after.Name {
		out = append(out, fmt.Sprintf("renamed from %q", before.Name))
	}
	if !slices.Equal(before.Licenses, after.Licenses) {
		out = append(out, "licenses "+strings.Join(after.Licenses, ", "))
	}
	out = append(out, keys.Changes(before.Settings, after.Settings)...)
	if len(out) == 0 {
		return "no change"
	}
	return strings.Join(out, "; ")
}
