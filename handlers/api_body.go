package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"

	"keydesk/web"
)

// maxIdempotencyKeyLen bounds an Idempotency-Key (a UUID takes 36).
const maxIdempotencyKeyLen = 255

// validationError is a 400 listing each invalid field.
type validationError struct {
	Code      string            `json:"error"`
	Message   string            `json:"error_description"`
	RequestID string            `json:"request_id,omitempty"`
	Fields    map[string]string `json:"fields"`
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
	markCreated(c, location, replayed)
	return c.JSON(http.StatusCreated, body)
}

// markCreated gives a 201 the Location of what was created, and marks an
// idempotent replay.
func markCreated(c echo.Context, location string, replayed bool) {
	h := c.Response().Header()
	if replayed {
		h["Idempotent-Replayed"] = idempotentReplayed
	}
	h[echo.HeaderLocation] = []string{location}
}

// idempotentReplayed is the Idempotent-Replayed header's value, shared: net/http only reads it.
var idempotentReplayed = []string{"true"}

// decodeJSONObject reads body into v, refusing unknown fields and trailing
// data. It returns nil when the body decoded, an empty map when it is not a
// JSON object, and otherwise a message for the one field at fault: what names
// the object ("a lead") and typeName the expected type of a field, from its Go type.
func decodeJSONObject(body []byte, v any, what string) map[string]string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return map[string]string{typeErr.Field: "Has the wrong type: expected " + jsonTypeName(typeErr.Type.String()) + "."}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			// encoding/json names the field without the object it is in:
			// find its whole path, as every other message of fields has it.
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			if path := unknownField(body, reflect.TypeOf(v)); path != "" {
				name = path
			}
			parent, _, nested := strings.Cut(name, ".")
			if nested {
				what = parent
			}
			return map[string]string{name: "Is not a field of " + what + "."}
		}
		return map[string]string{}
	}
	if dec.More() {
		return map[string]string{}
	}
	return nil
}

// unknownField is the dotted path ("vehicle.colour") of the first key in
// body, in document order, that the Go type t has no field for, matched as
// encoding/json matches (case-insensitively); "" when there is none.
func unknownField(body []byte, t reflect.Type) string {
	path, _ := walkUnknown(json.NewDecoder(bytes.NewReader(body)), t, "")
	return path
}

// walkUnknown reads one JSON value from dec against t; ok is false when the
// JSON ends early or is malformed.
func walkUnknown(dec *json.Decoder, t reflect.Type, prefix string) (path string, ok bool) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return "", false
	}
	switch tok {
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for dec.More() {
			if p, ok := walkUnknown(dec, elem, prefix); p != "" || !ok {
				return p, ok
			}
		}
	case json.Delim('{'):
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return "", false
			}
			key, _ := kt.(string)
			name := key
			if prefix != "" {
				name = prefix + "." + key
			}
			var field reflect.Type
			if t != nil {
				switch t.Kind() {
				case reflect.Struct:
					f, found := jsonField(t, key)
					if !found {
						return name, true
					}
					field = f
				case reflect.Map:
					field = t.Elem()
				}
			}
			if p, ok := walkUnknown(dec, field, name); p != "" || !ok {
				return p, ok
			}
		}
	default:
		return "", true
	}
	_, err = dec.Token() // the closing ] or }
	return "", err == nil
}

// jsonField finds the field of struct t that encoding/json decodes key into.
func jsonField(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.EqualFold(name, key) {
			return f.Type, true
		}
	}
	return nil, false
}

// jsonTypeName names a Go type the way a JSON client thinks of it.
func jsonTypeName(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "int", "int64":
		return "a whole number"
	}
	return goType
}
