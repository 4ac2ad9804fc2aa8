package handlers

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/views"
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

// dayProblem says what is wrong with a date of the query that queryDay
// could not read ("" when it is absent or read), naming the form to use.
func dayProblem(c echo.Context, name, day string, now time.Time) string {
	if s := c.QueryParam(name); s != "" && day == "" {
		return "“" + keys.Clip(s, 20) + "” is not a date: use YYYY-MM-DD, e.g. " + now.UTC().Format(time.DateOnly) + ". Until then it is not applied."
	}
	return ""
}

func idParam(id int64) string { return strconv.FormatInt(id, 10) }

// keyFilter reads the Key field of the Leads and Audit log filters: a name
// typed (?keyname=) or a link's ?key=id. A name or id of no key of the
// account gives ID -1, which matches nothing.
func (h *Handlers) keyFilter(c echo.Context) (views.KeyFilterVM, error) {
	acc := viewer(c).Account.ID
	var ref db.KeyRef
	var err error
	if name := strings.TrimSpace(c.QueryParam("keyname")); name != "" {
		if ref, err = h.db.KeyRefByName(c.Request().Context(), acc, name); errors.Is(err, db.ErrNotFound) {
			return views.KeyFilterVM{Name: name, ID: -1, Missing: true}, nil
		}
	} else {
		id, err := queryID(c, "key")
		if err != nil {
			// A link edited by hand: say so on the page, as for a key of no account's.
			return views.KeyFilterVM{ID: -1, Missing: true, FromLink: true}, nil
		}
		if id == 0 {
			return views.KeyFilterVM{}, nil
		}
		if ref, err = h.db.KeyRefByID(c.Request().Context(), acc, id); errors.Is(err, db.ErrNotFound) {
			return views.KeyFilterVM{ID: -1, Missing: true, FromLink: true}, nil
		}
	}
	if err != nil {
		return views.KeyFilterVM{}, err
	}
	// A link's ?key= is that one key; a name is every key of that name.
	return views.KeyFilterVM{Name: ref.Name, ID: ref.ID, IDs: ref.IDs, ByID: ref.IDs == nil}, nil
}
