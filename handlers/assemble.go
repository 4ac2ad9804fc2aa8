package handlers

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/keys/live"
	"keydesk/web"
	"keydesk/web/metrics"
)

// Config is what keydesk is assembled from.
type Config struct {
	Store       *db.DB
	Sealer      *keys.Sealer
	Clock       web.Clock
	Logger      *slog.Logger
	BehindProxy bool
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// PublicURL is where people reach keydesk, for every absolute link it makes.
	PublicURL string
	// RequestLogDays is how long the request log keeps each request (30 days when 0).
	RequestLogDays int
	// RequestLogOff records no API request (the benchmark compares both).
	RequestLogOff bool
	// InstanceID and Addr name this process among the instances on one database.
	InstanceID, Addr string
	// Metrics receive the server's series; nil makes a registry of its own.
	Metrics *metrics.Metrics
}

// App is keydesk assembled: the store, the live authentication state
// following the store's change log, sessions and every route.
type App struct {
	Echo    *echo.Echo
	Store   *db.DB
	Live    *live.State
	Metrics *metrics.Metrics
	clock   web.Clock
	log     *slog.Logger
	h       *Handlers
	// Requests is the request log's writer.
	Requests *db.RequestLog
}

// Assemble builds keydesk over cfg. It is the one place the server is
// wired, for main, the tests and the benchmark alike.
func Assemble(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	state, err := live.New(ctx, cfg.Store, live.Options{Sealer: cfg.Sealer, Clock: cfg.Clock, Logger: cfg.Logger, Shared: cfg.Store.Backend() == db.Postgres,
		InstanceID: cfg.InstanceID, Addr: cfg.Addr, FirstUse: cfg.Store.StartRetiring, Report: cfg.Store.NoteOutsideIP})
	if err != nil {
		return nil, err
	}
	// Every committed change counts here, and on every instance, before the request that made it is answered.
	cfg.Store.OnChange = state.Propagate
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	cfg.Metrics.ChangeLogLag(state.Lag)
	cfg.Store.OnBatch = cfg.Metrics.ObserveBatch
	e := web.NewServer(web.Options{Logger: cfg.Logger, BehindProxy: cfg.BehindProxy,
		TrustedProxies: cfg.TrustedProxies, Metrics: cfg.Metrics})
	days := cfg.RequestLogDays
	if days <= 0 {
		days = 30
	}
	requests := cfg.Store.NewRequestLog(cfg.Clock, time.Duration(days)*24*time.Hour, cfg.Logger)
	h := New(Deps{
		DB: cfg.Store, Live: state, Sealer: cfg.Sealer, Clock: cfg.Clock, Logger: cfg.Logger, Metrics: cfg.Metrics, PublicURL: cfg.PublicURL,
		Requests: requests, RequestLogOff: cfg.RequestLogOff,
		Sessions: web.NewSessions(cfg.Store, cfg.Sealer.Derive("cookie-hash"), cfg.Sealer.Derive("cookie-block"), cfg.Clock),
	})
	h.Routes(e)
	return &App{Echo: e, Store: cfg.Store, Live: state, Metrics: cfg.Metrics, Requests: requests, clock: cfg.Clock, log: cfg.Logger, h: h}, nil
}

// Drain starts a graceful stop: /readyz fails from now on, while every
// other request is still served. It reports whether anything has asked
// /readyz since the start, and so will take this instance out of rotation.
func (a *App) Drain() (probed bool) { return a.h.drain() }

// Run does the background work until ctx ends: following the change log
// and the store's periodic writes and sweeps.
func (a *App) Run(ctx context.Context) {
	go a.Live.Run(ctx)
	go a.Store.ListenChanges(ctx, a.Live.Wake, a.log)
	logged := make(chan struct{})
	go func() { a.Requests.Run(ctx); close(logged) }()
	a.Store.RunBackground(ctx, a.clock, web.IdleTimeout)
	<-logged
}
