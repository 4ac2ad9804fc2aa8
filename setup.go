package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"runtime"
	"strings"
	"time"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/keys/visible"
	"keydesk/web"
)

const canaryName = "master_key_check"

// loadSealer finds the master key (the variable, else the key file beside
// the database, else a new key file on first start) and checks it against
// the canary sealed at first start.
func loadSealer(ctx context.Context, cfg config, store *db.DB, log *slog.Logger) (*keys.Sealer, error) {
	encoded, source := cfg.MasterKey, "KEYDESK_MASTER_KEY"
	keyFile := cfg.DBPath + ".key"
	if encoded == "" {
		source = keyFile
		b, err := os.ReadFile(keyFile)
		switch {
		case err == nil:
			if err := checkKeyFileMode(keyFile, cfg.Strict, log); err != nil {
				return nil, err
			}
			encoded = string(b)
		case errors.Is(err, os.ErrNotExist):
			if _, err := store.Meta(ctx, canaryName); err == nil {
				return nil, fmt.Errorf("the database %s holds sealed secrets but its master key file %s is missing: "+
					"restore the file or set KEYDESK_MASTER_KEY to the key it was created with", cfg.database(), keyFile)
			}
			encoded = keys.NewMasterKey()
			if err := os.WriteFile(keyFile, []byte(encoded+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("write master key file: %w", err)
			}
			log.Info("generated a new master key; keep this file safe and back it up with the database", "file", keyFile)
		default:
			return nil, fmt.Errorf("read master key file: %w", err)
		}
	}
	master, err := keys.DecodeMasterKey(encoded)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	sealer, err := keys.NewSealer(master)
	if err != nil {
		return nil, err
	}
	canary, err := store.Meta(ctx, canaryName)
	if errors.Is(err, db.ErrNotFound) {
		return sealer, store.SetMeta(ctx, canaryName, sealer.Seal("keydesk", canaryName))
	}
	if err != nil {
		return nil, err
	}
	if _, err := sealer.Open(canary, canaryName); err != nil {
		return nil, fmt.Errorf("the master key from %s does not open the secrets in %s; refusing to start. "+
			"Use the master key this database was created with (keydesk never replaces it)", source, cfg.database())
	}
	return sealer, nil
}

// checkKeyFileMode warns when the master key file can be read by anyone but
// its owner, and refuses to go on in strict mode.
func checkKeyFileMode(keyFile string, strict bool, log *slog.Logger) error {
	fi, err := os.Stat(keyFile)
	if err != nil {
		return fmt.Errorf("master key file: %w", err)
	}
	perm := fi.Mode().Perm()
	if runtime.GOOS == "windows" || perm&0o077 == 0 {
		return nil
	}
	if strict {
		return fmt.Errorf("the master key file %s can be read by group or others (mode %04o); "+
			"KEYDESK_STRICT refuses to start: run chmod 600 %s", keyFile, perm, keyFile)
	}
	log.Warn("the master key file can be read by group or others: run chmod 600 on it "+
		"(KEYDESK_STRICT=1 refuses to start like this)", "file", keyFile, "mode", fmt.Sprintf("%04o", perm))
	return nil
}

// bootstrap makes the first account and its first admin on a new database,
// once however many instances start on it at the same moment.
func bootstrap(ctx context.Context, cfg config, store *db.DB, log *slog.Logger) error {
	return store.Exclusively(ctx, "first-start", func(ctx context.Context) error {
		return bootstrapNow(ctx, cfg, store, log)
	})
}

func bootstrapNow(ctx context.Context, cfg config, store *db.DB, log *slog.Logger) error {
	n, err := store.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	if err := visible.Check("KEYDESK_ACCOUNT_NAME", cfg.AccountName); err != nil {
		return err
	}
	if cfg.AdminEmail != "" {
		if err := checkEmail("KEYDESK_ADMIN_EMAIL", cfg.AdminEmail); err != nil {
			return err
		}
	}
	if msg := web.NewPasswordProblem(cfg.AdminPassword); cfg.AdminPassword != "" && msg != "" {
		return fmt.Errorf("KEYDESK_ADMIN_PASSWORD: %s", msg)
	}
	accounts, err := store.Accounts(ctx)
	if err != nil {
		return err
	}
	var acc db.Account
	if len(accounts) > 0 {
		acc = accounts[0]
	} else {
		acc, err = store.CreateAccount(ctx, db.Account{Name: cfg.AccountName, Slug: slugify(cfg.AccountName),
			Licenses: db.AllLicenses, CreatedAt: time.Now()})
		if err != nil {
			return err
		}
	}
	email, password := cfg.AdminEmail, cfg.AdminPassword
	if email == "" {
		email = "admin@" + acc.Slug + ".example"
	}
	generated := password == ""
	if generated {
		password = randomPassword()
	}
	if _, err := createUser(ctx, store, acc, email, db.RoleAdmin, password); err != nil {
		return err
	}
	if generated {
		// Printed once, to the terminal only: it is never stored in plain text.
		fmt.Fprintf(os.Stderr, "\n  First start: account %q (slug %s) and its admin were created.\n"+
			"  Sign in as %s with password: %s\n  (shown only this once; set KEYDESK_ADMIN_PASSWORD to choose your own)\n\n",
			acc.Name, acc.Slug, email, password)
	} else {
		log.Info("first start: created account and admin", "account", acc.Slug, "email", email)
	}
	return nil
}

func createUser(ctx context.Context, store *db.DB, acc db.Account, email, role, password string) (db.User, error) {
	hash, err := web.HashPassword(password)
	if err != nil {
		return db.User{}, err
	}
	return store.CreateUser(ctx, db.User{AccountID: acc.ID, Email: strings.TrimSpace(email), PasswordHash: hash,
		Role: role, CreatedAt: time.Now()})
}

func randomPassword() string {
	b := make([]byte, 15)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slugify derives an account slug from a name: "Demo Dealership" → "demo-dealership".
func slugify(name string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 48 {
		s = strings.Trim(s[:48], "-")
	}
	if s == "" {
		s = "account"
	}
	return s
}

var validSlug = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$`)
