package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keydesk/web"
)

// apiNotFound answers unknown API paths in JSON, keeping them out of the
// dashboard's sign-in redirect: 405 when the path exists for another method.
func (h *Handlers) apiNotFound(c echo.Context) error {
	var allow []string
	for _, r := range c.Echo().Routes() {
		if r.Method != c.Request().Method && r.Method != echo.RouteNotFound && !strings.HasSuffix(r.Path, "*") &&
			strings.HasPrefix(r.Path, "/api/") && routeMatches(r.Path, c.Request().URL.Path) {
			allow = append(allow, r.Method)
		}
	}
	if len(allow) > 0 {
		c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
		return &web.APIError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
			Message: "This endpoint does not take " + c.Request().Method + " requests."}
	}
	return &web.APIError{Status: http.StatusNotFound, Code: "not_found",
		Message: "There is no such API endpoint; see /api/v1/openapi.json."}
}

// routeMatches reports whether path fits an Echo route pattern with :params.
func routeMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if !strings.HasPrefix(ps[i], ":") && ps[i] != xs[i] || strings.HasPrefix(ps[i], ":") && xs[i] == "" {
			return false
		}
	}
	return true
}
