package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/views"
	"keydesk/web"
)

func (h *Handlers) dashboardShow(c echo.Context) error {
	v := viewer(c)
	vm := views.DashboardVM{Page: page(c, "Dashboard", "dashboard")}
	var lastUsed time.Time
	for _, t := range []db.KeyType{db.DigitalRequests, db.Integration} {
		ks, err := h.db.APIKeys(c.Request().Context(), v.Account.ID, t)
		if err != nil {
			return err
		}
		for _, k := range ks {
			switch {
			case k.Revoked():
				vm.RevokedKeys++
				continue
			case k.Mode == keys.Live:
				vm.LiveKeys++
			default:
				vm.TestKeys++
			}
			vm.ActiveKeys++
			if k.LastUsedAt.After(lastUsed) {
				lastUsed = k.LastUsedAt
				vm.LastUsedName, vm.LastUsedAt = k.Name, lastUsed.Format("2006-01-02 15:04 UTC")
			}
		}
	}
	return web.Render(c, http.StatusOK, views.Dashboard(vm))
}
