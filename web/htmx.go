package web

import "github.com/labstack/echo/v4"

// htmx request and response headers.
const (
	HXRequest    = "HX-Request"
	HXCurrentURL = "HX-Current-URL"
	HXRedirect   = "HX-Redirect"
	HXTrigger    = "HX-Trigger"
	HXPushURL    = "HX-Push-Url"
	// HXHistoryRestore marks htmx fetching a whole page it has no copy of, after Back.
	HXHistoryRestore = "HX-History-Restore-Request"
)

// IsHTMX reports whether htmx sent the request, which then wants a fragment
// rather than a whole page.
func IsHTMX(c echo.Context) bool {
	return c.Request().Header.Get(HXRequest) == "true"
}

// IsHistoryRestore reports whether htmx asks for a whole page to restore history.
func IsHistoryRestore(c echo.Context) bool {
	return c.Request().Header.Get(HXHistoryRestore) == "true"
}

// Redirect sends the browser elsewhere: a 303 for a normal request, an
// HX-Redirect for htmx, which would otherwise swap the target page in place.
func Redirect(c echo.Context, to string) error {
	if IsHTMX(c) {
		c.Response().Header().Set(HXRedirect, to)
		return c.NoContent(200)
	}
	return c.Redirect(303, to)
}
