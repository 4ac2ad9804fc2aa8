package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/db"
)

// captureSessionsPage is one page of GET /api/v1/capture-sessions.
type captureSessionsPage = apiPage[captureSessionJSON]

// apiCaptureList lists the key's account's capture sessions of the key's
// mode, newest first, paged like leads.
func (h *Handlers) apiCaptureList(c echo.Context, caller *apiCaller) error {
	limit, before, err := parsePageQuery(c)
	if err != nil {
		return err
	}
	sessions, err := h.db.CaptureSessions(c.Request().Context(), caller.key.AccountID,
		db.CaptureSessionFilter{Mode: caller.key.Mode, BeforeID: before, Limit: limit + 1})
	if err != nil {
		return err
	}
	now := h.now()
	return c.JSON(http.StatusOK, newAPIPage(sessions, limit, func(s db.CaptureSession) int64 { return s.ID },
		func(s db.CaptureSession) captureSessionJSON { return toCaptureSessionJSON(s, now) }))
}
