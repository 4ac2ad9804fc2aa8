package handlers

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys/live"
	"keydesk/web"
)

const maxIdempotencyKeyLen = 255

// leadReceipt is all POST /api/v1/leads answers: never data about anyone.
type leadReceipt struct {
	ID         string `json:"id"`
	ReceivedAt string `json:"received_at"`
}

// validationError is a 400 listing each invalid field.
type validationError struct {
	Code      string            `json:"error"`
	Message   string            `json:"error_description"`
	RequestID string            `json:"request_id,omitempty"`
	Fields    map[string]string `json:"fields"`
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
	return answerCreated(c, "/api/v1/leads/"+receipt.PublicID, receipt.Replayed,
		leadReceipt{ID: receipt.PublicID, ReceivedAt: receipt.ReceivedAt.UTC().Format(time.RFC3339)})
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

// readJSONBody reads the body of a POST that creates something, and its
// Idempotency-Key ("" when there is none). The error is a 415 when the body
// is not application/json, the body limit's 413, or else a 400; what names
// the object in the 415 message, such as "the lead".
func readJSONBody(r *http.Request, what string) (body []byte, idempotencyKey string, err error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err != nil || mt != "application/json" {
		return nil, "", &web.APIError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "Send " + what + " as application/json."}
	}
	idempotencyKey = r.Header.Get("Idempotency-Key")
	if len(idempotencyKey) > maxIdempotencyKeyLen || strings.IndexFunc(idempotencyKey, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		return nil, "", &web.APIError{Status: http.StatusBadRequest, Code: "invalid_request",
			Message: "Idempotency-Key must be at most 255 visible ASCII characters, such as a UUID."}
	}
	body, err = io.ReadAll(r.Body)
	if err != nil {
		if web.IsTooLarge(err) {
			return nil, "", err
		}
		return nil, "", &web.APIError{Status: http.StatusBadRequest, Code: "invalid_request", Message: "The body could not be read."}
	}
	return body, idempotencyKey, nil
}

// rejectFields answers a body that did not decode: invalid_json when fields
// is empty, else validation_failed listing them; what names the object, such
// as "the lead".
func rejectFields(c echo.Context, fields map[string]string, what string) error {
	if len(fields) == 0 {
		return &web.APIError{Status: http.StatusBadRequest, Code: "invalid_json",
			Message: "The body is not a JSON object: see the example in the API documentation."}
	}
	answeredWith(c, "validation_failed")
	return c.JSON(http.StatusBadRequest, validationError{Code: "validation_failed",
		Message: "Some fields of " + what + " are not valid; each is listed in fields.", RequestID: web.RequestID(c), Fields: fields})
}

// requestHash identifies a decoded request, so a retry with the same
// Idempotency-Key can be told from a different request.
func requestHash(in any) []byte {
	canonical, _ := json.Marshal(in)
	sum := sha256.Sum256(canonical)
	return sum[:]
}

// answerCreated answers 201 with body and the Location of what was created,
// marking an idempotent replay.
func answerCreated(c echo.Context, location string, replayed bool, body any) error {
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	c.Response().Header().Set(echo.HeaderLocation, location)
	return c.JSON(http.StatusCreated, body)
}
