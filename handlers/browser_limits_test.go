package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserIPAllowlist sets a key's allowlist in Report only, calls from
// outside it and sees the address listed on the key's page, then switches
// to Enforce and sees the call refused; it also tries 0.0.0.0/0 with
// Enforce and a rate limit of 0 and sees why not, in the form.
func TestBrowserIPAllowlist(t *testing.T) {
	ctx := newBrowser(t)
	app := newTestApp(t)
	f := app.apiFixture("acme")
	base := app.srv.URL
	page := fmt.Sprintf("%s/settings/integrations/keys/%d", base, f.rw.ID)
	signIn(t, ctx, base, "admin@acme.test")
	for _, vp := range []struct {
		name string
		w, h int64
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		step(t, ctx, "set the window to "+vp.name, emulate(vp.w, vp.h))
		step(t, ctx, "open Edit settings with its access group",
			chromedp.Navigate(page),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-page]`)),
			clickHX(`[data-testid=key-actions] [data-testid=edit]`),
			chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=key-form]`)),
			chromedp.Click(chromedp.CSS(`#modal [data-testid=group-access] summary`)),
			chromedp.ScrollIntoView(chromedp.CSS(`#f-ip_allow`)),
		)
		fits(t, ctx, vp.name+" edit form")
		windowShot(t, ctx, "limits-"+vp.name+"-01-form")
	}

	step(t, ctx, "Enforce with 0.0.0.0/0 and a rate limit of 0",
		chromedp.ScrollIntoView(chromedp.CSS(`#f-ip_allow`)),
		chromedp.Click(chromedp.CSS(`#modal input[name=ip_mode][value=enforce]`)),
		chromedp.SetValue(chromedp.CSS(`#f-ip_allow`), "0.0.0.0/0"),
		chromedp.SetValue(chromedp.CSS(`#f-rate_limit`), "0"),
		clickHX(`#modal [data-testid=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal [data-testid=group-access] .field-error`)),
	)
	if s := text(t, ctx, `#modal [data-testid=group-access]`); !strings.Contains(s, "allows every address") || !strings.Contains(s, "from 1 to 100000") {
		t.Errorf("the form does not say what is wrong: %q", s)
	}
	windowShot(t, ctx, "limits-02-bad-input")

	step(t, ctx, "Report only for 203.0.113.7",
		chromedp.Click(chromedp.CSS(`#modal input[name=ip_mode][value=report]`)),
		chromedp.SetValue(chromedp.CSS(`#f-ip_allow`), "203.0.113.7"),
		chromedp.SetValue(chromedp.CSS(`#f-rate_limit`), "600"),
		clickHX(`#modal [data-testid=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash]`)),
	)
	if r := app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now())); r.status != http.StatusOK {
		t.Fatalf("Report only refused a call: %d %s", r.status, r.body)
	}
	if err := app.db.FlushLastUsed(context.Background()); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "the key's page lists the address", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=ip-reports]`)))
	if s := text(t, ctx, `[data-testid=ip-reports]`); !strings.Contains(s, "127.0.0.1") {
		t.Errorf("addresses seen outside the list: %q", s)
	}
	if s := text(t, ctx, `[data-testid=rate-limit]`); !strings.Contains(s, "600 requests a minute") {
		t.Errorf("rate limit: %q", s)
	}
	chromedp.Run(ctx, chromedp.ScrollIntoView(chromedp.CSS(`[data-testid=ip-reports]`)))
	windowShot(t, ctx, "limits-03-reported")

	step(t, ctx, "switch to Enforce",
		clickHX(`[data-testid=key-actions] [data-testid=edit]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=key-form]`)),
		chromedp.Click(chromedp.CSS(`#modal [data-testid=group-access] summary`)),
		chromedp.ScrollIntoView(chromedp.CSS(`#f-ip_allow`)),
		chromedp.Click(chromedp.CSS(`#modal input[name=ip_mode][value=enforce]`)),
		clickHX(`#modal [data-testid=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash]`)),
	)
	if s := text(t, ctx, `[data-testid=ip-allowlist]`); !strings.Contains(s, "Enforce") {
		t.Errorf("allowlist: %q", s)
	}
	r := app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now()))
	expectError(t, r, http.StatusForbidden, "ip_not_allowed")
	screenshot(t, ctx, "limits-04-enforced")
}
