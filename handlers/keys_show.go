package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
	"keydesk/web"
)

func (h *Handlers) integrationsShow(c echo.Context) error {
	return h.renderKeys(c, page(c, "Settings › Integrations", "integrations"), true)
}

func (h *Handlers) keysShow(c echo.Context) error {
	return h.renderKeys(c, page(c, "API Keys", "keys"), false)
}

func (h *Handlers) renderKeys(c echo.Context, p views.Page, admin bool) error {
	vm := views.KeysVM{Page: p, Admin: admin}
	for _, t := range []db.KeyType{db.DigitalRequests, db.Integration} {
		ks, err := h.db.APIKeys(c.Request().Context(), viewer(c).Account.ID, t)
		if err != nil {
			return err
		}
		vm.Sections = append(vm.Sections, views.KeySection{Type: t, Keys: ks})
	}
	return web.Render(c, http.StatusOK, views.Keys(vm))
}
