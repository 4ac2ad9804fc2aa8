package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"keydesk/db"
)

// versionCommand prints what keydesk was built from.
func versionCommand(stdout io.Writer) error {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return errors.New("this binary carries no build information")
	}
	fmt.Fprint(stdout, versionText(bi))
	return nil
}

// versionText is the module version, the VCS revision and time, and the Go version.
func versionText(bi *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	var b strings.Builder
	fmt.Fprintf(&b, "keydesk %s\n", bi.Main.Version)
	if rev := settings["vcs.revision"]; rev != "" {
		fmt.Fprintf(&b, "revision %s", rev)
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(&b, " (%s)", t)
		}
		if settings["vcs.modified"] == "true" {
			b.WriteString(" with uncommitted changes")
		}
		b.WriteString("\n")
	} else {
		b.WriteString("revision unknown: build with \"go build\" in a git checkout to record it\n")
	}
	fmt.Fprintf(&b, "%s %s/%s\n", bi.GoVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}

// backupCommand copies the SQLite database, and the master key file beside
// it when that is where the key comes from, while keydesk may be running.
func backupCommand(cfg config, args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet("backup", flag.ContinueOnError)
	to := fset.String("to", "", "the file to write the copy to")
	force := fset.Bool("force", false, "replace the file if it exists")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		return fmt.Errorf("keydesk backup copies a SQLite database; for %s use pg_dump, "+
			"e.g. pg_dump --format=custom --file=keydesk.dump \"$KEYDESK_DATABASE_URL\"", cfg.database())
	}
	if *to == "" {
		return errors.New("usage: keydesk backup --to FILE [--force]")
	}
	if _, err := os.Stat(cfg.DBPath); err != nil {
		return fmt.Errorf("no database to back up at %s (KEYDESK_DB): %w", cfg.DBPath, err)
	}
	keyFile := ""
	if cfg.MasterKey == "" {
		keyFile = cfg.DBPath + ".key"
	}
	targets := []string{*to}
	if keyFile != "" {
		targets = append(targets, *to+".key")
	}
	if !*force {
		for _, t := range targets {
			if _, err := os.Lstat(t); err == nil {
				return fmt.Errorf("%s exists: choose another file, or pass --force to replace it", t)
			}
		}
	}
	ctx := context.Background()
	store, err := db.Open(ctx, cfg.DBPath)
	if err != nil {
		return err
	}
	defer store.Close()
	err = writeReplacing(*to, *force, func(tmp string) error {
		if err := store.Backup(ctx, tmp); err != nil {
			return err
		}
		return db.CheckIntegrity(ctx, tmp)
	})
	if err != nil {
		return err
	}
	if keyFile == "" {
		fmt.Fprintf(stdout, "backed up %s to %s; it opens with the same KEYDESK_MASTER_KEY\n", cfg.database(), *to)
		return nil
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("read the master key file %s: %w", keyFile, err)
	}
	err = writeReplacing(*to+".key", *force, func(tmp string) error { return os.WriteFile(tmp, key, 0o600) })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s and its master key to %s.key; keep both, and keep them safe\n",
		cfg.database(), *to, *to)
	return nil
}

// writeReplacing has write fill a new owner-only file beside path, then
// moves it into place: over an existing file only when replace is set, so
// a half-written copy is never left under path.
func writeReplacing(path string, replace bool, write func(tmp string) error) error {
	var suffix [6]byte
	rand.Read(suffix[:])
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+hex.EncodeToString(suffix[:])+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	f.Close()
	defer os.Remove(tmp)
	if err := write(tmp); err != nil {
		return err
	}
	if replace {
		err = os.Rename(tmp, path)
	} else {
		err = os.Link(tmp, path) // fails, rather than replaces, when path appeared meanwhile
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the temporary file's name from an error, so the message
// names only the file the operator asked for.
func unwrapPath(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}
