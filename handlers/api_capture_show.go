package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/web"
)

// apiCaptureShow returns one capture session; another account's (or mode's)
// is 404 like a missing one.
func (h *Handlers) apiCaptureShow(c echo.Context, caller *apiCaller) error {
	s, err := h.db.CaptureSessionByPublicID(c.Request().Context(), caller.key.AccountID, caller.key.Mode, c.Param("id"))
	if errors.Is(err, db.ErrNotFound) {
		return &web.APIError{Status: http.StatusNotFound, Code: "not_found", Message: "There is no capture session with this id."}
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toCaptureSessionJSON(s, h.now()))
}
