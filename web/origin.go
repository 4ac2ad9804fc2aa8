package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// CrossOrigin refuses (403) a state-changing browser request sent from
// another origin, judged by Sec-Fetch-Site or Origin with Go's
// http.CrossOriginProtection: a second line of defence behind the CSRF
// token. publicURL, the address people use to reach keydesk, is trusted
// even when a proxy hands keydesk another Host.
func CrossOrigin(publicURL string) echo.MiddlewareFunc {
	cop := http.NewCrossOriginProtection()
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
		// Only fails on a malformed origin, which a validated public URL is not.
		_ = cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := cop.Check(c.Request()); err != nil {
				return echo.NewHTTPError(http.StatusForbidden,
					"This request came from another site, so keydesk did not act on it. Use keydesk's own pages.")
			}
			return next(c)
		}
	}
}
