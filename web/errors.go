package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keydesk/views"
)

// APIError is a JSON error of the API: a stable code and a sentence.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"error"`
	Message string `json:"error_description"`
	// RequestID lets a client quote the request; set when the error is answered.
	RequestID string `json:"request_id,omitempty"`
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// StatusClientClosedRequest is what the log, the metrics and the request
// log say of a request whose client closed the connection before the answer
// (nginx's 499): nothing failed on keydesk's side.
const StatusClientClosedRequest = 499

// ClientGone reports whether err ended a request only because its client
// closed the connection (net/http then cancels the request's context).
func ClientGone(c echo.Context, err error) bool {
	return errors.Is(err, context.Canceled) && errors.Is(c.Request().Context().Err(), context.Canceled)
}

func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		if ClientGone(c, err) {
			// Nobody is left to read an answer, and no ERROR line or
			// server_error should page whoever runs keydesk (observe
			// counts the 499 as client_closed_request, apiCode's name).
			c.NoContent(StatusClientClosedRequest)
			return
		}
		status, message := http.StatusInternalServerError, "Something went wrong on our side. Try again in a moment."
		var he *echo.HTTPError
		var ae *APIError
		switch {
		case errors.As(err, &ae):
			status = ae.Status
		case errors.As(err, &he):
			status = he.Code
			if m, ok := he.Message.(string); ok {
				message = m
			} else {
				message = http.StatusText(status)
			}
		case IsTooLarge(err):
			status, message = http.StatusRequestEntityTooLarge, "The request body is larger than 1 MiB."
		}
		id := RequestID(c)
		if status >= 500 {
			log.Error("request failed", "id", id, "method", c.Request().Method, "route", c.Path(), "err", err)
		}
		if strings.HasPrefix(c.Request().URL.Path, "/api/") {
			body := APIError{Status: status, Code: apiCode(status), Message: message}
			if ae != nil {
				body = *ae // a copy: some errors are shared values
			}
			body.RequestID = id
			NoteOutcome(c, body.Code)
			c.Response().Header().Set("Cache-Control", "no-store")
			c.JSON(body.Status, &body)
			return
		}
		if status == http.StatusNotFound && message == http.StatusText(404) {
			message = "There is nothing here. The page may have moved, or the item does not exist."
		}
		if status == http.StatusMethodNotAllowed {
			message = "That address does not take this kind of request."
		}
		Render(c, status, views.ErrorPage(views.ErrorVM{Page: PageFor(c, http.StatusText(status), ""),
			Status: status, Title: http.StatusText(status), Message: message, RequestID: id}))
	}
}

// PageFor builds the layout's view model for the person making the request.
func PageFor(c echo.Context, title, active string) views.Page {
	p := views.Page{Title: title, Active: active, CSRF: CSRFToken(c), Now: Now(c)}
	if !IsHTMX(c) {
		// A fragment never shows the notice, so only a whole page takes it.
		p.Flash, _ = takeOnce(c, flashKey)
	}
	if v, ok := CurrentViewer(c); ok {
		p.Email, p.Role = v.User.Email, v.User.Role
		p.AccountName, p.AccountSlug = v.Account.Name, v.Account.Slug
	}
	return p
}

func apiCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusBadRequest:
		return "invalid_request"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case StatusClientClosedRequest:
		return "client_closed_request"
	}
	if status >= 500 {
		return "server_error"
	}
	return "error"
}
