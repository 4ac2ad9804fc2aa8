package handlers

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/web"
)

// apiCaptureCreate starts a capture session with the key's capture settings
// as defaults and answers the session, its link and the SMS to send.
func (h *Handlers) apiCaptureCreate(c echo.Context, caller *apiCaller) error {
	r := c.Request()
	if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err != nil || mt != "application/json" {
		return &web.APIError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "Send the capture session as application/json."}
	}
	idem := r.Header.Get("Idempotency-Key")
	if len(idem) > maxIdempotencyKeyLen || strings.IndexFunc(idem, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		return &web.APIError{Status: http.StatusBadRequest, Code: "invalid_request",
			Message: "Idempotency-Key must be at most 255 visible ASCII characters, such as a UUID."}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if web.IsTooLarge(err) {
			return err
		}
		return &web.APIError{Status: http.StatusBadRequest, Code: "invalid_request", Message: "The body could not be read."}
	}
	now := h.now()
	in, fields := decodeCaptureSession(body, now)
	if fields != nil {
		if len(fields) == 0 {
			return &web.APIError{Status: http.StatusBadRequest, Code: "invalid_json",
				Message: "The body is not a JSON object: see the example in the API documentation."}
		}
		return c.JSON(http.StatusBadRequest, validationError{Code: "validation_failed",
			Message: "Some fields of the capture session are not valid; each is listed in fields.", Fields: fields})
	}

	k := caller.key
	id := newCaptureSessionID(k.Mode, now)
	link := captureLink(c, id)
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
		canonical, _ := json.Marshal(in)
		sum := sha256.Sum256(canonical)
		s.IdempotencyKey, s.RequestHash = idem, sum[:]
	}
	stored, replayed, err := h.db.CreateCaptureSession(r.Context(), s)
	if errors.Is(err, db.ErrIdempotencyMismatch) {
		return &web.APIError{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
			Message: "This Idempotency-Key was already used for a different capture session. Use a new key for a new session."}
	}
	if err != nil {
		return err
	}
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/capture-sessions/"+stored.PublicID)
	return c.JSON(http.StatusCreated, toCaptureSessionJSON(stored, now))
}

// captureLink is where the customer captures the vehicle: an absolute URL on
// this server, since it goes out by SMS.
func captureLink(c echo.Context, id string) string {
	scheme := "http"
	if web.IsHTTPS(c) {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host + "/capture/" + id
}
