package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys/live"
	"keydesk/web"
)

// leadReceipt is all POST /api/v1/leads answers: never data about anyone.
type leadReceipt struct {
	ID         string    `json:"id"`
	ReceivedAt time.Time `json:"received_at"` // whole seconds
}

// appendJSON appends r as encoding/json writes it: received_at in RFC 3339, UTC.
func (r leadReceipt) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, r.ID)
	b = append(b, `,"received_at":"`...)
	b = r.ReceivedAt.UTC().AppendFormat(b, time.RFC3339)
	return append(b, "\"}\n"...)
}

// apiLeadsCreate takes in a lead and answers a receipt.
func (h *Handlers) apiLeadsCreate(c echo.Context, caller *apiCaller) error {
	body, idem, err := readJSONBody(c.Request(), "the lead")
	if err != nil {
		return err
	}
	now := h.now()
	in, fields := decodeLead(body, now)
	if fields != nil {
		return rejectFields(c, fields, "the lead")
	}
	if r, ok := h.live.Lead(caller.live).(*live.Refusal); ok {
		return refusal(c, r)
	}
	l := in.toLead(caller, newPublicID("ld", caller.key.Mode, now), now)
	if idem != "" {
		l.IdempotencyKey, l.RequestHash = idem, requestHash(in)
	}
	receipt, err := h.db.CreateLead(c.Request().Context(), l)
	if errors.Is(err, db.ErrIdempotencyMismatch) {
		return &web.APIError{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
			Message: "This Idempotency-Key was already used for a different lead. Use a new key for a new lead."}
	}
	if err != nil {
		return err
	}
	if !receipt.Replayed {
		h.metrics.LeadsReceived.Inc()
	}
	markCreated(c, "/api/v1/leads/"+receipt.PublicID, receipt.Replayed)
	return writeJSON(c, http.StatusCreated, leadReceipt{ID: receipt.PublicID, ReceivedAt: receipt.ReceivedAt}.appendJSON)
}

// decodeLead reads and validates a lead, with the same contract as decodeJSONObject.
func decodeLead(body []byte, now time.Time) (leadInput, map[string]string) {
	var in leadInput
	if fields := decodeJSONObject(body, &in, "a lead"); fields != nil {
		return in, fields
	}
	if errs := in.normalize(now); len(errs) > 0 {
		return in, errs
	}
	return in, nil
}
