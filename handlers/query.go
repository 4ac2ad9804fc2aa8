package handlers

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// queryID reads an optional positive id from the query; absent is 0, anything else an error.
func queryID(c echo.Context, name string) (int64, error) {
	s := c.QueryParam(name)
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 {
		return 0, echo.ErrBadRequest
	}
	return id, nil
}

// cursor reads ?before=, the id the next page starts below; absent or bad is the first page.
func cursor(c echo.Context) int64 {
	id, err := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

// queryDay reads a YYYY-MM-DD date of the query as the start of that UTC day; "" or bad is zero.
func queryDay(c echo.Context, name string) (time.Time, string) {
	s := c.QueryParam(name)
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, ""
	}
	return t, s
}

func idParam(id int64) string { return strconv.FormatInt(id, 10) }
