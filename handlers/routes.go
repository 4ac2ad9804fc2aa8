package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/static"
	"keydesk/web"
)

// Routes registers every route of keydesk on e: one table, read top to bottom.
func (h *Handlers) Routes(e *echo.Echo) {
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)

	// The API: JSON, authenticated by key, token or signature — never by cookie.
	api := loggedGroup{e.Group("/api/v1"), h.logRequests}
	api.POST("/auth/token", h.tokenIssue)
	api.POST("/auth/revoke", h.tokenRevoke)
	api.GET("/openapi.json", h.openAPI)
	api.GET("/key", h.api(0, "", h.apiKeyShow))
	api.POST("/leads", h.api(scopeWrite, db.LicenseLeads, h.apiLeadsCreate))
	api.GET("/leads", h.api(scopeRead, db.LicenseLeads, h.apiLeadsList))
	api.GET("/leads/:id", h.api(scopeRead, db.LicenseLeads, h.apiLeadShow))
	api.POST("/capture-sessions", h.api(scopeWrite, db.LicenseCapture, h.apiCaptureCreate))
	api.GET("/capture-sessions", h.api(scopeRead, db.LicenseCapture, h.apiCaptureList))
	api.GET("/capture-sessions/:id", h.api(scopeRead, db.LicenseCapture, h.apiCaptureShow))
	api.Any("/*", h.apiNotFound)
	// What Echo's Group.Use would add: the request log sees every /api/v1 path.
	api.RouteNotFound("", echo.NotFoundHandler)
	api.RouteNotFound("/*", echo.NotFoundHandler)

	// A capture session's link, opened by the dealership's customer: no sign-in.
	e.GET("/capture/:id", h.captureLinkShow)

	// The dashboard: cookie sessions; a cross-origin check and the CSRF token
	// on every state-changing request.
	ui := e.Group("", web.ServerTiming, web.CrossOrigin(h.publicURL), h.sessions.Load, web.CSRF)
	ui.GET("/login", h.loginShow)
	ui.POST("/login", h.loginSubmit)
	ui.POST("/logout", h.logout)
	ui.GET("/invite/:token", h.inviteShow)
	ui.POST("/invite/:token", h.inviteAccept)

	user := ui.Group("", web.RequireUser)
	user.GET("/", h.dashboardShow)
	user.GET("/keys", h.keysShow)
	user.GET("/keys/:id", h.keyShowReadOnly)
	user.POST("/keys/:id/reveal", h.keyReveal)
	user.GET("/leads", h.leadsShow)
	user.GET("/leads/:id", h.leadShow)
	user.GET("/docs", h.docsShow)

	admin := user.Group("", web.RequireAdmin)
	admin.GET("/settings/integrations", h.integrationsShow)
	admin.GET("/settings/integrations/keys/new", h.keyNew)
	admin.POST("/settings/integrations/keys", h.keyCreate)
	admin.GET("/settings/integrations/keys/:id", h.keyShow)
	admin.GET("/settings/integrations/keys/:id/created", h.keyCreatedShow)
	admin.GET("/settings/integrations/keys/:id/edit", h.keyEdit)
	admin.POST("/settings/integrations/keys/:id", h.keyUpdate)
	admin.GET("/settings/integrations/keys/:id/revoke", h.keyConfirm("revoke", "Revoke key"))
	admin.POST("/settings/integrations/keys/:id/revoke", h.keyRevoke)
	admin.GET("/settings/integrations/keys/:id/roll", h.keyRollConfirm)
	admin.POST("/settings/integrations/keys/:id/roll", h.keyRoll)
	admin.GET("/settings/integrations/keys/:id/end-tokens", h.keyConfirm("end-tokens", "End all tokens"))
	admin.POST("/settings/integrations/keys/:id/end-tokens", h.keyEndTokens)
	admin.GET("/settings/integrations/keys/:id/pause", h.keyConfirm("pause", "Pause key"))
	admin.POST("/settings/integrations/keys/:id/pause", h.keyPause)
	admin.POST("/settings/integrations/keys/:id/resume", h.keyResume)
	admin.GET("/settings/integrations/keys/:id/quarantine", h.keyQuarantineConfirm)
	admin.POST("/settings/integrations/keys/:id/quarantine", h.keyQuarantine)
	admin.POST("/settings/integrations/keys/:id/end-quarantine", h.keyEndQuarantine)
	admin.GET("/settings/integrations/keys/:id/usage", h.keyUsageShow)
	admin.GET("/settings/integrations/keys/:id/signature-failures", h.keySignatureFailures)
	admin.GET("/leads/quarantined", h.leadsQuarantinedShow)
	admin.POST("/leads/quarantined/release", h.parkedRelease)
	admin.GET("/leads/quarantined/discard", h.parkedDiscardConfirm)
	admin.POST("/leads/quarantined/discard", h.parkedDiscard)
	admin.GET("/settings/audit", h.auditShow)
	admin.GET("/settings/audit.csv", h.auditCSV)
	admin.GET("/settings/users", h.usersShow)
	admin.POST("/settings/users", h.userInvite)
	admin.POST("/settings/users/:id/role", h.userRole)
	admin.GET("/settings/users/:id/disable", h.userDisableConfirm)
	admin.POST("/settings/users/:id/disable", h.userDisable)
	admin.POST("/settings/users/:id/enable", h.userEnable)
	admin.GET("/settings/users/:id/reset", h.userResetConfirm)
	admin.POST("/settings/users/:id/reset", h.userReset)

	// A path no route knows is 404 for every signed-in user: without this the
	// admin group's catch-all (Echo registers one per group with middleware)
	// would answer a dealer 403 "admins only" for a page that does not exist.
	user.RouteNotFound("/*", echo.NotFoundHandler)
	// Browsers ask for /favicon.ico on their own; the pages name the icon.
	e.GET("/favicon.ico", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, static.Path("favicon.svg"))
	})

	h.routeNames = routeNamesOf(e)
}

// loggedGroup registers routes with one middleware wrapped around each
// handler once. Given to the group, Echo would wrap it around the handler
// afresh on every request: an allocation on every API call.
type loggedGroup struct {
	g  *echo.Group
	mw echo.MiddlewareFunc
}

func (l loggedGroup) GET(path string, h echo.HandlerFunc)  { l.g.GET(path, l.mw(h)) }
func (l loggedGroup) POST(path string, h echo.HandlerFunc) { l.g.POST(path, l.mw(h)) }
func (l loggedGroup) Any(path string, h echo.HandlerFunc)  { l.g.Any(path, l.mw(h)) }
func (l loggedGroup) RouteNotFound(path string, h echo.HandlerFunc) {
	l.g.RouteNotFound(path, l.mw(h))
}
