// Command keydesk is a self-hosted dashboard in which a dealership's admins
// manage the API keys outside systems use to reach it, plus the API those
// keys unlock. Run "keydesk help" for the commands and settings.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/net/netutil"

	"keydesk/db"
	"keydesk/handlers"
	"keydesk/keys"
)

func main() {
	tuneGC(os.Getenv)
	log, flushLog, err := newLogger(os.Stderr)
	if err == nil {
		err = run(os.Args[1:], os.Stdin, os.Stdout, log)
		flushLog()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "keydesk:", err)
		os.Exit(1)
	}
}

// The garbage collector's settings when the operator sets none. keydesk's
// live heap is a few MiB, so Go's default (collect each time the heap
// doubles) ran some 45 collections a second under API load, and they cost a
// call more than verifying its credentials does; collecting at five times
// the live heap, bounded by a soft limit, cost about 8 µs less per Bearer call.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 512 << 20
)

// tuneGC applies the defaults above unless GOGC or GOMEMLIMIT is set, which
// the Go runtime has already read.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, helpText)
		return nil
	case "version", "--version":
		return versionCommand(stdout)
	case "serve", "account", "user", "migrate", "backup":
	default:
		return fmt.Errorf("unknown command %q; run \"keydesk help\"", cmd)
	}
	cfg, err := configFromEnv()
	if err != nil {
		return err
	}
	switch cmd {
	case "migrate":
		return migrateCommand(cfg, stdout)
	case "backup":
		return backupCommand(cfg, args, stdout)
	case "account":
		return accountCommand(cfg, args, stdout)
	case "user":
		return userCommand(cfg, args, stdin, stdout)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, log)
}

// errSharedMasterKey explains why PostgreSQL needs KEYDESK_MASTER_KEY.
var errSharedMasterKey = errors.New("KEYDESK_MASTER_KEY is required with KEYDESK_DATABASE_URL: " +
	"every instance on the shared database must seal and open secrets with the same key, and a key file " +
	"beside a database cannot be shared by several hosts. Set the same 32-byte key (base64 or hex) on every instance")

// open opens the database and the sealer, refusing a master key that does
// not open what the database already holds.
func open(ctx context.Context, cfg config, log *slog.Logger) (*db.DB, *keys.Sealer, error) {
	if cfg.DatabaseURL != "" && cfg.MasterKey == "" {
		return nil, nil, errSharedMasterKey
	}
	store, err := db.Open(ctx, cfg.dsn())
	if err != nil {
		return nil, nil, err
	}
	var sealer *keys.Sealer
	// Instances starting together on a new database seal one canary, not two.
	err = store.Exclusively(ctx, "first-start", func(ctx context.Context) (err error) {
		sealer, err = loadSealer(ctx, cfg, store, log)
		return err
	})
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return store, sealer, nil
}

// serve runs the dashboard and the API until ctx ends (a signal: run's
// context), then drains: /readyz fails while requests are still served, and
// in-flight ones finish. The address is bound first, so a taken port fails
// before the database is made or the first admin's password is printed.
func serve(ctx context.Context, cfg config, log *slog.Logger) error {
	ops, err := opsConfigFromEnv()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("KEYDESK_ADDR %s: %w", cfg.Addr, err)
	}
	// Connections past the cap wait in the kernel's queue instead of using
	// up file descriptors; the timeouts below free idle ones.
	ln = netutil.LimitListener(ln, cfg.MaxConnections)
	defer ln.Close()
	if cfg.PublicURL == "" {
		cfg.PublicURL = defaultPublicURL(ln.Addr())
	}
	store, sealer, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := bootstrap(ctx, cfg, store, log); err != nil {
		return err
	}
	app, err := handlers.Assemble(ctx, handlers.Config{Store: store, Sealer: sealer, Clock: time.Now, Logger: log,
		BehindProxy: cfg.BehindProxy, TrustedProxies: cfg.TrustedProxies, PublicURL: cfg.PublicURL, InstanceID: newInstanceID(), Addr: ln.Addr().String(),
		RequestLogDays: cfg.RequestLogDays, RequestLogOff: cfg.RequestLogOff})
	if err != nil {
		return err
	}
	// The background work (the change-log feed above all) outlives the signal: requests are served while draining.
	background, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	go app.Run(background)
	stopMetrics, err := serveMetrics(ops, app.Metrics, log)
	if err != nil {
		return err
	}
	defer stopMetrics()

	srv := &http.Server{Handler: app.Echo, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("keydesk listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL,
		"max_connections", cfg.MaxConnections, "db", cfg.database())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	signal.Reset(os.Interrupt, syscall.SIGTERM) // a second signal stops keydesk at once
	drain(app, ops.DrainDelay, log)
	log.Info("keydesk stopping")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newInstanceID names this process in the instances table: host, pid and a random part.
func newInstanceID() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}
