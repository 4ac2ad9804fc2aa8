package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"keydesk/views"
	"keydesk/web"
)

const auditPerPage = 50

func (h *Handlers) auditShow(c echo.Context) error {
	n, err := strconv.Atoi(c.QueryParam("page"))
	if err != nil || n < 1 {
		n = 1
	}
	events, more, err := h.db.AuditEvents(c.Request().Context(), viewer(c).Account.ID, n, auditPerPage)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.Audit(views.AuditVM{
		Page: page(c, "Audit log", "audit"), Events: events, PageNum: n, HasNext: more}))
}
