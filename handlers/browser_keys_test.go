package handlers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"keydesk/db"
	"keydesk/keys"
)

// The two widths every key screen is checked at.
var viewports = []struct {
	name          string
	width, height int64
}{
	{"desktop", 1280, 900},
	{"phone", 390, 844},
}

// emulate sets the window's size; below 720 px as a phone does.
func emulate(width, height int64) chromedp.Action[chromedp.Void] {
	if width < 720 {
		return chromedp.EmulateViewport(width, height, chromedp.EmulateMobile)
	}
	return chromedp.EmulateViewport(width, height)
}

// windowShot saves what the window shows, for screens far taller than it.
func windowShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("..", "screenshots", name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fits fails the test when the page is wider than the window.
func fits(t *testing.T, ctx context.Context, screen string) {
	t.Helper()
	if w := eval[[]int](t, ctx, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		screenshot(t, ctx, "failed")
		t.Errorf("%s: the document is %d px wide in a %d px window", screen, w[0], w[1])
	}
}

// reachable fails the test when an element matching sel lies left or right of
// the window, where only horizontal scrolling would reach it.
func reachable(t *testing.T, ctx context.Context, screen, sel string) {
	t.Helper()
	js := `Array.from(document.querySelectorAll(` + fmt.Sprintf("%q", sel) + `)).filter((el) => el.getClientRects().length > 0)
		.map((el) => { const r = el.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth ? (el.textContent.trim() || el.outerHTML.slice(0, 60)) : ""; })`
	var outside []string
	n := 0
	for _, s := range eval[[]string](t, ctx, js) {
		n++
		if s != "" {
			outside = append(outside, s)
		}
	}
	if n == 0 {
		t.Errorf("%s: nothing matches %s", screen, sel)
	}
	if len(outside) > 0 {
		screenshot(t, ctx, "failed")
		t.Errorf("%s: %d of %d %s outside the window: %q", screen, len(outside), n, sel, outside)
	}
}

// inView fails the test when sel is not wholly inside the window.
func inView(t *testing.T, ctx context.Context, screen, sel string) {
	t.Helper()
	js := `(() => { const r = document.querySelector(` + fmt.Sprintf("%q", sel) + `).getBoundingClientRect();
		return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth; })()`
	if !eval[bool](t, ctx, js) {
		screenshot(t, ctx, "failed")
		t.Errorf("%s: %s is not in the window", screen, sel)
	}
}

func focused(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `document.activeElement ? (document.activeElement.dataset.testid || document.activeElement.id || document.activeElement.tagName) : ""`)
}

// waitFor polls a JavaScript condition, for what htmx does a moment later.
func waitFor(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](js)(ctx, t)
		return err
	})
}

func rowCount(section string) string {
	return `document.querySelectorAll("#rows-` + section + ` [data-testid=key-row]").length`
}

// keyScreensFixture is an account with a full page of keys and then some.
func keyScreensFixture(t *testing.T) (*testApp, db.APIKey) {
	app := newTestApp(t)
	acc, admin, _ := app.account("main-street-motors", db.LicenseLeads, db.LicenseCapture)
	ctx := context.Background()
	for i := range 57 {
		mode := keys.Live
		if i%5 == 0 {
			mode = keys.Test
		}
		k, _ := app.key(acc, admin, fmt.Sprintf("DMS Sync %02d", i), db.Integration, mode, db.LicenseLeads, db.LicenseCapture)
		if i < 2 {
			app.db.RevokeAPIKey(ctx, acc.ID, k.ID, db.Actor{UserID: admin.ID, Email: admin.Email}, app.clock.Now())
		}
		if i%7 == 0 {
			app.db.TouchAPIKey(k.ID, app.clock.Now().Add(-time.Duration(i)*time.Hour))
		}
	}
	long, _ := app.key(acc, admin, "Main Street Motors — website lead form for the used-car pages", db.DigitalRequests, keys.Live, db.LicenseLeads, db.LicenseCapture)
	app.key(acc, admin, "Trade-in widget", db.DigitalRequests, keys.Test, db.LicenseLeads)
	return app, long
}

