package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// healthz answers load balancers and the benchmark: the process is up.
func (h *Handlers) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}
