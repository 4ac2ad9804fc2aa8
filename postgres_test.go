package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"keydesk/db"
	"keydesk/db/dbtest"
	"keydesk/keys"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestPostgresNeedsMasterKey(t *testing.T) {
	testEnv(t)
	t.Setenv("KEYDESK_DATABASE_URL", "postgres://keydesk:pw@127.0.0.1:1/keydesk")
	for _, args := range [][]string{{"serve"}, {"account", "create", "--name", "X"}} {
		err := run(args, strings.NewReader(""), &bytes.Buffer{}, quiet)
		if err == nil || !strings.Contains(err.Error(), "KEYDESK_MASTER_KEY is required") || !strings.Contains(err.Error(), "several hosts") {
			t.Errorf("%v without KEYDESK_MASTER_KEY: error %v, want one naming the variable and why", args, err)
		}
	}
}

func TestUnreachablePostgresNamesHostNeverPassword(t *testing.T) {
	testEnv(t)
	t.Setenv("KEYDESK_MASTER_KEY", keys.NewMasterKey())
	t.Setenv("KEYDESK_DATABASE_URL", "postgres://dealer:hunter2-secret@127.0.0.1:1/keydesk_prod")
	for _, args := range [][]string{{"serve"}, {"migrate"}} {
		err := run(args, strings.NewReader(""), &bytes.Buffer{}, quiet)
		if err == nil {
			t.Fatalf("%v on an unreachable database succeeded", args)
		}
		msg := err.Error()
		if !strings.Contains(msg, "127.0.0.1:1") || !strings.Contains(msg, "keydesk_prod") {
			t.Errorf("%v: %q does not name the host and the database", args, msg)
		}
		if strings.Contains(msg, "hunter2") {
			t.Errorf("%v: %q shows the password", args, msg)
		}
	}
}

// backendEnvs sets the environment for each database keydesk runs on.
var backendEnvs = []struct {
	name string
	set  func(t *testing.T)
}{
	{"sqlite", func(t *testing.T) { testEnv(t) }},
	{"postgres", func(t *testing.T) {
		url := dbtest.URL(t)
		testEnv(t)
		t.Setenv("KEYDESK_DATABASE_URL", url)
		t.Setenv("KEYDESK_MASTER_KEY", keys.NewMasterKey())
	}},
}

func TestMigrateCommand(t *testing.T) {
	for _, b := range backendEnvs {
		t.Run(b.name, func(t *testing.T) {
			b.set(t)
			var out bytes.Buffer
			if err := run([]string{"migrate"}, strings.NewReader(""), &out, quiet); err != nil {
				t.Fatal(err)
			}
			store, _ := openStore(t)
			v, err := store.SchemaVersion(context.Background())
			if err != nil || v == 0 {
				t.Fatalf("schema version after migrate = %d, %v", v, err)
			}
			if want := fmt.Sprintf("schema version %d", v); !strings.Contains(out.String(), want) {
				t.Errorf("migrate said %q, want it to say %q", out.String(), want)
			}
			if users, _ := store.CountUsers(context.Background()); users != 0 {
				t.Errorf("migrate bootstrapped %d users; it only migrates", users)
			}
		})
	}
}

// Two instances starting at the same moment on an empty database migrate
// and bootstrap it once: one account, one admin, no error from either.
func TestSimultaneousFirstStarts(t *testing.T) {
	for _, b := range backendEnvs {
		t.Run(b.name, func(t *testing.T) {
			b.set(t)
			t.Setenv("KEYDESK_ADMIN_EMAIL", "first@example.com")
			t.Setenv("KEYDESK_ADMIN_PASSWORD", "a long enough password")
			cfg := mustConfig(t)
			if cfg.DatabaseURL == "" {
				cfg.DBPath = filepath.Join(t.TempDir(), "race.db")
			}
			const instances = 2
			var wg sync.WaitGroup
			errs := make([]error, instances)
			stores := make([]*db.DB, instances)
			start := make(chan struct{})
			for i := range instances {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					store, _, err := open(context.Background(), cfg, quiet)
					if err != nil {
						errs[i] = err
						return
					}
					stores[i] = store
					errs[i] = bootstrap(context.Background(), cfg, store, quiet)
				}()
			}
			close(start)
			wg.Wait()
			for i, s := range stores {
				if s != nil {
					defer s.Close()
				}
				if errs[i] != nil {
					t.Errorf("instance %d: %v", i, errs[i])
				}
			}
			if t.Failed() {
				return
			}
			ctx := context.Background()
			accounts, err := stores[0].Accounts(ctx)
			if err != nil || len(accounts) != 1 {
				t.Errorf("accounts = %+v, %v; want exactly one", accounts, err)
			}
			if n, err := stores[1].CountUsers(ctx); err != nil || n != 1 {
				t.Errorf("users = %d, %v; want exactly one", n, err)
			}
		})
	}
}
