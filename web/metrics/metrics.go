// Package metrics holds keydesk's Prometheus series and the handler that
// serves them (and, for debugging, pprof) on the operator's own listener.
// Label values are resolved once per route and outcome, so recording a
// request costs a few atomic adds and no allocation.
package metrics

import (
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are one keydesk process's series, in a registry of their own.
type Metrics struct {
	reg *prometheus.Registry

	// TokensIssued counts access tokens minted by the token endpoint.
	TokensIssued prometheus.Counter
	// LeadsReceived counts leads stored through the API (not idempotent replays).
	LeadsReceived prometheus.Counter
	// SignInFailures counts dashboard sign-ins refused for a wrong email or
	// password or a disabled user; SignInThrottled those refused unchecked.
	SignInFailures, SignInThrottled prometheus.Counter

	signIns     *prometheus.CounterVec
	apiRequests *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	batchRows   prometheus.Histogram
	batchCommit prometheus.Histogram

	routesMu sync.Mutex
	routes   atomic.Pointer[map[string]*Route] // copied on write: reads take no lock
}

// New returns keydesk's series with the Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		TokensIssued: prometheus.NewCounter(prometheus.CounterOpts{Name: "keydesk_tokens_issued_total",
			Help: "Access tokens issued by the token endpoint."}),
		LeadsReceived: prometheus.NewCounter(prometheus.CounterOpts{Name: "keydesk_leads_received_total",
			Help: "Leads stored through the API, not counting idempotent replays."}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keydesk_sign_in_failures_total",
			Help: "Dashboard sign-ins refused: reason credentials (wrong email or password, disabled user) or throttled."},
			[]string{"reason"}),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keydesk_api_requests_total",
			Help: "API requests by route and outcome (ok, or the error code the client got)."}, []string{"route", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "keydesk_http_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}},
			[]string{"route"}),
		batchRows: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "keydesk_write_batch_rows",
			Help:    "Rows (leads, capture sessions) committed together by the group-commit writer.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}}),
		batchCommit: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "keydesk_write_batch_commit_seconds",
			Help:    "Time to insert and commit one batch of the group-commit writer.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}}),
	}
	m.SignInFailures, m.SignInThrottled = m.signIns.WithLabelValues("credentials"), m.signIns.WithLabelValues("throttled")
	empty := map[string]*Route{}
	m.routes.Store(&empty)
	m.reg.MustRegister(m.TokensIssued, m.LeadsReceived, m.signIns, m.apiRequests, m.duration,
		m.batchRows, m.batchCommit, buildInfo(),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// buildInfo is keydesk_build_info, always 1, labelled with the version keydesk was built from.
func buildInfo() prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "keydesk_build_info",
		Help: "Always 1; the labels say which build of keydesk runs."}, []string{"version", "revision", "goversion"})
	version, revision, goVersion := "unknown", "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version, goVersion = bi.Main.Version, bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	g.WithLabelValues(version, revision, goVersion).Set(1)
	return g
}

// ChangeLogLag publishes keydesk_change_log_lag_seconds, read from lag at each scrape.
func (m *Metrics) ChangeLogLag(lag func() time.Duration) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "keydesk_change_log_lag_seconds",
		Help: "How long ago this instance last read the change log; past 2 s it stops serving API calls."},
		func() float64 { return lag().Seconds() }))
}

// ObserveBatch records one commit of the group-commit writer.
func (m *Metrics) ObserveBatch(rows int, took time.Duration) {
	m.batchRows.Observe(float64(rows))
	m.batchCommit.Observe(took.Seconds())
}

// Route is one route's series, resolved once.
type Route struct {
	m        *Metrics
	name     string
	api      bool
	duration prometheus.Observer

	mu       sync.Mutex
	outcomes atomic.Pointer[map[string]prometheus.Counter] // copied on write
}

// Route returns the series of the route pattern (as Echo names it, e.g.
// "/api/v1/leads/:id"); "" is a request that matched no route.
func (m *Metrics) Route(pattern string) *Route {
	if r := (*m.routes.Load())[pattern]; r != nil {
		return r
	}
	m.routesMu.Lock()
	defer m.routesMu.Unlock()
	old := *m.routes.Load()
	if r := old[pattern]; r != nil {
		return r
	}
	name := pattern
	if name == "" {
		name = "unmatched"
	}
	r := &Route{m: m, name: name, api: strings.HasPrefix(pattern, "/api/"), duration: m.duration.WithLabelValues(name)}
	outcomes := map[string]prometheus.Counter{}
	r.outcomes.Store(&outcomes)
	routes := make(map[string]*Route, len(old)+1)
	for k, v := range old {
		routes[k] = v
	}
	routes[pattern] = r
	m.routes.Store(&routes)
	return r
}

// API reports whether the route is part of the API.
func (r *Route) API() bool { return r.api }

// Name is the route's label value.
func (r *Route) Name() string { return r.name }

// Done records one request of the route: its duration and, for the API, its outcome.
func (r *Route) Done(outcome string, took time.Duration) {
	r.duration.Observe(took.Seconds())
	if !r.api {
		return
	}
	c := (*r.outcomes.Load())[outcome]
	if c == nil {
		c = r.outcome(outcome)
	}
	c.Inc()
}

func (r *Route) outcome(outcome string) prometheus.Counter {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.outcomes.Load()
	if c := old[outcome]; c != nil {
		return c
	}
	c := r.m.apiRequests.WithLabelValues(r.name, outcome)
	outcomes := make(map[string]prometheus.Counter, len(old)+1)
	for k, v := range old {
		outcomes[k] = v
	}
	outcomes[outcome] = c
	r.outcomes.Store(&outcomes)
	return c
}

// Handler serves /metrics and, when debug is set, pprof under /debug/pprof/.
func (m *Metrics) Handler(debug bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	if debug {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}
