package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserQuarantine quarantines a key (from its row's menu on a
// desktop, from its page on a phone), pushes a lead through the API, finds
// it only under Leads › Quarantined, releases it and finds it in the Leads
// list, marked; then ends the quarantine in one click. Every screen fits
// the window.
func TestBrowserQuarantine(t *testing.T) {
	ctx := newBrowser(t)
	app := newTestApp(t)
	f := app.apiFixture("acme")
	base := app.srv.URL
	keyPage := base + "/settings/integrations/keys/" + itoa(f.write.ID)
	send := bearer(app.token(f.write.PublicKey, f.writeSecret))
	postLead(app, send, goodLead)
	signIn(t, ctx, base, "admin@acme.test")
	for _, vp := range viewports {
		shot := func(name string) { screenshot(t, ctx, "quarantine-"+vp.name+"-"+name) }
		step(t, ctx, "set the window to "+vp.name, emulate(vp.width, vp.height))
		if vp.name == "desktop" {
			row := `[data-testid=key-row][data-key-name="Website form"]`
			step(t, ctx, "open the key's row menu",
				chromedp.Navigate(base+"/settings/integrations"),
				chromedp.WaitVisible(chromedp.CSS(row)),
				chromedp.Click(chromedp.CSS(row+` summary`)),
				chromedp.WaitVisible(chromedp.CSS(row+` [data-testid=quarantine]`)),
			)
			step(t, ctx, "ask to quarantine it", clickHX(row+` [data-testid=quarantine]`),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=quarantine-explained]`)))
			fits(t, ctx, "the quarantine dialog")
			windowShot(t, ctx, "quarantine-desktop-01-confirm")
			step(t, ctx, "quarantine it", chromedp.Click(chromedp.CSS(`[data-testid=confirm-quarantine]`)),
				chromedp.WaitVisible(chromedp.CSS(row+` [data-testid=quarantined]`)))
			shot("02-row")
		} else {
			step(t, ctx, "ask to quarantine from the key's page",
				chromedp.Navigate(keyPage),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-actions]`)),
				clickHX(`[data-testid=key-actions] [data-testid=quarantine]`),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=quarantine-explained]`)),
			)
			fits(t, ctx, "the quarantine dialog")
			windowShot(t, ctx, "quarantine-phone-01-confirm")
			step(t, ctx, "quarantine it", chromedp.Click(chromedp.CSS(`[data-testid=confirm-quarantine]`)),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=quarantine-state]`)))
			shot("02-key-page")
		}

		name := "Spam " + vp.name
		res := postLead(app, send, strings.Replace(spamLead, `"Spam"`, `"`+name+`"`, 1))
		if res.status != http.StatusCreated {
			t.Fatalf("a lead of the quarantined key: %d %s", res.status, res.body)
		}
		id := receiptID(t, res)
		step(t, ctx, "the Leads list does not show it",
			chromedp.Navigate(base+"/leads"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=leads-table]`)),
		)
		if s := text(t, ctx, `[data-testid=leads-table]`); strings.Contains(s, name) {
			t.Fatalf("the Leads list shows the parked lead: %q", s)
		}
		step(t, ctx, "open Quarantined",
			chromedp.Click(chromedp.CSS(`[data-testid=tab-quarantined]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=parked-row][data-lead="`+id+`"]`)),
		)
		fits(t, ctx, "Quarantined")
		reachable(t, ctx, "Quarantined", `[data-testid=parked-row] [data-testid=release]`)
		reachable(t, ctx, "Quarantined", `[data-testid=discard-all]`)
		shot("03-quarantined")
		step(t, ctx, "the discard dialog", clickHX(`[data-testid=discard-all]`),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=discard-form]`)))
		fits(t, ctx, "the discard dialog")
		windowShot(t, ctx, "quarantine-"+vp.name+"-04-discard")
		step(t, ctx, "cancel it", chromedp.Click(chromedp.CSS(`[data-testid=discard-form] [data-testid=cancel]`)),
			waitFor(`!document.getElementById("modal").open`))

		step(t, ctx, "release it",
			chromedp.Click(chromedp.CSS(`[data-testid=parked-row][data-lead="`+id+`"] [data-testid=release]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash]`)),
		)
		if s := text(t, ctx, `[data-testid=flash]`); !strings.Contains(s, "Released lead "+id) {
			t.Errorf("the notice after a release: %q", s)
		}
		shot("05-released")
		step(t, ctx, "find it in the Leads list",
			chromedp.Navigate(base+"/leads"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=released-mark]`)),
		)
		if s := text(t, ctx, `[data-testid=lead-row]`); !strings.Contains(s, name+" Bot") || !strings.Contains(s, "Released from quarantine") {
			t.Errorf("the newest lead: %q, want the released one, marked", s)
		}
		fits(t, ctx, "Leads")
		shot("06-leads")

		step(t, ctx, "end the quarantine in one click on the key's page",
			chromedp.Navigate(keyPage),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-actions]`)),
			clickHX(`[data-testid=key-actions] [data-testid=end-quarantine]`),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-actions] [data-testid=quarantine]`)),
		)
	}
	// With a lead parked, ending asks what becomes of it.
	postLead(app, send, spamLead)
	step(t, ctx, "quarantine and ask to end with a lead parked",
		chromedp.Navigate(keyPage),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-actions]`)),
		clickHX(`[data-testid=key-actions] [data-testid=quarantine]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirm-quarantine]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=confirm-quarantine]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=quarantine-state]`)),
	)
	postLead(app, send, spamLead)
	step(t, ctx, "ask to end",
		chromedp.Navigate(keyPage),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-actions]`)),
		clickHX(`[data-testid=key-actions] [data-testid=end-quarantine]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=end-release]`)),
	)
	fits(t, ctx, "the end dialog")
	reachable(t, ctx, "the end dialog", `[data-testid^=end-]`)
	windowShot(t, ctx, "quarantine-phone-07-end")
	step(t, ctx, "end and release", chromedp.Click(chromedp.CSS(`[data-testid=end-release]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-actions] [data-testid=quarantine]`)))
	if n := app.leadCount(f.acc.ID); n != 5 {
		t.Errorf("%d leads after End and release, want 5", n)
	}
}
