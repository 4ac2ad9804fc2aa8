package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"keydesk/handlers"
	"keydesk/web"
	"keydesk/web/metrics"
)

// opsConfig is the environment of operations: where metrics are served and
// how a stop drains. (Logs are configured in newLogger, before anything runs.)
type opsConfig struct {
	MetricsAddr string        // KEYDESK_METRICS_ADDR; "" serves no metrics
	Debug       bool          // KEYDESK_DEBUG=1 adds pprof beside the metrics
	DrainDelay  time.Duration // KEYDESK_DRAIN_DELAY: how long /readyz fails before the listener closes
}

// defaultDrainDelay gives a load balancer polling /readyz every second or
// two time to see it fail a few times.
const defaultDrainDelay = 5 * time.Second

func opsConfigFromEnv() (opsConfig, error) {
	c := opsConfig{MetricsAddr: os.Getenv("KEYDESK_METRICS_ADDR"), Debug: os.Getenv("KEYDESK_DEBUG") == "1",
		DrainDelay: defaultDrainDelay}
	if v := os.Getenv("KEYDESK_DRAIN_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return c, fmt.Errorf("KEYDESK_DRAIN_DELAY %q: give a duration such as 5s or 0s", v)
		}
		c.DrainDelay = d
	}
	return c, nil
}

// newLogger builds the logger KEYDESK_LOG_FORMAT (text or json) and
// KEYDESK_LOG_LEVEL (debug, info, warn, error) ask for, writing to w through
// a buffer; flush writes out what is buffered.
func newLogger(w io.Writer) (log *slog.Logger, flush func(), err error) {
	var level slog.Level
	if v := os.Getenv("KEYDESK_LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return nil, nil, fmt.Errorf("KEYDESK_LOG_LEVEL %q: choose debug, info, warn or error", v)
		}
	}
	buf := newLogBuffer(w)
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	format := strings.ToLower(os.Getenv("KEYDESK_LOG_FORMAT"))
	switch format {
	case "", "text":
		h = slog.NewTextHandler(buf, opts)
	case "json":
		h = slog.NewJSONHandler(buf, opts)
	default:
		return nil, nil, fmt.Errorf("KEYDESK_LOG_FORMAT %q: choose text or json", format)
	}
	return slog.New(web.WithAccessLog(h, web.NewAccessLog(buf, format == "json", level))), buf.Flush, nil
}

// logFlushEvery bounds how long a log line waits in the buffer.
const logFlushEvery = 100 * time.Millisecond

// logBufferSize is how much a log buffer gathers before it is written out.
const logBufferSize = 64 << 10

// logBuffer gathers log lines into few writes: with a line per request,
// a write(2) per line would cost the API more than the line itself. A line
// is appended under a lock held for the copy alone; the buffer is written
// out — by the line that filled it, or by a timer within logFlushEvery —
// after being swapped for an empty one, so no request waits for a write(2)
// except the one that filled the buffer. Writing out under the lock, as a
// bufio.Writer would, stalled every request for as long as the write took,
// and the bench's line per request cost the API 5–7 % of its calls.
type logBuffer struct {
	mu    sync.Mutex // guards cur and armed
	cur   []byte
	armed bool // a timed flush is scheduled

	out   sync.Mutex // held while writing out, so buffers go out in order
	w     io.Writer
	spare []byte // the buffer last written out, to be the next cur
}

func newLogBuffer(w io.Writer) *logBuffer {
	return &logBuffer{w: w, cur: make([]byte, 0, logBufferSize), spare: make([]byte, 0, logBufferSize)}
}

// Write appends p; it never fails (a failing log destination has nobody to tell).
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.cur = append(b.cur, p...)
	full := len(b.cur) >= logBufferSize
	if !full && !b.armed {
		b.armed = true
		time.AfterFunc(logFlushEvery, b.Flush)
	}
	b.mu.Unlock()
	if full {
		b.Flush()
	}
	return len(p), nil
}

// Flush writes out what is buffered.
func (b *logBuffer) Flush() {
	b.out.Lock()
	defer b.out.Unlock()
	b.mu.Lock()
	full := b.cur
	b.cur, b.armed = b.spare[:0], false
	b.mu.Unlock()
	if len(full) > 0 {
		b.w.Write(full)
	}
	if cap(full) > 4*logBufferSize { // grown by a burst: not kept
		full = make([]byte, 0, logBufferSize)
	}
	b.spare = full[:0]
}

// serveMetrics serves /metrics (and pprof with KEYDESK_DEBUG=1) on the
// operator's own address, apart from the dashboard and the API; the
// returned function stops it. Without KEYDESK_METRICS_ADDR it does nothing.
func serveMetrics(o opsConfig, m *metrics.Metrics, log *slog.Logger) (stop func(), err error) {
	if o.MetricsAddr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", o.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("KEYDESK_METRICS_ADDR: %w", err)
	}
	srv := &http.Server{Handler: m.Handler(o.Debug), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", "http://"+ln.Addr().String()+"/metrics", "pprof", o.Debug)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// drain makes /readyz fail and, when something has been polling it, keeps
// serving for delay so the load balancer takes this instance out of
// rotation before the listener closes and in-flight requests finish.
func drain(app *handlers.App, delay time.Duration, log *slog.Logger) {
	if !app.Drain() || delay == 0 {
		return
	}
	log.Info("keydesk draining: /readyz now fails", "for", delay)
	time.Sleep(delay)
}
