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
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"keydesk/db"
	"keydesk/handlers"
	"keydesk/keys"
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
	cfg := configFromEnv()
	switch cmd {
	case "serve":
		return serve(cfg, log)
	case "migrate":
		return migrateCommand(cfg, stdout)
	case "account":
		return accountCommand(cfg, args, stdout)
	case "user":
		return userCommand(cfg, args, stdin, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, helpText)
		return nil
	}
	return fmt.Errorf("unknown command %q; run \"keydesk help\"", cmd)
}

// config is keydesk's environment.
type config struct {
	Addr, DBPath, DatabaseURL, MasterKey, AdminEmail, AdminPassword, AccountName string
	BehindProxy                                                                  bool
	// RequestLogDays is KEYDESK_REQUEST_LOG_DAYS as set, read by serve.
	RequestLogDays string
}

// dsn is the database to open: the PostgreSQL URL when set, else the SQLite file.
func (c config) dsn() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return c.DBPath
}

// database names the database for people, without a password.
func (c config) database() string { return db.Describe(c.dsn()) }

func configFromEnv() config {
	get := func(name, fallback string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return fallback
	}
	return config{
		Addr:           get("KEYDESK_ADDR", "127.0.0.1:8080"),
		DBPath:         get("KEYDESK_DB", "keydesk.db"),
		DatabaseURL:    os.Getenv("KEYDESK_DATABASE_URL"),
		MasterKey:      os.Getenv("KEYDESK_MASTER_KEY"),
		AdminEmail:     os.Getenv("KEYDESK_ADMIN_EMAIL"),
		AdminPassword:  os.Getenv("KEYDESK_ADMIN_PASSWORD"),
		AccountName:    get("KEYDESK_ACCOUNT_NAME", "Demo Dealership"),
		BehindProxy:    os.Getenv("KEYDESK_BEHIND_PROXY") == "1",
		RequestLogDays: get("KEYDESK_REQUEST_LOG_DAYS", "30"),
	}
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

func serve(cfg config, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, sealer, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := bootstrap(ctx, cfg, store, log); err != nil {
		return err
	}
	days, err := strconv.Atoi(cfg.RequestLogDays)
	if err != nil || days < 1 || days > 400 {
		return fmt.Errorf("KEYDESK_REQUEST_LOG_DAYS must be a whole number of days from 1 to 400, not %q", cfg.RequestLogDays)
	}
	app, err := handlers.Assemble(ctx, handlers.Config{Store: store, Sealer: sealer, Clock: time.Now, Logger: log,
		BehindProxy: cfg.BehindProxy, InstanceID: newInstanceID(), Addr: cfg.Addr, RequestLogDays: days})
	if err != nil {
		return err
	}
	go app.Run(ctx)

	srv := &http.Server{Addr: cfg.Addr, Handler: app.Echo, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("keydesk listening", "addr", "http://"+cfg.Addr, "db", cfg.database())
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

// newInstanceID names this process in the instances table: host, pid and a random part.
func newInstanceID() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}
