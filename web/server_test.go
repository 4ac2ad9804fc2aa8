package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestIsHTTPSTrustsTheProxyOnlyWhenTold(t *testing.T) {
	cases := []struct {
		name        string
		behindProxy bool
		proto       string
		want        bool
	}{
		{"direct, no header", false, "", false},
		{"direct, forged header", false, "https", false},
		{"behind proxy, https", true, "https", true},
		{"behind proxy, http", true, "http", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := NewServer(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BehindProxy: tc.behindProxy})
			var got bool
			e.GET("/", func(c echo.Context) error { got = IsHTTPS(c); return c.NoContent(http.StatusNoContent) })
			req := httptest.NewRequest("GET", "/", nil)
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if got != tc.want {
				t.Errorf("IsHTTPS = %v, want %v", got, tc.want)
			}
			if hsts := rec.Header().Get("Strict-Transport-Security") != ""; hsts != tc.want {
				t.Errorf("HSTS sent = %v, want %v", hsts, tc.want)
			}
		})
	}
}

func TestBodyOver1MiBIs413(t *testing.T) {
	e := NewServer(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.POST("/api/v1/x", func(c echo.Context) error {
		_, err := io.ReadAll(c.Request().Body)
		return err
	})
	for name, req := range map[string]*http.Request{
		"declared length": httptest.NewRequest("POST", "/api/v1/x", io.LimitReader(zeros{}, MaxBody+1)),
		"chunked": func() *http.Request {
			r := httptest.NewRequest("POST", "/api/v1/x", io.LimitReader(zeros{}, MaxBody+1))
			r.ContentLength = -1
			return r
		}(),
	} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: status %d, want 413", name, rec.Code)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Once runs its middleware outermost first around whichever handler the
// router chose (a route's, a group's, not found, method not allowed), on
// every request, without Echo wrapping it again per request.
func TestOnceChainsAroundTheRoutesHandler(t *testing.T) {
	e := echo.New()
	var trace []string
	mark := func(name string) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				trace = append(trace, name)
				return next(c)
			}
		}
	}
	e.Use(Once(mark("a"), mark("b")))
	e.GET("/x", func(c echo.Context) error { trace = append(trace, "x"); return c.String(http.StatusOK, "x") })
	g := e.Group("/g", mark("group"))
	g.GET("/y", func(c echo.Context) error { trace = append(trace, "y"); return c.String(http.StatusOK, "y") })
	tests := []struct {
		method, path string
		status       int
		trace        string
	}{
		{"GET", "/x", 200, "a b x"},
		{"GET", "/x", 200, "a b x"},
		{"GET", "/g/y", 200, "a b group y"},
		{"GET", "/nowhere", 404, "a b"},
		{"GET", "/g/nowhere", 404, "a b group"},
		{"POST", "/x", 405, "a b"},
	}
	for _, tt := range tests {
		trace = nil
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if got := strings.Join(trace, " "); rec.Code != tt.status || got != tt.trace {
			t.Errorf("%s %s: %d, ran %q; want %d, %q", tt.method, tt.path, rec.Code, got, tt.status, tt.trace)
		}
	}
}

// A request whose client closed the connection is logged as 499 with no
// ERROR line; a cancellation of keydesk's own, with the client still
// there, is still a 500 that someone should look at.
func TestClientGoneIs499AndNotAnError(t *testing.T) {
	tests := []struct {
		name        string
		clientGone  bool
		err         error
		status      int
		errorLogged bool
	}{
		{"client closed the connection", true, context.Canceled, StatusClientClosedRequest, false},
		{"wrapped, client closed", true, fmt.Errorf("db: commit: %w", context.Canceled), StatusClientClosedRequest, false},
		{"canceled inside keydesk, client still there", false, context.Canceled, http.StatusInternalServerError, true},
		{"client closed, but the failure is another", true, errors.New("disk full"), http.StatusInternalServerError, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			e := NewServer(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			e.POST("/api/v1/x", func(echo.Context) error { return tt.err })
			req := httptest.NewRequest("POST", "/api/v1/x", nil)
			if tt.clientGone {
				ctx, cancel := context.WithCancel(req.Context())
				cancel()
				req = req.WithContext(ctx)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if got := strings.Contains(logs.String(), "level=ERROR"); got != tt.errorLogged {
				t.Errorf("ERROR logged: %v, want %v:\n%s", got, tt.errorLogged, logs.String())
			}
			if want := fmt.Sprintf("status=%d", tt.status); !strings.Contains(logs.String(), want) {
				t.Errorf("the request's line lacks %s:\n%s", want, logs.String())
			}
		})
	}
}
