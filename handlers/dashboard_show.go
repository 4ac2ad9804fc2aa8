package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
	"keydesk/web"
)

// dashboardShow is the landing page: the account's keys and leads in figures,
// each a link to the list it counts, and what happened last.
func (h *Handlers) dashboardShow(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	now := h.now()
	vm := views.DashboardVM{Page: page(c, "Dashboard", "dashboard"), Now: now}
	var err error
	if vm.Keys, err = h.db.CountKeys(ctx, v.Account.ID, now.AddDate(0, 0, -30)); err != nil {
		return err
	}
	if vm.Leads, err = h.db.CountLeads(ctx, v.Account.ID, now); err != nil {
		return err
	}
	if vm.RecentLeads, err = h.db.Leads(ctx, v.Account.ID, db.LeadFilter{PageFilter: db.PageFilter{Limit: 5}}); err != nil {
		return err
	}
	if v.User.IsAdmin() {
		if vm.RecentEvents, err = h.db.AuditEvents(ctx, v.Account.ID, db.AuditFilter{Limit: 5}); err != nil {
			return err
		}
	}
	return web.Render(c, http.StatusOK, views.Dashboard(vm))
}
