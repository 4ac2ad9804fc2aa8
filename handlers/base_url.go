package handlers

import "github.com/labstack/echo/v4"

// baseURL is where this keydesk answers, for links shown to people (invite
// links, the developer docs). When KEYDESK_PUBLIC_URL lands it is returned
// here instead of the request's own host.
func baseURL(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host
}
