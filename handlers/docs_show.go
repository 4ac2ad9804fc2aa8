package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/views"
	"keydesk/web"
)

// docsShow is the developer documentation, with examples for the reader's account.
func (h *Handlers) docsShow(c echo.Context) error {
	return web.Render(c, http.StatusOK, views.Docs(views.DocsVM{Page: page(c, "Developer documentation", "docs"), BaseURL: baseURL(c)}))
}