// TestBrowserKeyScreensAtBothWidths walks every key screen and dialog at a
// desktop and a phone width: nothing is wider than the window, every action
// is in reach by vertical scrolling, search and filters work, focus lands
// where it should and the one-time secret is hard to lose.
func TestBrowserKeyScreensAtBothWidths(t *testing.T) {
	ctx := newBrowser(t)
	app, long := keyScreensFixture(t)
	base := app.srv.URL
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			shot := func(name string) { screenshot(t, ctx, "keys-"+vp.name+"-"+name) }
			// Dialogs over a long list: what the window shows is what a person sees.
			shotWindow := func(name string) { windowShot(t, ctx, "keys-"+vp.name+"-"+name) }
			// Each width starts signed out, whatever the other left behind.
			if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				t.Fatal(err)
			}
			step(t, ctx, "set the window to "+vp.name, emulate(vp.width, vp.height))
			signIn(t, ctx, base, "admin@main-street-motors.test")
			step(t, ctx, "open Settings › Integrations",
				chromedp.Navigate(base+"/settings/integrations"),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=section-integration]`)),
			)
			fits(t, ctx, "integrations")
			reachable(t, ctx, "integrations", `[data-testid=row-menu] summary`)
			reachable(t, ctx, "integrations", `[data-testid^=create-]`)
			reachable(t, ctx, "integrations", `[data-testid=key-row] [data-copy]`)
			shot("01-integrations")
			shotWindow("01-integrations-window")
			step(t, ctx, "the skip link comes first",
				chromedp.KeyEvent(kb.Tab),
			)
			if got := focused(t, ctx); got != "skip-link" {
				t.Errorf("first Tab focuses %q, want the skip link", got)
			}

			last := `#rows-integration tr:last-child [data-testid=row-menu]`
			step(t, ctx, "open the last row's menu",
				chromedp.ScrollIntoView(chromedp.CSS(last)),
				chromedp.Click(chromedp.CSS(last+` summary`)),
				chromedp.WaitVisible(chromedp.CSS(last+` [data-testid=revoke]`)),
			)
			fits(t, ctx, "row menu")
			reachable(t, ctx, "row menu", last+` .menu-items a`)
			shotWindow("02-row-menu")

			step(t, ctx, "search by name",
				chromedp.Navigate(base+"/settings/integrations"),
				chromedp.WaitVisible(chromedp.CSS(`#q`)),
				chromedp.SendKeys(chromedp.CSS(`#q`), "sync 4"),
				waitFor(rowCount("integration")+` === 10 && `+rowCount("digital_requests")+` === 0`),
			)
			if got := eval[string](t, ctx, `location.search`); got != "?q=sync+4" {
				t.Errorf("the address after a search = %q, want it to keep the search", got)
			}
			fits(t, ctx, "search")
			shotWindow("03-search")
			step(t, ctx, "filter by mode",
				chromedp.SetValue(chromedp.CSS(`#filter-mode`), "test"),
				chromedp.Evaluate[chromedp.Void](`document.querySelector("#filter-mode").dispatchEvent(new Event("input", {bubbles: true}))`),
				waitFor(rowCount("integration")+` === 2`),
			)
			step(t, ctx, "clear and show revoked",
				chromedp.Navigate(base+"/settings/integrations"),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=filter-revoked]`)),
				clickHX(`[data-testid=filter-revoked]`),
				waitFor(`document.querySelectorAll("#rows-integration tr.revoked").length === 0 && location.search === "?revoked=1"`),
				clickHX(`#section-integration [data-testid=next]`),
				waitFor(`document.querySelectorAll("#rows-integration tr.revoked").length === 2`),
			)
			if got := text(t, ctx, `#section-integration [data-testid=pager] span`); !strings.HasPrefix(got, "51–") {
				t.Errorf("second page says %q", got)
			}
			fits(t, ctx, "second page")
			shot("04-page-2-with-revoked")

			step(t, ctx, "open Create New Key",
				chromedp.Navigate(base+"/settings/integrations"),
				clickHX(`[data-testid=create-integration]`),
				chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=key-form]`)),
			)
			fits(t, ctx, "create modal")
			inView(t, ctx, "create modal", `#modal [data-testid=submit]`)
			if got := focused(t, ctx); got != "f-name" {
				t.Errorf("the create form opens with the focus on %q", got)
			}
			shotWindow("05-create")
			step(t, ctx, "open every group and type an SMS",
				chromedp.Click(chromedp.CSS(`#modal [data-testid=group-capture] summary`)),
				chromedp.Click(chromedp.CSS(`#modal [data-testid=group-sms] summary`)),
				chromedp.SendKeys(chromedp.CSS(`#f-capture_sms`), "Hi {customer}: {link}"),
			)
			if got := text(t, ctx, `[data-testid=count-capture_sms]`); got != "21 / 320" {
				t.Errorf("SMS counter = %q", got)
			}
			inView(t, ctx, "create modal, groups open", `#modal [data-testid=submit]`)
			fits(t, ctx, "create modal, groups open")
			shotWindow("06-create-open")
			name := "Phone DMS " + vp.name
			step(t, ctx, "create the key",
				chromedp.SendKeys(chromedp.CSS(`#f-name`), name),
				chromedp.Click(chromedp.CSS(`#modal input[name=licenses][value=leads]`)),
				clickHX(`#modal [data-testid=submit]`),
				chromedp.WaitVisible(chromedp.CSS(`#modal [data-testid=key-created]`)),
				chromedp.WaitVisible(chromedp.CSS(`#rows-integration tr[data-key-name="`+name+`"]`)),
			)
			fits(t, ctx, "created modal")
			reachable(t, ctx, "created modal", `#modal .btn`)
			shotWindow("07-created")
			eval[bool](t, ctx, `document.getElementById("modal").dispatchEvent(new MouseEvent("click", {bubbles: true})) || true`)
			if !eval[bool](t, ctx, `document.getElementById("modal").open`) {
				t.Fatal("a click on the backdrop closed the one-time secret")
			}
			step(t, ctx, "Escape asks first",
				chromedp.KeyEvent(kb.Escape),
				chromedp.WaitVisible(chromedp.CSS(`#modal [data-testid=escape-ask]`)),
			)
			if !eval[bool](t, ctx, `document.getElementById("modal").open`) || focused(t, ctx) != "keep-open" {
				t.Errorf("after Escape: open %v, focus on %q; want the question with focus on Keep it open",
					eval[bool](t, ctx, `document.getElementById("modal").open`), focused(t, ctx))
			}
			reachable(t, ctx, "escape question", `#modal [data-testid=escape-ask] .btn`)
			shotWindow("08-escape-asks")
			step(t, ctx, "close after saying it was stored",
				chromedp.Click(chromedp.CSS(`#modal [data-testid=stored-close]`)),
				chromedp.WaitNotPresent(chromedp.CSS(`#modal[open]`)),
			)

			step(t, ctx, "open the key's page",
				chromedp.Navigate(fmt.Sprintf("%s/settings/integrations/keys/%d", base, long.ID)),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-page]`)),
			)
			fits(t, ctx, "key page")
			reachable(t, ctx, "key page", `[data-testid=key-actions] .btn`)
			reachable(t, ctx, "key page", `[data-testid=credentials] .btn`)
			shot("09-key-page")
			step(t, ctx, "reveal the secret",
				clickHX(`[data-testid=reveal]`),
				chromedp.WaitVisible(chromedp.CSS(`.secret.revealed`)),
				waitFor(`document.activeElement && document.activeElement.dataset.testid === "secret"`),
			)
			fits(t, ctx, "revealed")
			shot("10-revealed")
			step(t, ctx, "hide it again",
				chromedp.Click(chromedp.CSS(`[data-testid=hide]`)),
				chromedp.WaitNotPresent(chromedp.CSS(`.secret.revealed`)),
			)
			if got := focused(t, ctx); got != "reveal" {
				t.Errorf("after Hide the focus is on %q, want Reveal", got)
			}
			if got := text(t, ctx, `[data-testid=credentials] [data-testid=secret]`); !strings.HasPrefix(got, "••••") {
				t.Errorf("after Hide the secret shows %q", got)
			}
			for _, action := range []string{"revoke", "roll"} {
				step(t, ctx, "open the "+action+" confirmation",
					clickHX(`[data-testid=key-actions] [data-testid=`+action+`]`),
					chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=`+action+`-form]`)),
				)
				if got := focused(t, ctx); got != "cancel" {
					t.Errorf("the %s confirmation opens with the focus on %q, want Cancel", action, got)
				}
				fits(t, ctx, action+" confirmation")
				reachable(t, ctx, action+" confirmation", `#modal .btn`)
				shotWindow("11-confirm-" + action)
				step(t, ctx, "cancel the "+action,
					chromedp.Click(chromedp.CSS(`#modal [data-testid=cancel]`)),
					chromedp.WaitNotPresent(chromedp.CSS(`#modal[open]`)),
				)
			}
			pii := text(t, ctx, `[data-testid=pii-mask]`)
			step(t, ctx, "edit from the key's page",
				clickHX(`[data-testid=key-actions] [data-testid=edit]`),
				chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=key-form]`)),
				chromedp.Click(chromedp.CSS(`#modal [data-testid=group-capture] summary`)),
				chromedp.ScrollIntoView(chromedp.CSS(`#f-pii`)),
				chromedp.Click(chromedp.CSS(`#f-pii`)),
				clickHX(`#modal [data-testid=submit]`),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash]`)),
			)
			if got := text(t, ctx, `[data-testid=pii-mask]`); got == pii {
				t.Errorf("the key's page after switching the PII mask still says %q", got)
			}
			shot("12-key-page-saved")

			step(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`[data-testid=sign-out]`)), chromedp.WaitVisible(chromedp.CSS(`#email`)))
			signIn(t, ctx, base, "dealer@main-street-motors.test")
			step(t, ctx, "the dealer's API Keys", chromedp.Navigate(base+"/keys"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-row]`)))
			fits(t, ctx, "dealer's keys")
			reachable(t, ctx, "dealer's keys", `[data-testid=row-menu] summary`)
			shot("13-dealer-keys")
			step(t, ctx, "the dealer's key page",
				chromedp.Click(chromedp.CSS(`[data-testid=key-link]`)),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-page]`)),
			)
			if n := eval[int](t, ctx, `document.querySelectorAll("[data-testid=key-actions], [data-testid=activity]").length`); n != 0 {
				t.Errorf("the dealer's key page shows %d admin parts", n)
			}
			fits(t, ctx, "dealer's key page")
			shot("14-dealer-key-page")
			step(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`[data-testid=sign-out]`)), chromedp.WaitVisible(chromedp.CSS(`#email`)))
		})
	}
}

