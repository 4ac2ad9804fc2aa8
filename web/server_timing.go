package web

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// ServerTiming adds a Server-Timing header ("app;dur=<ms>") with the time the
// server spent on a dashboard page, up to its first byte: pages are rendered
// into a buffer first, so that is all of it. The scale benchmark reads it.
func ServerTiming(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		res := c.Response()
		res.Before(func() {
			ms := float64(time.Since(start).Microseconds()) / 1000
			res.Header().Set("Server-Timing", "app;dur="+strconv.FormatFloat(ms, 'f', 3, 64))
		})
		return next(c)
	}
}
