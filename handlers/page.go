package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
	"keydesk/web"
)

// viewer returns the signed-in person; routes behind web.RequireUser always have one.
func viewer(c echo.Context) web.Viewer {
	v, _ := web.CurrentViewer(c)
	return v
}

// page builds the layout's view model for the signed-in person.
func page(c echo.Context, title, active string) views.Page { return web.PageFor(c, title, active) }

// actor is the signed-in person as the audit log records them.
func actor(c echo.Context) db.Actor {
	v := viewer(c)
	return db.Actor{UserID: v.User.ID, Email: v.User.Email, RemoteAddr: c.RealIP()}
}

// pathID reads the :id parameter; anything but a positive integer is a 404,
// as a missing key is.
func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// activeKey loads the :id key of the viewer's account for a change; another
// account's key is a 404 and a revoked one a 409.
func (h *Handlers) activeKey(c echo.Context) (db.APIKey, error) {
	id, err := pathID(c)
	if err != nil {
		return db.APIKey{}, err
	}
	k, err := h.db.APIKey(c.Request().Context(), viewer(c).Account.ID, id)
	if err != nil {
		return db.APIKey{}, notFoundAs404(err)
	}
	if k.Revoked() {
		return db.APIKey{}, echo.NewHTTPError(http.StatusConflict, "This key is revoked; it can no longer change.")
	}
	return k, nil
}

// notFoundAs404 turns a store miss into the 404 page.
func notFoundAs404(err error) error {
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "That key does not exist in your account.")
	}
	return err
}
