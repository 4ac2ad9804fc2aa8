package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
)

// quarantinableKey is the path's key when it may be quarantined: an active
// digital-requests key of the viewer's account.
func (h *Handlers) quarantinableKey(c echo.Context) (db.APIKey, error) {
	k, err := h.activeKey(c)
	if err == nil && k.Type != db.DigitalRequests {
		err = echo.NewHTTPError(http.StatusConflict, "Only a digital-requests key can be quarantined: an integration key also reads data, so pause or revoke it instead.")
	}
	return k, err
}

// keyQuarantineConfirm says what a quarantine does before it starts.
func (h *Handlers) keyQuarantineConfirm(c echo.Context) error {
	k, err := h.quarantinableKey(c)
	if err != nil {
		return err
	}
	return renderConfirm(c, views.KeyConfirmVM{Page: page(c, "Quarantine key", "integrations"), Key: k, Action: "quarantine",
		BackToKey: backToKey(c)})
}

// keyQuarantine parks the key's leads from its next one on, on every
// instance; its sender still gets the usual receipt.
func (h *Handlers) keyQuarantine(c echo.Context) error {
	k, err := h.quarantinableKey(c)
	if err != nil {
		return err
	}
	if _, err := h.db.QuarantineAPIKey(c.Request().Context(), k.AccountID, k.ID, actor(c), h.now()); err != nil {
		return notFoundAs404(err)
	}
	return h.afterRowChange(c, k.ID, "Quarantined "+k.Name+": its leads are parked under Leads › Quarantined until you release or discard them.")
}

// keyEndQuarantine lets the key's leads through again, in one click when it
// has parked none. With leads parked it first asks what becomes of them
// (parked=release, discard or keep), then ends the quarantine and, once
// every instance stopped parking, releases or discards them.
func (h *Handlers) keyEndQuarantine(c echo.Context) error {
	if _, err := parseForm(c); err != nil {
		return err
	}
	k, err := h.quarantinableKey(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	parked, err := h.db.CountParked(ctx, k.AccountID, k.ID)
	if err != nil {
		return err
	}
	choice := c.FormValue("parked")
	switch {
	case choice == "" && parked == 0:
		choice = "keep"
	case choice != "release" && choice != "discard" && choice != "keep":
		vm := views.KeyConfirmVM{Page: page(c, "End quarantine", "integrations"), Key: k, Action: "end-quarantine",
			BackToKey: backToKey(c), Parked: parked}
		status := http.StatusOK
		if choice != "" {
			vm.Error, status = "Choose what becomes of the parked leads: release them, discard them or keep them parked.", http.StatusUnprocessableEntity
		}
		return renderConfirmStatus(c, status, vm)
	}
	ended, err := h.db.EndQuarantine(ctx, k.AccountID, k.ID, choice, actor(c), h.now())
	if err != nil {
		return notFoundAs404(err)
	}
	notice := "Ended the quarantine of " + k.Name + ": its leads go through again."
	if !ended {
		notice = "The quarantine of " + k.Name + " had already ended."
	}
	switch choice {
	case "release":
		r, err := h.db.ReleaseParked(ctx, k, "", actor(c), h.now())
		if err != nil && !errors.Is(err, db.ErrNotParked) {
			return err
		}
		notice += " " + releasedWords(r) + " into Leads."
	case "discard":
		n, err := h.db.DiscardParked(ctx, k, "", actor(c), h.now())
		if err != nil && !errors.Is(err, db.ErrNotParked) {
			return err
		}
		notice += " Discarded " + leadCount(n) + "."
	default:
		if parked > 0 {
			verb := " stay"
			if parked == 1 {
				verb = " stays"
			}
			notice += " Its " + leadCount(parked) + verb + " parked under Leads › Quarantined."
		}
	}
	return h.afterRowChange(c, k.ID, notice)
}

// leadCount says n leads in words: "1 lead", "3 leads", "1,000+ leads".
func leadCount(n int) string {
	switch {
	case n == 1:
		return "1 lead"
	case n > db.MaxParkedCount:
		return "more than " + strconv.Itoa(db.MaxParkedCount) + " leads"
	}
	return strconv.Itoa(n) + " leads"
}

// releasedWords says what a release did: "Released 3 leads", with the
// retries of leads already received that it dropped.
func releasedWords(r db.Released) string {
	s := "Released " + leadCount(r.Leads)
	if r.Retries > 0 {
		s += " (" + leadCount(r.Retries) + " dropped: retries, with the same Idempotency-Key, of leads already received)"
	}
	return s
}
