package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/views"
	"keydesk/web"
)

func (h *Handlers) integrationsShow(c echo.Context) error {
	return h.renderKeys(c, views.KeysVM{Page: page(c, "Settings › Integrations", "integrations"),
		Admin: true, Path: "/settings/integrations"})
}

func (h *Handlers) keysShow(c echo.Context) error {
	return h.renderKeys(c, views.KeysVM{Page: page(c, "API Keys", "keys"), Path: "/keys"})
}

// renderKeys lists both kinds of key, a page of each, as the query asks: the
// whole page, or for an htmx search only the sections.
func (h *Handlers) renderKeys(c echo.Context, vm views.KeysVM) error {
	vm.Filter = keyListFilter(c)
	for _, t := range []db.KeyType{db.DigitalRequests, db.Integration} {
		if vm.Filter.Type != "" && t != vm.Filter.Type {
			continue
		}
		n, err := strconv.Atoi(c.QueryParam(views.PageParam(t)))
		if err != nil || n < 1 {
			n = 1
		}
		list, err := h.db.APIKeyList(c.Request().Context(), viewer(c).Account.ID, db.KeyFilter{
			Type: t, Query: vm.Filter.Query, Mode: keys.Mode(vm.Filter.Mode), Status: vm.Filter.Status,
			ShowRevoked: vm.Filter.ShowRevoked, UnusedBefore: h.now().Add(-unusedFor),
			Limit: views.KeysPerPage, Offset: (n - 1) * views.KeysPerPage,
		})
		if err != nil {
			return err
		}
		vm.Sections = append(vm.Sections, views.KeySection{Type: t, Keys: list.Keys, Total: list.Total, PageNum: n})
	}
	if web.IsHTMX(c) && !web.IsHistoryRestore(c) {
		// The address bar gets the list's own address, without empty fields.
		c.Response().Header().Set(web.HXPushURL, vm.URL())
		return web.Render(c, http.StatusOK, views.KeySections(vm))
	}
	return web.Render(c, http.StatusOK, views.Keys(vm))
}

// keyListFilter reads the filter bar from the query; unknown values count as no filter.
func keyListFilter(c echo.Context) views.KeyListFilter {
	f := views.KeyListFilter{Query: strings.TrimSpace(c.QueryParam("q")), ShowRevoked: c.QueryParam("revoked") != ""}
	if len(f.Query) > 200 {
		f.Query = f.Query[:200]
	}
	switch m := keys.Mode(c.QueryParam("mode")); m {
	case keys.Live, keys.Test:
		f.Mode = string(m)
	}
	switch s := c.QueryParam("status"); s {
	case db.KeyStatusActive, db.KeyStatusRevoked, db.KeyStatusUnused:
		f.Status = s
	}
	switch t := db.KeyType(c.QueryParam("type")); t {
	case db.DigitalRequests, db.Integration:
		f.Type = t
	}
	return f
}
