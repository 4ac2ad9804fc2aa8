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

// apiLeadsList lists the key's account's leads of the key's mode, newest first.
func (h *Handlers) apiLeadsList(c echo.Context, caller *apiCaller) error {
	limit, before, err := parsePageQuery(c)
	if err != nil {
		return err
	}
	leads, err := h.db.Leads(c.Request().Context(), caller.key.AccountID,
		db.LeadFilter{PageFilter: db.PageFilter{Mode: caller.key.Mode, BeforeID: before, Limit: limit + 1}})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newAPIPage(leads, limit, func(l db.Lead) int64 { return l.ID }, toLeadJSON))
}

// apiPage is one page of a GET that lists, such as GET /api/v1/leads.
type apiPage[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// parsePageQuery reads the limit and cursor of a GET that lists; before is 0
// for the first page. The error is a 400 for the client.
func parsePageQuery(c echo.Context) (limit int, before int64, err error) {
	limit = defaultLeadsLimit
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLeadsLimit {
			return 0, 0, &web.APIError{Status: http.StatusBadRequest, Code: "invalid_request",
				Message: "limit must be a whole number from 1 to 100."}
		}
		limit = n
	}
	if s := c.QueryParam("cursor"); s != "" {
		id, ok := parseCursor(s)
		if !ok {
			return 0, 0, &web.APIError{Status: http.StatusBadRequest, Code: "invalid_cursor",
				Message: "cursor must be a next_cursor value from an earlier page."}
		}
		before = id
	}
	return limit, before, nil
}

// newAPIPage shows rows fetched with a limit of limit+1: a row past limit
// means there is a next page, whose cursor is the last shown row's id.
func newAPIPage[Row, JSON any](rows []Row, limit int, rowID func(Row) int64, toJSON func(Row) JSON) apiPage[JSON] {
	page := apiPage[JSON]{Data: make([]JSON, 0, min(len(rows), limit))}
	if len(rows) > limit {
		rows = rows[:limit]
		next := formatCursor(rowID(rows[len(rows)-1]))
		page.NextCursor = &next
	}
	for _, r := range rows {
		page.Data = append(page.Data, toJSON(r))
	}
	return page
}

// A cursor is opaque to clients: the base64url of the last row's position.
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
