package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/keys"
	"keydesk/views"
	"keydesk/web"
)

func (h *Handlers) dashboardShow(c echo.Context) error {
	v := viewer(c)
	vm := views.DashboardVM{Page: page(c, "Dashboard", "dashboard")}
	var lastUsed time.Time
	ctx, now := c.Request().Context(), h.now()
	ks, err := h.db.AccountAPIKeys(ctx, v.Account.ID)
	if err != nil {
		return err
	}
	var health []views.HealthFlag
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
		flags, err := h.keyHealth(ctx, k, now, false)
		if err != nil {
			return err
		}
		health = append(health, flags...)
	}
	if vm.Page.IsAdmin() {
		span := 7 * 24 * time.Hour
		hours, err := h.db.RequestHours(ctx, v.Account.ID, 0, now.Add(-span), now)
		if err != nil {
			return err
		}
		vm.Usage = &views.AccountUsageVM{Chart: hourlyChart("account-chart", "API requests per hour to every key, last 7 days", hours, now, span),
			Health: health[:min(len(health), 8)]}
	}
	return web.Render(c, http.StatusOK, views.Dashboard(vm))
}
