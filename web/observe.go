package web

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/web/metrics"
)

// HeaderRequestID carries a request's id, from a trusted proxy and back to the client.
const HeaderRequestID = "X-Request-Id"

// maxRequestID is the longest X-Request-Id taken from a proxy.
const maxRequestID = 64

// ValidRequestID reports whether a proxy's X-Request-Id may be used as is:
// 1 to 64 characters of A-Z a-z 0-9 . _ -, so it cannot forge a log line.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// requestIDs makes this process's request ids: a random prefix, so
// instances do not collide, and a counter.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [6]byte
	rand.Read(b[:])
	return &requestIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (g *requestIDs) next() string {
	var buf [32]byte
	return string(strconv.AppendUint(append(buf[:0], g.prefix...), g.n.Add(1), 36))
}

// requestInfo is what the edge learns about a request while it runs.
type requestInfo struct {
	id      string
	keyID   int64
	outcome string
}

const requestInfoKey = "keydesk.request"

var requestInfos = sync.Pool{New: func() any { return new(requestInfo) }}

func infoOf(c echo.Context) *requestInfo {
	i, _ := c.Get(requestInfoKey).(*requestInfo)
	return i
}

// RequestID is the request's id, as logged and shown in error bodies and pages.
func RequestID(c echo.Context) string {
	if i := infoOf(c); i != nil {
		return i.id
	}
	return ""
}

// NoteKey records the API key a request was made with, for its log line.
func NoteKey(c echo.Context, keyID int64) {
	if i := infoOf(c); i != nil {
		i.keyID = keyID
	}
}

// NoteOutcome records the error code of an API request answered without
// returning an error (e.g. validation_failed), for its log line and metrics.
func NoteOutcome(c echo.Context, code string) {
	if i := infoOf(c); i != nil {
		i.outcome = code
	}
}

// observe gives each request an id, answers errors through the error
// handler, and then writes one log line and records the request's metrics.
// When log's handler has an AccessLog (WithAccessLog) the line goes there.
// The line never holds the query string, a header's value or the path's
// parameters (a capture link's id is a capability): only the route pattern.
func observe(log *slog.Logger, m *metrics.Metrics, trustProxy bool) echo.MiddlewareFunc {
	access := accessLogOf(log)
	ids := newRequestIDs()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			info := requestInfos.Get().(*requestInfo)
			*info = requestInfo{}
			if id := c.Request().Header.Get(HeaderRequestID); trustProxy && ValidRequestID(id) {
				info.id = id
			} else {
				info.id = ids.next()
			}
			c.Set(requestInfoKey, info)
			c.Response().Header()[HeaderRequestID] = []string{info.id}
			if err := next(c); err != nil {
				c.Error(err)
			}
			took := time.Since(start)
			status := c.Response().Status
			route := m.Route(c.Path())
			api := route.API()
			if api && info.outcome == "" {
				info.outcome = "ok"
				if status >= 400 {
					info.outcome = apiCode(status)
				}
			}
			route.Done(info.outcome, took)
			level := slog.LevelInfo
			if p := c.Path(); p == "/healthz" || p == "/readyz" {
				level = slog.LevelDebug // probes every second would drown the rest
			}
			ctx := c.Request().Context()
			if access != nil {
				if access.enabled(ctx, level) {
					line := requestLine{at: start.Add(took), level: level, id: info.id, method: c.Request().Method,
						route: route.Name(), status: status, took: took, ip: c.RealIP(), key: info.keyID}
					if api && status >= 400 {
						line.reason = info.outcome
					}
					access.write(line)
				}
			} else if log.Enabled(ctx, level) {
				attrs := make([]slog.Attr, 0, 9)
				attrs = append(attrs, slog.String("id", info.id), slog.String("method", c.Request().Method),
					slog.String("route", route.Name()), slog.Int("status", status), slog.Duration("took", took),
					slog.String("ip", c.RealIP()))
				if info.keyID != 0 {
					attrs = append(attrs, slog.Int64("key", info.keyID))
				}
				if api && status >= 400 {
					attrs = append(attrs, slog.String("reason", info.outcome))
				}
				log.LogAttrs(ctx, level, "request", attrs...)
			}
			c.Set(requestInfoKey, nil)
			requestInfos.Put(info)
			return nil
		}
	}
}
