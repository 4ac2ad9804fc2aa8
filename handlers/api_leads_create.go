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
	Code    string            `json:"error"`
	Message string            `json:"error_description"`
	Fields  map[string]string `json:"fields"`
}

// apiLeadsCreate takes in a lead and answers a receipt.
func (h *Handlers) apiLeadsCreate(c echo.Context, caller *apiCaller) error {
	r := c.Request()
	if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err != nil || mt != "application/json" {
		return &web.APIError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "Send the lead as application/json."}
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
	in, fields := decodeLead(body, now)
	if fields != nil {
		if len(fields) == 0 {
			return &web.APIError{Status: http.StatusBadRequest, Code: "invalid_json",
				Message: "The body is not a JSON object: see the example in the API documentation."}
		}
		return c.JSON(http.StatusBadRequest, validationError{Code: "validation_failed",
			Message: "Some fields of the lead are not valid; each is listed in fields.", Fields: fields})
	}
	l := in.toLead(caller, newLeadID(caller.key.Mode, now), now)
	if idem != "" {
		canonical, _ := json.Marshal(in)
		sum := sha256.Sum256(canonical)
		l.IdempotencyKey, l.RequestHash = idem, sum[:]
	}
	receipt, err := h.db.CreateLead(r.Context(), l)
	if errors.Is(err, db.ErrIdempotencyMismatch) {
		return &web.APIError{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
			Message: "This Idempotency-Key was already used for a different lead. Use a new key for a new lead."}
	}
	if err != nil {
		return err
	}
	if receipt.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/leads/"+receipt.PublicID)
	return c.JSON(http.StatusCreated, leadReceipt{ID: receipt.PublicID, ReceivedAt: receipt.ReceivedAt.UTC().Format(time.RFC3339)})
}

// decodeLead reads and validates a lead. It returns nil fields when the lead
// is good, an empty map when the body is not JSON, and otherwise a message per field.
func decodeLead(body []byte, now time.Time) (leadInput, map[string]string) {
	var in leadInput
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return in, map[string]string{typeErr.Field: "Has the wrong type: expected " + typeErr.Type.String() + "."}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return in, map[string]string{name: "Is not a field of a lead."}
		}
		return in, map[string]string{}
	}
	if dec.More() {
		return in, map[string]string{}
	}
	if errs := in.normalize(now); len(errs) > 0 {
		return in, errs
	}
	return in, nil
}
