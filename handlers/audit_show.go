package handlers

import (
	"encoding/csv"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
	"keydesk/web"
)

const auditPerPage = 50

// auditFilter reads the audit log's filter from the query. The To day is
// included: the filter ends at the start of the next day.
func (h *Handlers) auditFilter(c echo.Context) (views.AuditFilterVM, db.AuditFilter, error) {
	var vm views.AuditFilterVM
	var f db.AuditFilter
	var err error
	if vm.Key, err = h.keyFilter(c); err != nil {
		return vm, f, err
	}
	if vm.UserID, err = queryID(c, "user"); err != nil {
		return vm, f, err
	}
	for _, a := range views.AuditActions {
		if a.Value == c.QueryParam("action") {
			vm.Action = a.Value
		}
	}
	f.From, vm.From = queryDay(c, "from")
	to, toDay := queryDay(c, "to")
	if !to.IsZero() {
		f.To, vm.To = to.Add(24*time.Hour), toDay
	}
	vm.FromError, vm.ToError = dayProblem(c, "from", vm.From, h.now()), dayProblem(c, "to", vm.To, h.now())
	if !f.From.IsZero() && !to.IsZero() && f.From.After(to) {
		vm.ToError = "To (" + vm.To + ") is before From (" + vm.From + "), so nothing can match: swap them."
	}
	vm.Before = cursor(c)
	f.KeyID, f.UserID, f.Action, f.BeforeID = vm.Key.ID, vm.UserID, vm.Action, vm.Before
	if len(vm.Key.IDs) > 1 {
		f.KeyID, f.KeyIDs = 0, vm.Key.IDs
	}
	return vm, f, nil
}

// auditShow is one page of the account's audit log, filtered, newest first.
func (h *Handlers) auditShow(c echo.Context) error {
	ctx := c.Request().Context()
	acc := viewer(c).Account
	fvm, f, err := h.auditFilter(c)
	if err != nil {
		return err
	}
	f.Limit = auditPerPage + 1
	events, err := h.db.AuditEvents(ctx, acc.ID, f)
	if err != nil {
		return err
	}
	vm := views.AuditVM{Page: page(c, "Audit log", "audit"), Now: h.now(), Filter: fvm}
	if len(events) > auditPerPage {
		events = events[:auditPerPage]
		vm.Older = events[len(events)-1].ID
	}
	vm.Events = events
	if vm.People, err = h.db.People(ctx, acc.ID, h.now()); err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.Audit(vm))
}

// auditCSV downloads every entry of the filtered audit log, newest first.
func (h *Handlers) auditCSV(c echo.Context) error {
	ctx := c.Request().Context()
	acc := viewer(c).Account
	_, f, err := h.auditFilter(c)
	if err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="keydesk-audit-`+acc.Slug+`.csv"`)
	res.Header().Set("Cache-Control", "no-store")
	res.WriteHeader(http.StatusOK)
	w := csv.NewWriter(res)
	w.Write([]string{"time_utc", "who", "action", "key", "person", "what", "from_address"})
	f.Limit = 1000
	for {
		events, err := h.db.AuditEvents(ctx, acc.ID, f)
		if err != nil {
			return err
		}
		for _, e := range events {
			w.Write(csvSafe(e.CreatedAt.UTC().Format(time.RFC3339), e.UserEmail, e.Action, e.KeyName,
				e.SubjectEmail, views.AuditSentence(e), e.RemoteAddr))
		}
		if len(events) < f.Limit {
			break
		}
		f.BeforeID = events[len(events)-1].ID
	}
	w.Flush()
	return w.Error()
}

// csvSafe quotes cells a spreadsheet would run as a formula (OWASP's CSV
// injection advice): a leading = + - @, tab or carriage return gets a ' in front.
func csvSafe(cells ...string) []string {
	for i, s := range cells {
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			cells[i] = "'" + s
		}
	}
	return cells
}
