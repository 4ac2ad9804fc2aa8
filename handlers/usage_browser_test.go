package handlers

import (
	"context"
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"keydesk/db"
)

// TestBrowserKeyUsage opens a key's usage page and its signature debugger
// in Chromium, wide and narrow, after a day of traffic and a few mistakes.
func TestBrowserKeyUsage(t *testing.T) {
	ctx := newBrowser(t)
	a := newTestApp(t)
	f := a.apiFixture("main-street")
	now := a.clock.Now()
	agents := []string{"DealerCRM/4.2 (+https://crm.example)", "curl/8.5.0", "python-requests/2.31"}
	for i := range 900 {
		at := now.Add(-time.Duration(i*96) * time.Second)
		outcome, status := db.OutcomeOK, 200
		if i%9 == 0 {
			outcome, status = "invalid_signature", 401
		} else if i%23 == 0 {
			outcome, status = "stale_timestamp", 401
		}
		a.requests.Record(db.LoggedRequest{At: at, AccountID: f.acc.ID, KeyID: f.rw.ID, Route: "GET /api/v1/leads",
			Status: status, Outcome: outcome, Auth: db.AuthSignature, UserAgent: agents[i%3], Latency: time.Duration(300+i%900) * time.Microsecond,
			Addr: netip.AddrFrom4([4]byte{203, 0, 113, byte(10 + i%4)})})
	}
	a.token(f.rw.PublicKey, f.rwSecret)
	unix := strconv.FormatInt(now.Unix(), 10)
	a.call("GET", "/api/v1/leads", "", "", map[string]string{"API-Key": f.rw.PublicKey, "API-Timestamp": unix,
		"API-Token": hexSign(f.rwSecret, f.acc.Slug+":"+f.rw.PublicKey+"@"+unix)})
	a.call("GET", "/api/v1/leads", "", "", map[string]string{"API-Key": f.rw.PublicKey, "API-Timestamp": now.Format("2006-01-02T15:04:05Z"),
		"API-Token": base64.StdEncoding.EncodeToString(sign(f.rwSecret, f.acc.Slug+":"+f.rw.PublicKey+"@"+now.Format("2006-01-02T15:04:05Z")))})
	local := now.Add(-5 * time.Hour).Format("2006-01-02T15:04:05Z")
	a.call("GET", "/api/v1/leads", "", "", map[string]string{"API-Key": f.rw.PublicKey, "API-Timestamp": local,
		"API-Token": hexSign(f.rwSecret, f.acc.Slug+":"+f.rw.PublicKey+"@"+local)})
	// A body-signed request signed before its body was attached.
	iso := now.Format("2006-01-02T15:04:05Z")
	a.call("POST", "/api/v1/leads", "application/json", `{"contact":{"first_name":"Ann","email":"ann@example.com"}}`,
		map[string]string{"API-Key": f.rw.PublicKey, "API-Timestamp": iso, "API-Signature-Version": "2",
			"API-Token": hexSign(f.rwSecret, strings.Join([]string{"2", "POST", "/api/v1/leads", iso,
				f.acc.Slug + ":" + f.rw.PublicKey, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}, "\n"))})
	if err := a.requests.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	signIn(t, ctx, a.srv.URL, f.admin.Email)
	usage := a.srv.URL + "/settings/integrations/keys/" + itoa(f.rw.ID) + "/usage"
	for _, size := range []struct {
		name string
		w, h int64
	}{{"1280", 1280, 900}, {"390", 390, 844}} {
		step(t, ctx, "usage page at "+size.name, chromedp.EmulateViewport(size.w, size.h),
			chromedp.Navigate(usage), chromedp.WaitVisible(chromedp.CSS(`[data-testid=usage-chart] svg`)))
		if got := text(t, ctx, `[data-testid=usage-summary]`); !strings.Contains(got, "succeeded and 133 failed") {
			t.Errorf("summary %q", got)
		}
		screenshot(t, ctx, "40-usage-"+size.name)
		step(t, ctx, "open the debugger at "+size.name, chromedp.Click(chromedp.CSS(`[data-testid=open-debugger]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=debug-attempt]`)))
		if got := text(t, ctx, `main`); !strings.Contains(got, "the timestamp must be") || !strings.Contains(got, "base64") || !strings.Contains(got, "local time") ||
			!strings.Contains(got, "Signed over no body") {
			t.Errorf("debugger: %q", got)
		}
		screenshot(t, ctx, "41-debugger-"+size.name)
	}
	step(t, ctx, "landing page", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(a.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=account-usage] svg`)))
	screenshot(t, ctx, "42-landing-usage")
}

func hexSign(secret, text string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for _, c := range sign(secret, text) {
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&15])
	}
	return b.String()
}
