// Package handlers holds keydesk's route table and one file per page or
// action of the dashboard and the API.
package handlers

import (
	"log/slog"
	"time"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/web"
)

// Deps are what the handlers need, passed in by main.
type Deps struct {
	DB       *db.DB
	Sealer   *keys.Sealer
	Sessions *web.Sessions
	Clock    web.Clock
	Logger   *slog.Logger
	// PublicURL is where people and integrations reach keydesk, e.g.
	// https://keys.example.com (no trailing slash): every absolute link starts with it.
	PublicURL string
}

// Handlers serves every route of keydesk.
type Handlers struct {
	db       *db.DB
	sealer   *keys.Sealer
	sessions *web.Sessions
	now      web.Clock
	log      *slog.Logger
	// publicURL starts every absolute link keydesk sends out; never the request's Host.
	publicURL string

	loginByAddr  *web.Throttle
	loginByEmail *web.Throttle

	secrets secretCache // opened API secrets, in memory only, for the API's hot path
}

// New returns Handlers over deps.
func New(d Deps) *Handlers {
	return &Handlers{
		db: d.DB, sealer: d.Sealer, sessions: d.Sessions, now: d.Clock, log: d.Logger, publicURL: d.PublicURL,
		loginByAddr:  web.NewThrottle(20, 15*time.Minute, d.Clock),
		loginByEmail: web.NewThrottle(5, 15*time.Minute, d.Clock),
	}
}
