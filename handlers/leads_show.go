package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
	"keydesk/web"
)

const leadsPerPage = 50

// leadsShow lists the account's leads (both modes), newest first.
func (h *Handlers) leadsShow(c echo.Context) error {
	before, err := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	if err != nil || before < 0 {
		before = 0
	}
	leads, err := h.db.Leads(c.Request().Context(), viewer(c).Account.ID, db.LeadFilter{BeforeID: before, Limit: leadsPerPage + 1})
	if err != nil {
		return err
	}
	vm := views.LeadsVM{Page: page(c, "Leads", "leads"), First: before == 0}
	if len(leads) > leadsPerPage {
		leads = leads[:leadsPerPage]
		vm.Older = leads[len(leads)-1].ID
	}
	vm.Leads = leads
	return web.Render(c, http.StatusOK, views.Leads(vm))
}
