package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startServe runs serve with the test's environment until the test ends
// and returns the address it listens on and its log.
func startServe(t *testing.T) (string, *syncBuffer) {
	t.Helper()
	cfg := mustConfig(t)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil))) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	return waitListening(t, logs, done), logs
}

var listening = regexp.MustCompile(`keydesk listening" addr=(\S+)`)

// waitListening waits for serve to log that it listens and returns the
// address; it fails the test if serve stops first.
func waitListening(t *testing.T, logs *syncBuffer, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := listening.FindStringSubmatch(logs.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped early: %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never started listening:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServeCapsConnections holds the cap's worth of connections open and
// checks that one more is not served until one of them closes.
func TestServeCapsConnections(t *testing.T) {
	testEnv(t)
	t.Setenv("KEYDESK_ADMIN_PASSWORD", "a long enough password")
	t.Setenv("KEYDESK_MAX_CONNECTIONS", "3")
	addr, _ := startServe(t)

	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	// Each held connection is served (a keep-alive request answers), so the
	// server has accepted all three and keeps them open.
	for i, c := range held {
		if status := healthz(t, c, 5*time.Second); status != "HTTP/1.1 200 OK" {
			t.Fatalf("held connection %d: %q", i, status)
		}
	}

	extra, err := net.Dial("tcp", addr) // the kernel completes the handshake; keydesk does not accept it yet
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if status := healthz(t, extra, 500*time.Millisecond); status != "" {
		t.Fatalf("connection 4 of a cap of 3 was served (%q) while 3 were open", status)
	}
	held[0].Close()
	// The request already sent on the waiting connection is answered once a slot is free.
	extra.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(extra).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "HTTP/1.1 200 OK" {
		t.Fatalf("after one connection closed, the waiting one got %q, %v", line, err)
	}
}

// healthz sends GET /healthz on c and returns the status line, or "" when
// none comes within wait.
func healthz(t *testing.T, c net.Conn, wait time.Duration) string {
	t.Helper()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: keydesk\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.Proto + " " + res.Status
}

func TestServeRefusesBadAddrBeforeTouchingTheDatabase(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "127.0.0.1:99999", "localhost:http", "not an address", "http://127.0.0.1:8080"} {
		t.Run(addr, func(t *testing.T) {
			path := testEnv(t)
			t.Setenv("KEYDESK_ADDR", addr)
			logs := &syncBuffer{}
			var err error
			stderr := captureStderr(t, func() {
				err = run([]string{"serve"}, strings.NewReader(""), io.Discard, slog.New(slog.NewTextHandler(logs, nil)))
			})
			if err == nil || !strings.Contains(err.Error(), "KEYDESK_ADDR") {
				t.Fatalf("error = %v, want one naming KEYDESK_ADDR", err)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the database was created: %v", err)
			}
			if strings.Contains(logs.String(), "listening") || strings.Contains(stderr, "password") {
				t.Errorf("logged %q, printed %q", logs, stderr)
			}
		})
	}
}

func TestServeOnATakenPortCreatesNoAdmin(t *testing.T) {
	path := testEnv(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	t.Setenv("KEYDESK_ADDR", taken.Addr().String())
	logs := &syncBuffer{}
	stderr := captureStderr(t, func() {
		err = run([]string{"serve"}, strings.NewReader(""), io.Discard, slog.New(slog.NewTextHandler(logs, nil)))
	})
	if err == nil || !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Fatalf("error = %v, want one naming the address", err)
	}
	if strings.Contains(stderr, "password") || strings.Contains(logs.String(), "listening") {
		t.Errorf("a start that could not listen printed %q and logged %q", stderr, logs)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the database was created: %v", err)
	}
}
