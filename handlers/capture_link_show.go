package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
	"keydesk/web"
)

// captureLinkShow is the page a capture session's link opens for the customer.
func (h *Handlers) captureLinkShow(c echo.Context) error {
	id := c.Param("id")
	if !strings.HasPrefix(id, "cs_") || len(id) > 64 {
		return echo.NewHTTPError(http.StatusNotFound, "This capture link does not exist. Check that the whole link was copied.")
	}
	l, err := h.db.CaptureLinkByPublicID(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "This capture link does not exist. Check that the whole link was copied.")
	}
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.CaptureLink(views.CaptureLinkVM{
		Page: views.Page{Title: l.DealerName + " vehicle inspection"}, Link: l, Expired: !h.now().Before(l.ExpiresAt)}))
}
