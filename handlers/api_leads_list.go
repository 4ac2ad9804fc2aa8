package handlers

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/web"
)

const (
	defaultLeadsLimit = 25
	maxLeadsLimit     = 100
)

// leadsPage is one page of GET /api/v1/leads.
type leadsPage struct {
	Data       []leadJSON `json:"data"`
	NextCursor *string    `json:"next_cursor"`
}

// apiLeadsList lists the key's account's leads of the key's mode, newest first.
func (h *Handlers) apiLeadsList(c echo.Context, caller *apiCaller) error {
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
	leads, err := h.db.Leads(c.Request().Context(), caller.key.AccountID,
		db.LeadFilter{Mode: caller.key.Mode, BeforeID: before, Limit: limit + 1})
	if err != nil {
		return err
	}
	page := leadsPage{Data: make([]leadJSON, 0, min(len(leads), limit))}
	if len(leads) > limit {
		leads = leads[:limit]
		next := formatCursor(leads[len(leads)-1].ID)
		page.NextCursor = &next
	}
	for _, l := range leads {
		page.Data = append(page.Data, toLeadJSON(l))
	}
	return c.JSON(http.StatusOK, page)
}

// A cursor is opaque to clients: the base64url of the last lead's position.
func formatCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString(strconv.AppendInt(nil, id, 10))
}

func parseCursor(s string) (int64, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	id, err := strconv.ParseInt(string(raw), 10, 64)
	return id, err == nil && id > 0
}
