// Command floor answers the API benchmark's five calls the way keydesk
// does on the wire — same methods and paths, same status, headers and body
// sizes, request bodies read to the end, the server's timeouts — with
// fixed answers and no work at all. Run against it (BENCH_FLOOR=1
// bench/run.sh), the same wrk calls measure what net/http alone reaches
// for each request shape on this machine: a ceiling for the ratios to
// /healthz that no handler can pass.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"
)

// The answers keydesk gave the benchmark's calls on 2026-12-03, byte for
// byte in length.
var (
	tokenAnswer = []byte(`{"access_token":"kdt_AQAAAAAAAAABAAAAAAAAAABrEX2eA6zzOX0drDqKV2fG9iJ1ppkEB32ezTW7G-WZuRXouBCt0_43Ankdk7J82dziaJ0xpQ","token_type":"Bearer","expires_in":1800,"scope":"read write"}`)
	keyAnswer   = []byte(`{"name":"Bench bearer","api_key":"kd_live_S9bae48JdbTW5ogjctPFXL1zv0wK","type":"integration","mode":"live","scope":"read write","scopes":["read","write"],"licenses":["leads"],"account":"bench-motors","authenticated_by":"bearer"}`)
	leadAnswer  = []byte(`{"id":"ld_2al5shtujzwwrvrgndkg6jk5","received_at":"2026-12-03T14:03:02Z"}` + "\n")
)

const requestID = "61356658a49f-1e1df"

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("Content-Type", "text/plain; charset=UTF-8")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Referrer-Policy", "no-referrer")
		api(h)
		w.Write([]byte("ok"))
	})
	mux.HandleFunc("POST /api/v1/auth/token", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		h.Set("Content-Type", "application/json")
		api(h)
		w.Write(tokenAnswer)
	})
	mux.HandleFunc("GET /api/v1/key", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		api(h)
		w.Write(keyAnswer)
	})
	mux.HandleFunc("POST /api/v1/leads", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Location", "/api/v1/leads/ld_2al5shtujzwwrvrgndkg6jk5")
		api(h)
		w.WriteHeader(http.StatusCreated)
		w.Write(leadAnswer)
	})
	// The timeouts of keydesk's own server (main.go).
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// api sets the headers every keydesk answer carries besides its own.
func api(h http.Header) {
	if h.Get("Content-Security-Policy") == "" {
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Request-Id", requestID)
}
