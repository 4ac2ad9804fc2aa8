package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/web"
)

// apiCaptureCreate starts a capture session with the key's capture settings
// as defaults and answers the session, its link and the SMS to send.
func (h *Handlers) apiCaptureCreate(c echo.Context, caller *apiCaller) error {
	body, idem, err := readJSONBody(c.Request(), "the capture session")
	if err != nil {
		return err
	}
	now := h.now()
	in, fields := decodeCaptureSession(body, now)
	if fields != nil {
		return rejectFields(c, fields, "the capture session")
	}

	k := caller.key
	id := newPublicID("cs", k.Mode, now)
	link := h.publicURL + "/capture/" + id // it goes out by SMS: never built from the request's Host
	s := db.CaptureSession{
		PublicID: id, AccountID: k.AccountID, KeyID: k.ID, KeyName: k.Name, Mode: k.Mode,
		CustomerName: in.Customer.Name, CustomerEmail: in.Customer.Email, CustomerPhone: in.Customer.Phone,
		VIN: in.Vehicle.VIN, Year: in.Vehicle.Year, Make: in.Vehicle.Make, Model: in.Vehicle.Model,
		StockNumber: in.Vehicle.StockNumber,
		Settings:    in.Settings.apply(k.Settings),
		CaptureURL:  link,
		CaptureSMS:  renderCaptureSMS(k.Settings.CaptureSMS, caller.account.Name, in.Customer.Name, link, in.Vehicle.describe()),
		CreatedAt:   now,
		ExpiresAt:   now.Add(k.Settings.SessionExpiry),
	}
	if idem != "" {
		s.IdempotencyKey, s.RequestHash = idem, requestHash(in)
	}
	stored, replayed, err := h.db.CreateCaptureSession(c.Request().Context(), s)
	if errors.Is(err, db.ErrIdempotencyMismatch) {
		return &web.APIError{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
			Message: "This Idempotency-Key was already used for a different capture session. Use a new key for a new session."}
	}
	if err != nil {
		return err
	}
	return answerCreated(c, "/api/v1/capture-sessions/"+stored.PublicID, replayed, toCaptureSessionJSON(stored, now))
}