// TestBrowserNoJavaScriptNotices creates, reloads and revokes with scripts off
// on a phone: each step confirms itself once, and a reload never shows the secret.
func TestBrowserNoJavaScriptNotices(t *testing.T) {
	ctx := newBrowser(t)
	app, _ := keyScreensFixture(t)
	base := app.srv.URL
	step(t, ctx, "set a phone's window", emulate(390, 844))
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, base, "admin@main-street-motors.test")
	step(t, ctx, "create a key without scripts",
		chromedp.Navigate(base+"/settings/integrations"),
		chromedp.Click(chromedp.CSS(`[data-testid=create-digital_requests]`)),
		chromedp.WaitVisible(chromedp.CSS(`.form-page [data-testid=key-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Website chat"),
		chromedp.Click(chromedp.CSS(`input[name=licenses][value=leads]`)),
	)
	fits(t, ctx, "no-JS form")
	screenshot(t, ctx, "keys-nojs-phone-01-form")
	step(t, ctx, "submit", chromedp.Click(chromedp.CSS(`[data-testid=submit]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-created]`)))
	secret := text(t, ctx, `[data-testid=new-api-secret]`)
	if !strings.HasPrefix(secret, "kds_live_") || !strings.HasSuffix(eval[string](t, ctx, `location.pathname`), "/created") {
		t.Fatalf("created page at %s shows %q", eval[string](t, ctx, `location.pathname`), secret)
	}
	fits(t, ctx, "no-JS created")
	screenshot(t, ctx, "keys-nojs-phone-02-created")
	step(t, ctx, "reload the created page",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-page]`)),
	)
	if body := text(t, ctx, `body`); strings.Contains(body, secret) || !strings.Contains(text(t, ctx, `[data-testid=flash]`), "shown once") {
		t.Error("the reload shows the secret again, or does not say it was shown once")
	}
	screenshot(t, ctx, "keys-nojs-phone-03-reloaded")
	step(t, ctx, "revoke from the key's page",
		chromedp.Click(chromedp.CSS(`[data-testid=key-actions] [data-testid=revoke]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=revoke-form]`)),
	)
	fits(t, ctx, "no-JS confirmation")
	screenshot(t, ctx, "keys-nojs-phone-04-confirm")
	step(t, ctx, "confirm",
		chromedp.Click(chromedp.CSS(`[data-testid=confirm-revoke]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash]`)),
	)
	if got := text(t, ctx, `[data-testid=flash]`); got != "Revoked Website chat. It and its tokens no longer work." {
		t.Errorf("notice after the revoke = %q", got)
	}
	if got := text(t, ctx, `[data-testid=access] [data-testid=status]`); !strings.HasPrefix(got, "Revoked") {
		t.Errorf("status on the key's page = %q", got)
	}
	screenshot(t, ctx, "keys-nojs-phone-05-revoked")
	step(t, ctx, "search without scripts",
		chromedp.Navigate(base+"/settings/integrations"),
		chromedp.SendKeys(chromedp.CSS(`#q`), "sync 1"),
		chromedp.Click(chromedp.CSS(`[data-testid=filter-apply]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=filter-clear]`)),
	)
	if n := eval[int](t, ctx, rowCount("integration")); n != 10 {
		t.Errorf("%d rows for sync 1, want 10", n)
	}
}
