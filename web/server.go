// Package web is keydesk's HTTP edge: the Echo server and its middleware,
// sessions, CSRF, the templ render helper, htmx helpers and error pages.
package web

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"keydesk/static"
	"keydesk/web/metrics"
)

// Clock tells the time; tests pass a fake one.
type Clock func() time.Time

// MaxBody is the largest request body keydesk reads.
const MaxBody = 1 << 20

// Options configure the server.
type Options struct {
	Logger *slog.Logger
	// BehindProxy trusts X-Forwarded-Proto from the proxy in front.
	BehindProxy bool
	// TrustedProxies are the peers whose X-Forwarded-For names the client;
	// from anyone else it is ignored and the client is the peer.
	TrustedProxies []netip.Prefix
	// Metrics records every request; nil records into series nobody serves.
	Metrics *metrics.Metrics
}

// Once chains mw (the first outermost) around the route's handler as one
// middleware, for e.Use, built once. Echo applies e.Use's middleware afresh
// for every request, a closure per middleware per request; the middleware
// Once returns hands back the same chain each time, which finds the route's
// handler on the context. It must be the server's only e.Use: it does not
// call the next one.
func Once(mw ...echo.MiddlewareFunc) echo.MiddlewareFunc {
	var h echo.HandlerFunc = func(c echo.Context) error { return c.Handler()(c) }
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return func(echo.HandlerFunc) echo.HandlerFunc { return h }
}

// NewServer returns an Echo server with keydesk's middleware installed.
func NewServer(o Options) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = ClientIP(o.TrustedProxies)
	e.HTTPErrorHandler = errorHandler(o.Logger)
	if o.Metrics == nil {
		o.Metrics = metrics.New()
	}
	e.Use(Once(
		observe(o.Logger, o.Metrics, o.BehindProxy), // first: it logs panics and errors too
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
				o.Logger.Error("panic", "id", RequestID(c), "route", c.Path(), "err", err, "stack", string(stack))
				return err
			},
		}),
		markHTTPS(o.BehindProxy),
		securityHeaders,
		bodyLimit,
	))
	e.GET("/static/*", staticHandler())
	return e
}

const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// apiCSP is the policy of an API answer: JSON, never a document, so it may
// load nothing and be framed by nothing.
const apiCSP = "default-src 'none'; frame-ancestors 'none'"

// securityHeaders sets the headers every answer carries. An API answer
// (under /api/) carries the set OWASP's REST Security Cheat Sheet gives for
// APIs (with Cache-Control where the handler sets it); the document-only
// headers of the dashboard (Referrer-Policy, Cross-Origin-Opener-Policy)
// mean nothing to JSON, and leaving them out keeps a token answer's headers
// within the eight entries net/http's header map holds without growing.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// Assigned, not Set: the names are canonical already, and Set's
		// canonicalising cost more than the rest of this. The value slices
		// are shared by every answer; net/http only reads them, and an Add
		// would copy one (len == cap).
		h := c.Response().Header()
		h["X-Content-Type-Options"] = nosniff
		h["X-Frame-Options"] = frameDeny
		if strings.HasPrefix(c.Request().URL.Path, "/api/") {
			h["Content-Security-Policy"] = apiCSPValue
		} else {
			h["Content-Security-Policy"] = cspValue
			h["Referrer-Policy"] = noReferrer
			h["Cross-Origin-Opener-Policy"] = sameOrigin
		}
		if IsHTTPS(c) {
			h["Strict-Transport-Security"] = hsts
		}
		return next(c)
	}
}

var (
	nosniff, frameDeny     = []string{"nosniff"}, []string{"DENY"}
	apiCSPValue, cspValue  = []string{apiCSP}, []string{csp}
	noReferrer, sameOrigin = []string{"no-referrer"}, []string{"same-origin"}
	hsts                   = []string{"max-age=31536000"}
)

func bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > MaxBody {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "The request body is larger than 1 MiB.")
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, MaxBody)
		}
		return next(c)
	}
}

// IsTooLarge reports whether err came from reading a body over MaxBody.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

const httpsKey = "keydesk.https"

// markHTTPS records whether the browser reached keydesk over HTTPS; a
// proxy's X-Forwarded-Proto counts only when keydesk is told it is behind one.
func markHTTPS(behindProxy bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			c.Set(httpsKey, r.TLS != nil || behindProxy && r.Header.Get(echo.HeaderXForwardedProto) == "https")
			return next(c)
		}
	}
}

// IsHTTPS reports whether the browser reached keydesk over HTTPS.
func IsHTTPS(c echo.Context) bool {
	https, _ := c.Get(httpsKey).(bool)
	return https
}

func staticHandler() echo.HandlerFunc {
	files := http.FileServerFS(static.FS)
	return func(c echo.Context) error {
		name := strings.TrimPrefix(c.Param("*"), "/")
		if name == "" || strings.HasSuffix(name, ".go") {
			return echo.ErrNotFound
		}
		if c.QueryParam("v") != "" {
			c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		r := c.Request().Clone(c.Request().Context())
		r.URL.Path = "/" + name
		files.ServeHTTP(c.Response(), r)
		return nil
	}
}

// renderBuffers keep page buffers between renders: a key list is ~100 kB,
// and growing a fresh buffer to that size took a tenth of the page's time.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer is the largest buffer kept for the next page.
const maxPooledBuffer = 1 << 20

// Render writes a templ component with a status; the page is rendered to a
// buffer first so a failure never leaves half a page behind.
func Render(c echo.Context, status int, t templ.Component) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			buf.Reset()
			renderBuffers.Put(buf)
		}
	}()
	if err := t.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// ClientIP finds a request's client: the peer, or when the peer is one of
// the trusted proxies, the nearest address in X-Forwarded-For that is not a
// trusted proxy itself.
func ClientIP(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(netipToIPNet(p)))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func netipToIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
