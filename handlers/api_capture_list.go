package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/web"
)

// captureSessionsPage is one page of GET /api/v1/capture-sessions.
type captureSessionsPage struct {
	Data       []captureSessionJSON `json:"data"`
	NextCursor *string              `json:"next_cursor"`
}

// apiCaptureList lists the key's account's capture sessions of the key's
// mode, newest first, paged like leads.
func (h *Handlers) apiCaptureList(c echo.Context, caller *apiCaller) error {
	limit := defaultLeadsLimit
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLeadsLimit {
			return &web.APIError{Status: http.StatusBadRequest, Code: "invalid_request",
				Message: "limit must be a whole number from 1 to 100."}
		}
		limit = n
	}
	var before int64
	if s := c.QueryParam("cursor"); s != "" {
		id, ok := parseCursor(s)
		if !ok {
			return &web.APIError{Status: http.StatusBadRequest, Code: "invalid_cursor",
				Message: "cursor must be a next_cursor value from an earlier page."}
		}
		before = id
	}
	sessions, err := h.db.CaptureSessions(c.Request().Context(), caller.key.AccountID,
		db.CaptureSessionFilter{Mode: caller.key.Mode, BeforeID: before, Limit: limit + 1})
	if err != nil {
		return err
	}
	page := captureSessionsPage{Data: make([]captureSessionJSON, 0, min(len(sessions), limit))}
	if len(sessions) > limit {
		sessions = sessions[:limit]
		next := formatCursor(sessions[len(sessions)-1].ID)
		page.NextCursor = &next
	}
	now := h.now()
	for _, s := range sessions {
		page.Data = append(page.Data, toCaptureSessionJSON(s, now))
	}
	return c.JSON(http.StatusOK, page)
}
