package handlers

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// readyCacheFor is how long one answer of the database serves readiness
// probes, so a crowd of probes costs one query a second.
const readyCacheFor = time.Second

// readiness is what decides whether this instance should get traffic.
type readiness struct {
	draining atomic.Bool // shutting down: let the load balancer move on
	probed   atomic.Bool // something watches /readyz

	mu        sync.Mutex
	checkedAt time.Time
	dbErr     error
}

// readyz answers a load balancer whether to send this instance requests:
// not while it shuts down, is behind the change log or cannot reach its
// database. /healthz stays the cheap liveness check.
func (h *Handlers) readyz(c echo.Context) error {
	h.ready.probed.Store(true)
	c.Response().Header().Set("Cache-Control", "no-store")
	if reason := h.notReady(c.Request().Context()); reason != "" {
		return c.String(http.StatusServiceUnavailable, "not ready: "+reason+"\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

// notReady says why this instance should not get traffic, or "".
func (h *Handlers) notReady(ctx context.Context) string {
	switch {
	case h.ready.draining.Load():
		return "shutting down"
	case !h.live.InSync():
		return "behind the change log"
	case h.pingDB(ctx) != nil:
		return "the database does not answer"
	}
	return ""
}

// pingDB asks the database at most once per readyCacheFor; probes that
// arrive meanwhile share the answer.
func (h *Handlers) pingDB(ctx context.Context) error {
	r := &h.ready
	r.mu.Lock()
	defer r.mu.Unlock()
	now := h.now()
	if age := now.Sub(r.checkedAt); !r.checkedAt.IsZero() && age >= 0 && age < readyCacheFor {
		return r.dbErr
	}
	ctx, cancel := context.WithTimeout(ctx, readyCacheFor)
	defer cancel()
	r.dbErr, r.checkedAt = h.db.Ping(ctx), now
	return r.dbErr
}

// drain makes readiness fail from now on and reports whether anything has
// been asking for it (and so will notice).
func (h *Handlers) drain() (probed bool) {
	h.ready.draining.Store(true)
	return h.ready.probed.Load()
}
