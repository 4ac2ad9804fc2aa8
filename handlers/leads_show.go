package handlers

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/views"
	"keydesk/web"
)

const leadsPerPage = 50

// leadsShow lists the account's leads newest first, searched and filtered,
// one keyset page at a time (?before= the last id shown).
func (h *Handlers) leadsShow(c echo.Context) error {
	ctx := c.Request().Context()
	acc := viewer(c).Account
	// A lead id the API gave out (ld_…) opens that lead.
	if q := strings.TrimSpace(c.QueryParam("q")); isLeadPublicID(q) {
		if _, err := h.db.LeadIDByPublicID(ctx, acc.ID, q); err == nil {
			return c.Redirect(http.StatusSeeOther, "/leads/"+q)
		}
	}
	key, err := h.keyFilter(c)
	if err != nil {
		return err
	}
	vm := views.LeadsVM{Page: page(c, "Leads", "leads"), Now: h.now(), Query: c.QueryParam("q"), Key: key}
	f := db.LeadFilter{PageFilter: db.PageFilter{BeforeID: cursor(c), Limit: leadsPerPage + 1}, KeyID: key.ID, KeyIDs: key.IDs,
		Search: db.ParseLeadSearch(vm.Query)}
	if m := keys.Mode(c.QueryParam("mode")); m == keys.Live || m == keys.Test {
		f.Mode, vm.Mode = m, string(m)
	}
	since, day := queryDay(c, "since")
	vm.SinceError = dayProblem(c, "since", day, h.now())
	if day != "" {
		f.Since, vm.Since = since, day
		if f.SinceID, err = h.db.FirstLeadIDSince(ctx, acc.ID, since); err != nil {
			return err
		}
		if f.SinceID == 0 {
			f.SinceID = math.MaxInt64 // no lead since then
		}
	}
	if after := afterCursor(c); after > 0 && f.BeforeID == 0 {
		f.AfterID = after
	}
	vm.Search = f.Search.Kind
	leads, err := h.db.Leads(ctx, acc.ID, f)
	if err != nil {
		return err
	}
	if f.AfterID > 0 {
		// The page just newer than ?after=: the extra row read, if any, is
		// the newest and says there are newer pages still.
		newer := len(leads) > leadsPerPage
		if newer {
			leads = leads[1:]
		}
		vm.Leads, vm.First = leads, !newer
		if len(leads) > 0 {
			vm.Older = leads[len(leads)-1].ID
		}
	} else {
		vm.Leads, vm.Older = leadsPage(leads)
		vm.First = f.BeforeID == 0
	}
	if !vm.First && len(vm.Leads) > 0 {
		vm.Newer = vm.Leads[0].ID
	}
	if vm.Page.IsAdmin() {
		if vm.Parked, err = h.db.CountParked(ctx, acc.ID, 0); err != nil {
			return err
		}
	}
	return web.Render(c, http.StatusOK, views.Leads(vm))
}

// afterCursor reads ?after=, the id the page just newer than it starts
// above; absent or bad is none.
func afterCursor(c echo.Context) int64 {
	id, err := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

// leadsPage cuts leads read with a limit of leadsPerPage+1 to one page,
// with the ?before= of the next page (0 when this is the last).
func leadsPage(leads []db.Lead) ([]db.Lead, int64) {
	if len(leads) <= leadsPerPage {
		return leads, 0
	}
	leads = leads[:leadsPerPage]
	return leads, leads[len(leads)-1].ID
}

// leadShow is one lead of the account; another account's is a 404.
func (h *Handlers) leadShow(c echo.Context) error {
	ctx, acc := c.Request().Context(), viewer(c).Account
	var id int64
	var err error
	if p := c.Param("id"); isLeadPublicID(p) {
		// The id the API and the lead page show works in the address too.
		if id, err = h.db.LeadIDByPublicID(ctx, acc.ID, p); err != nil {
			return notFoundAs(err, "That lead does not exist in your account.")
		}
	} else if id, err = pathID(c); err != nil {
		return err
	}
	l, err := h.db.LeadByID(ctx, acc.ID, id)
	if err != nil {
		return notFoundAs(err, "That lead does not exist in your account.")
	}
	return web.Render(c, http.StatusOK, views.Lead(views.LeadVM{Page: page(c, leadNameOf(l), "leads"), Now: h.now(), Lead: l}))
}

// isLeadPublicID reports whether s has the shape of a lead's public id:
// ld_ or ld_test_ and the base32 of newPublicID.
func isLeadPublicID(s string) bool {
	rest, ok := strings.CutPrefix(s, "ld_")
	rest = strings.TrimPrefix(rest, "test_")
	if !ok || len(rest) < 16 || len(rest) > 32 {
		return false
	}
	return strings.Trim(rest, "234567abcdefghijklmnopqrstuvwxyz") == ""
}

func leadNameOf(l db.Lead) string {
	if n := l.FirstName + " " + l.LastName; n != " " {
		return n
	}
	return "Lead"
}
