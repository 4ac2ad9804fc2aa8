// Package handlers holds keydesk's route table and one file per page or
// action of the dashboard and the API.
package handlers

import (
	"log/slog"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/keys/live"
	"keydesk/web"
	"keydesk/web/metrics"
)

// Deps are what the handlers need, passed in by main.
type Deps struct {
	DB       *db.DB
	Live     *live.State
	Sealer   *keys.Sealer
	Sessions *web.Sessions
	Clock    web.Clock
	Logger   *slog.Logger
	// PublicURL is where people and integrations reach keydesk, e.g.
	// https://keys.example.com (no trailing slash): every absolute link starts with it.
	PublicURL string
	Metrics   *metrics.Metrics
	Requests  *db.RequestLog
	// RequestLogOff records no API request in the request log.
	RequestLogOff bool
}

// Handlers serves every route of keydesk.
type Handlers struct {
	db       *db.DB
	live     *live.State
	sealer   *keys.Sealer
	sessions *web.Sessions
	now      web.Clock
	log      *slog.Logger
	// publicURL starts every absolute link keydesk sends out; never the request's Host.
	publicURL   string
	metrics     *metrics.Metrics
	requests    *db.RequestLog
	requestsOff bool
	// routeNames name the routes in the request log; set once the route table is built.
	routeNames map[routeKey]string
	// secretPrints keys the fingerprints of secrets sent to the token endpoint in vain.
	secretPrints []byte

	ready          readiness
	signIns        *web.SignInGuard
	clientFailures *clientFailures
	failing        failingCache
}

// New returns Handlers over deps.
func New(d Deps) *Handlers {
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	return &Handlers{
		db: d.DB, live: d.Live, sealer: d.Sealer, sessions: d.Sessions, now: d.Clock, log: d.Logger, publicURL: d.PublicURL, metrics: d.Metrics,
		requests: d.Requests, requestsOff: d.RequestLogOff, secretPrints: d.Sealer.Derive("request-log-secret-print"),
		signIns:        web.NewSignInGuard(d.DB, d.Clock),
		clientFailures: newClientFailures(d.Clock),
	}
}
