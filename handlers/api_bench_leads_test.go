package handlers

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"keydesk/db"
)

const benchLead = `{"contact":{"first_name":"Ann","last_name":"Lee","email":"ann@example.com","phone":"+1 555 010 2030"},` +
	`"vehicle":{"vin":"1HGCM82633A004352","year":2024,"make":"Honda","model":"Accord","stock_number":"A123"},` +
	`"message":"Is it still available?","source":"website"}`

// BenchmarkLeadIntake is bench/run.sh's leads_post in process: 32 clients
// at once push bench/leads.lua's lead through the real router with a
// Bearer token, each answered after its batch commits (synchronous=FULL).
//
//	go test -run '^$' -bench LeadIntake -benchtime 100000x -cpuprofile /tmp/leads.prof ./handlers
func BenchmarkLeadIntake(b *testing.B) {
	bench := startBench(b)
	public, secret := bench.key("Bench website form", db.DigitalRequests)
	token := bench.accessToken(public, secret)

	b.SetParallelism(16) // 32 clients on 2 cores, as bench/run.sh's wrk
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("POST", "/api/v1/leads", nil)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		for pb.Next() {
			req.Body = io.NopCloser(strings.NewReader(benchLead))
			if w := bench.serve(req); w.Code != 201 {
				b.Errorf("lead: %d %s", w.Code, w.Body.String())
				return
			}
		}
	})
}
