// Package dbtest gives tests a throw-away PostgreSQL: one cluster per test
// binary, started on first use in a temp dir (unix socket only, fsync off)
// and stopped when the binary ends, and a new empty schema per test.
//
// A package that uses it calls Main from its TestMain. Without PostgreSQL
// installed the tests that ask for it skip, unless KEYDESK_POSTGRES_TESTS is
// "require" (as in CI): then they fail.
package dbtest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// superuser is the cluster's only role; it trusts every local connection.
const superuser = "keydesk"

var (
	startOnce sync.Once
	cluster   *server
	startErr  error
	missing   bool // no PostgreSQL binaries: skip rather than fail
	schemas   atomic.Int64
)

type server struct {
	dir    string
	opts   string // the server options it was started with
	pgCtl  string
	asUser []string // the command prefix that runs a program as the cluster's owner
	admin  *sql.DB
}

// Main runs the tests of a package and stops the cluster if one was started.
func Main(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		cluster.stop()
	}
	os.Exit(code)
}

// Required reports whether PostgreSQL tests must run rather than skip.
func Required() bool { return os.Getenv("KEYDESK_POSTGRES_TESTS") == "require" }

// URL returns the postgres:// URL of a new empty schema of the test binary's
// cluster, starting the cluster on first use.
func URL(t testing.TB) string {
	t.Helper()
	startOnce.Do(func() { cluster, startErr = start() })
	if startErr != nil {
		if missing && !Required() {
			t.Skipf("PostgreSQL tests skipped: %v (set KEYDESK_POSTGRES_TESTS=require to fail instead)", startErr)
		}
		t.Fatalf("PostgreSQL: %v", startErr)
	}
	schema := fmt.Sprintf("t%d", schemas.Add(1))
	if _, err := cluster.admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	return cluster.url(schema)
}

func (s *server) url(schema string) string {
	q := url.Values{"host": {s.dir}, "user": {superuser}, "sslmode": {"disable"}}
	if schema != "" {
		q.Set("search_path", schema)
	}
	return "postgres:///postgres?" + q.Encode()
}

// binaries finds pg_ctl and initdb: on the PATH, else where Debian puts them.
func binaries() (pgCtl, initdb string, err error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if i, err := exec.LookPath("initdb"); err == nil {
			return p, i, nil
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	for _, p := range found {
		i := filepath.Join(filepath.Dir(p), "initdb")
		if _, err := os.Stat(i); err == nil {
			return p, i, nil
		}
	}
	return "", "", fmt.Errorf("pg_ctl and initdb not found on the PATH or in /usr/lib/postgresql/*/bin")
}

func version(pgCtl string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(pgCtl))))
	return v
}

func start() (*server, error) {
	pgCtl, initdb, err := binaries()
	if err != nil {
		missing = true
		return nil, err
	}
	dir, err := os.MkdirTemp("", "keydesk-pg-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, pgCtl: pgCtl}
	// initdb refuses to run as root: the cluster then belongs to the postgres user.
	if os.Geteuid() == 0 {
		owner, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs a postgres user to own the cluster: %w", err)
		}
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	data := filepath.Join(dir, "data")
	if err := s.run(initdb, "-D", data, "-U", superuser, "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	opts := "-k " + dir + " -c listen_addresses= -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=300"
	s.opts = opts
	if err := s.run(pgCtl, "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	s.admin, err = sql.Open("pgx", s.url(""))
	if err == nil {
		err = s.admin.PingContext(context.Background())
	}
	if err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) run(name string, args ...string) error {
	argv := append(append([]string{}, s.asUser...), append([]string{name}, args...)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", filepath.Base(name), err, out.String())
	}
	return nil
}

func (s *server) stop() {
	if s.admin != nil {
		s.admin.Close()
	}
	s.run(s.pgCtl, "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "stop")
	os.RemoveAll(s.dir)
}

// Outage stops the test binary's cluster, as a database server that goes
// away, and returns the function that brings it back. A test that uses it
// must not run in parallel with other PostgreSQL tests.
func Outage(t testing.TB) (restore func()) {
	t.Helper()
	if cluster == nil {
		t.Fatal("dbtest: Outage before URL")
	}
	data := filepath.Join(cluster.dir, "data")
	if err := cluster.run(cluster.pgCtl, "-D", data, "-m", "fast", "-w", "stop"); err != nil {
		t.Fatalf("stop PostgreSQL: %v", err)
	}
	var once sync.Once
	restore = func() {
		once.Do(func() {
			if err := cluster.run(cluster.pgCtl, "-D", data, "-l", filepath.Join(cluster.dir, "log"), "-w", "-o", cluster.opts, "start"); err != nil {
				t.Fatalf("start PostgreSQL again: %v", err)
			}
		})
	}
	t.Cleanup(restore)
	return restore
}
