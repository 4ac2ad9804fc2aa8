// Command keydesk is a self-hosted dashboard in which a dealership's admins
// manage the API keys outside systems use to reach it, plus the API those
// keys unlock. Run "keydesk help" for the commands and settings.
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
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/net/netutil"

	"keydesk/db"
	"keydesk/handlers"
	"keydesk/keys"
	"keydesk/web"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(os.Args[1:], os.Stdin, os.Stdout, log); err != nil {
		fmt.Fprintln(os.Stderr, "keydesk:", err)
		os.Exit(1)
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
	case "serve", "account", "user":
	default:
		return fmt.Errorf("unknown command %q; run \"keydesk help\"", cmd)
	}
	cfg, err := configFromEnv()
	if err != nil {
		return err
	}
	switch cmd {
	case "account":
		return accountCommand(cfg, args, stdout)
	case "user":
		return userCommand(cfg, args, stdin, stdout)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, log)
}

// open opens the database and the sealer, refusing a master key that does
// not open what the database already holds.
func open(ctx context.Context, cfg config, log *slog.Logger) (*db.DB, *keys.Sealer, error) {
	store, err := db.Open(ctx, cfg.DBPath)
	if err != nil {
		return nil, nil, err
	}
	sealer, err := loadSealer(ctx, cfg, store, log)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return store, sealer, nil
}

// serve runs the dashboard and the API until ctx ends. The address is bound
// first, so a taken port fails before the database is made or the first
// admin's password is printed.
func serve(ctx context.Context, cfg config, log *slog.Logger) error {
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
	e := web.NewServer(web.Options{Logger: log, BehindProxy: cfg.BehindProxy})
	h := handlers.New(handlers.Deps{
		DB: store, Sealer: sealer, Clock: time.Now, Logger: log, PublicURL: cfg.PublicURL,
		Sessions: web.NewSessions(store, sealer.Derive("cookie-hash"), sealer.Derive("cookie-block"), time.Now),
	})
	h.Routes(e)
	go store.RunBackground(ctx, time.Now, web.IdleTimeout)

	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("keydesk listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL,
		"max_connections", cfg.MaxConnections, "db", cfg.DBPath)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("keydesk stopping")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
