package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
	"keydesk/web"
)

// leadsQuarantinedShow is the Quarantined view of the Leads page (admin):
// the keys that are quarantined or have parked leads, and the parked leads
// newest first, one keyset page at a time.
func (h *Handlers) leadsQuarantinedShow(c echo.Context) error {
	return h.renderQuarantined(c, http.StatusOK, "")
}

// renderQuarantined shows the Quarantined view, with problem (a sentence
// saying why an action changed nothing) when there is one.
func (h *Handlers) renderQuarantined(c echo.Context, status int, problem string) error {
	ctx := c.Request().Context()
	acc := viewer(c).Account
	key, err := h.keyFilter(c)
	if err != nil {
		return err
	}
	vm := views.QuarantinedVM{Page: page(c, "Quarantined leads", "leads"), Now: h.now(), Key: key, Problem: problem,
		First: cursor(c) == 0}
	if vm.Keys, err = h.db.ParkedKeys(ctx, acc.ID); err != nil {
		return err
	}
	leads, err := h.db.ParkedLeads(ctx, acc.ID, db.LeadFilter{KeyID: key.ID, KeyIDs: key.IDs,
		PageFilter: db.PageFilter{BeforeID: cursor(c), Limit: leadsPerPage + 1}})
	if err != nil {
		return err
	}
	vm.Leads, vm.Older = leadsPage(leads)
	return web.Render(c, status, views.Quarantined(vm))
}

// parkedKey is the key named by the form's or query's "key": a key of the
// viewer's account, else 404.
func (h *Handlers) parkedKey(c echo.Context) (db.APIKey, error) {
	id, err := strconv.ParseInt(c.FormValue("key"), 10, 64)
	if err != nil || id <= 0 {
		return db.APIKey{}, echo.NewHTTPError(http.StatusBadRequest, "Choose the key whose parked leads to release or discard.")
	}
	k, err := h.db.APIKey(c.Request().Context(), viewer(c).Account.ID, id)
	return k, notFoundAs404(err)
}

// parkedRelease releases one parked lead (?lead= its public id) or all of a
// key's into Leads, as if just received.
func (h *Handlers) parkedRelease(c echo.Context) error {
	return h.parkedAction(c, func(k db.APIKey, lead string) (string, error) {
		r, err := h.db.ReleaseParked(c.Request().Context(), k, lead, actor(c), h.now())
		if lead != "" && r.Leads == 1 {
			return "Released lead " + lead + " of " + k.Name + " into Leads: received now, marked “released from quarantine”.", err
		}
		return releasedWords(r) + " of " + k.Name + " into Leads: received now, marked “released from quarantine”.", err
	})
}

// parkedAction runs act on the form's key and lead (a public id, or "" for
// all of the key's parked leads) and returns to the Quarantined view with
// act's notice, or says where the leads went when none was parked.
func (h *Handlers) parkedAction(c echo.Context, act func(k db.APIKey, lead string) (string, error)) error {
	if _, err := parseForm(c); err != nil {
		return err
	}
	k, err := h.parkedKey(c)
	if err != nil {
		return err
	}
	lead := c.FormValue("lead")
	notice, err := act(k, lead)
	if errors.Is(err, db.ErrNotParked) {
		return h.notParked(c, k, lead)
	}
	if err != nil {
		return err
	}
	return h.redirectWithNotice(c, "/leads/quarantined", notice)
}

// parkedDiscardConfirm asks before parked leads are deleted.
func (h *Handlers) parkedDiscardConfirm(c echo.Context) error {
	k, err := h.parkedKey(c)
	if err != nil {
		return err
	}
	vm := views.DiscardVM{Page: page(c, "Discard quarantined leads", "leads"), Key: k}
	ctx := c.Request().Context()
	if lead := c.QueryParam("lead"); lead != "" {
		l, err := h.db.ParkedLead(ctx, k.AccountID, k.ID, lead)
		if errors.Is(err, db.ErrNotFound) {
			return h.notParked(c, k, lead)
		}
		if err != nil {
			return err
		}
		vm.Lead = &l
	} else if vm.Count, err = h.db.CountParked(ctx, k.AccountID, k.ID); err != nil {
		return err
	} else if vm.Count == 0 {
		return h.notParked(c, k, "")
	}
	if web.IsHTMX(c) {
		return web.Render(c, http.StatusOK, views.DiscardModal(vm))
	}
	return web.Render(c, http.StatusOK, views.DiscardPage(vm))
}

// parkedDiscard deletes one parked lead or all of a key's.
func (h *Handlers) parkedDiscard(c echo.Context) error {
	return h.parkedAction(c, func(k db.APIKey, lead string) (string, error) {
		n, err := h.db.DiscardParked(c.Request().Context(), k, lead, actor(c), h.now())
		if lead != "" {
			return "Discarded lead " + lead + " of " + k.Name + ".", err
		}
		return "Discarded " + leadCount(n) + " of " + k.Name + ".", err
	})
}

// notParked answers an action on leads that are no longer parked (a stale
// form: another admin, or the end of the quarantine, got there first) with
// the Quarantined view and a sentence saying where they went.
func (h *Handlers) notParked(c echo.Context, k db.APIKey, lead string) error {
	var msg string
	switch {
	case lead != "":
		msg = "Lead " + lead + " is no longer in quarantine: it was discarded. Nothing changed."
		if _, err := h.db.LeadIDByPublicID(c.Request().Context(), k.AccountID, lead); err == nil {
			msg = "Lead " + lead + " was already released from quarantine: find it in Leads. Nothing changed."
		}
	case k.Quarantined():
		msg = "No leads of " + k.Name + " are parked right now: they were already released or discarded. Nothing changed."
	default:
		msg = k.Name + " is no longer quarantined and none of its leads are parked: they were released or discarded when its quarantine ended, or since (the audit log says which). Nothing changed."
	}
	if web.IsHTMX(c) {
		// From the modal: show the view itself rather than an error in the dialog.
		if err := web.Flash(c, msg); err != nil {
			return err
		}
		return web.Redirect(c, "/leads/quarantined")
	}
	return h.renderQuarantined(c, http.StatusConflict, msg)
}
