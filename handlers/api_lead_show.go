package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/web"
)

// apiLeadShow returns one lead; another account's (or mode's) is 404 like a missing one.
func (h *Handlers) apiLeadShow(c echo.Context, caller *apiCaller) error {
	l, err := h.db.LeadByPublicID(c.Request().Context(), caller.key.AccountID, caller.key.Mode, c.Param("id"))
	if errors.Is(err, db.ErrNotFound) {
		return &web.APIError{Status: http.StatusNotFound, Code: "not_found", Message: "There is no lead with this id."}
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toLeadJSON(l))
}
