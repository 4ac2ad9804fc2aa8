// Package handlers holds keydesk's route table and one file per page or
// action of the dashboard and the API.
package handlers

import (
	"log/slog"

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
}

// Handlers serves every route of keydesk.
type Handlers struct {
	db       *db.DB
	sealer   *keys.Sealer
	sessions *web.Sessions
	now      web.Clock
	log      *slog.Logger

	signIns *web.SignInGuard

	secrets secretCache // opened API secrets, in memory only, for the API's hot path
}

// New returns Handlers over deps.
func New(d Deps) *Handlers {
	return &Handlers{
		db: d.DB, sealer: d.Sealer, sessions: d.Sessions, now: d.Clock, log: d.Logger,
		signIns: web.NewSignInGuard(d.DB, d.Clock),
	}
}
