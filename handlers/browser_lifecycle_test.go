package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"keydesk/db"
)

// TestBrowserRollWithGrace rolls a key keeping the old secret until the new
// one is first used plus 15 minutes, uses both, moves the clock on and sees
// the old key refused and shown revoked.
func TestBrowserRollWithGrace(t *testing.T) {
	ctx := newBrowser(t)
	app := newTestApp(t)
	f := app.apiFixture("acme")
	base := app.srv.URL
	page := fmt.Sprintf("%s/settings/integrations/keys/%d", base, f.rw.ID)
	step(t, ctx, "set the window to desktop", emulate(1280, 900))
	signIn(t, ctx, base, "admin@acme.test")
	step(t, ctx, "open the roll dialog on the key's page",
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-page]`)),
		clickHX(`[data-testid=key-actions] [data-testid=roll]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=roll-form]`)),
	)
	opacity := `Number(getComputedStyle(document.querySelector("[data-testid=retire-options]")).opacity)`
	if o := eval[float64](t, ctx, opacity); o >= 1 {
		t.Errorf("with Revoke it now chosen the retiring window reads as in force (opacity %v)", o)
	}
	step(t, ctx, "choose to keep the old key working",
		chromedp.Click(chromedp.CSS(`[data-testid=old-retire]`)),
		chromedp.SetValue(chromedp.CSS(`#f-window`), "15m"),
	)
	if o := eval[float64](t, ctx, opacity); o != 1 {
		t.Errorf("with Keep it working chosen the retiring window is dimmed (opacity %v)", o)
	}
	windowShot(t, ctx, "lifecycle-01-roll-dialog")
	step(t, ctx, "roll, keeping the old key",
		chromedp.Click(chromedp.CSS(`[data-testid=confirm-roll]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=retiring-note]`)),
	)
	newPublic := text(t, ctx, `[data-testid=new-api-key]`)
	newSecret := text(t, ctx, `[data-testid=new-api-secret]`)
	screenshot(t, ctx, "lifecycle-02-rolled")

	r := app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now()))
	if r.status != http.StatusOK || r.header.Get("Sunset") == "" {
		t.Fatalf("the old key after the roll: %d, Sunset %q", r.status, r.header.Get("Sunset"))
	}
	step(t, ctx, "the old key's page says Retiring",
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=retires-at]`)),
	)
	if s := text(t, ctx, `[data-testid=key-page] .badges`); !strings.Contains(s, "Retiring") {
		t.Errorf("badges %q", s)
	}
	app.token(newPublic, newSecret)
	eventually(t, "the countdown start", func() bool {
		k, _ := app.db.APIKey(context.Background(), f.acc.ID, f.rw.ID)
		return !k.Retire.At.IsZero()
	})
	step(t, ctx, "the countdown shows", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=retires-at]`)))
	if s := text(t, ctx, `[data-testid=status]`); strings.Contains(s, "first used") {
		t.Errorf("status still waits for the first use: %q", s)
	}
	screenshot(t, ctx, "lifecycle-03-retiring")

	app.clock.Advance(16 * time.Minute)
	expectError(t, app.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, app.clock.Now())),
		http.StatusUnauthorized, "invalid_signature")
	if _, err := app.db.RevokeRetired(context.Background(), app.clock.Now()); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "the old key shows revoked", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-page]`)))
	if s := text(t, ctx, `[data-testid=status]`); !strings.Contains(s, "Revoked") {
		t.Errorf("status %q, want Revoked", s)
	}
	screenshot(t, ctx, "lifecycle-04-revoked")
}

// TestBrowserPauseAndEndTokensAskFirst: on a phone, Pause and End all tokens
// open a confirmation saying what happens to the key's clients; Cancel
// changes nothing, the confirming button does, and Resume is one click.
func TestBrowserPauseAndEndTokensAskFirst(t *testing.T) {
	ctx := newBrowser(t)
	app := newTestApp(t)
	f := app.apiFixture("acme")
	base := app.srv.URL
	page := fmt.Sprintf("%s/settings/integrations/keys/%d", base, f.rw.ID)
	tok := app.token(f.rw.PublicKey, f.rwSecret)
	step(t, ctx, "set the window to a phone", emulate(390, 844))
	signIn(t, ctx, base, "admin@acme.test")
	step(t, ctx, "ask to end all tokens, then cancel",
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-page]`)),
		clickHX(`[data-testid=key-actions] [data-testid=end-tokens]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=end-tokens-explained]`)),
	)
	windowShot(t, ctx, "lifecycle-05-end-tokens-confirm-390")
	step(t, ctx, "cancel", chromedp.Click(chromedp.CSS(`#modal [data-testid=cancel]`)), chromedp.WaitNotPresent(chromedp.CSS(`#modal[open]`)))
	if r := app.call("GET", "/api/v1/key", "", "", bearer(tok)); r.status != http.StatusOK {
		t.Fatalf("a token after Cancel: %d", r.status)
	}
	step(t, ctx, "ask to pause",
		clickHX(`[data-testid=key-actions] [data-testid=pause]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=pause-explained]`)),
	)
	if !eval[bool](t, ctx, `document.activeElement?.dataset.testid === "cancel"`) {
		t.Error("the pause confirmation does not focus Cancel")
	}
	windowShot(t, ctx, "lifecycle-06-pause-confirm-390")
	step(t, ctx, "pause",
		clickHX(`#modal [data-testid=confirm-pause]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-actions] [data-testid=resume]`)),
	)
	if s := text(t, ctx, `[data-testid=key-page] .badges`); !strings.Contains(s, "Paused") {
		t.Errorf("badges %q after pausing", s)
	}
	expectError(t, app.call("GET", "/api/v1/key", "", "", bearer(tok)), http.StatusUnauthorized, "key_paused")
	step(t, ctx, "resume in one click",
		chromedp.Click(chromedp.CSS(`[data-testid=key-actions] [data-testid=resume]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-actions] [data-testid=pause]`)),
	)
	if r := app.call("GET", "/api/v1/key", "", "", bearer(app.token(f.rw.PublicKey, f.rwSecret))); r.status != http.StatusOK {
		t.Errorf("a new token after Resume: %d", r.status)
	}

	// In the list: a pause from the row menu toasts; the notice the page
	// opened with (of an earlier action) goes, so it cannot pass for this one's.
	row := `#rows-integration tr[data-key-name="` + f.rw.Name + `"]`
	if err := app.db.PauseAPIKey(context.Background(), f.acc.ID, f.write.ID, db.Actor{UserID: f.admin.ID, Email: f.admin.Email}, app.clock.Now()); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "resume the other key from its row (a whole page, with a notice)",
		chromedp.Navigate(base+"/settings/integrations"),
		chromedp.Click(chromedp.CSS(`tr[data-key-name="`+f.write.Name+`"] [data-testid=row-menu] summary`)),
		chromedp.Click(chromedp.CSS(`tr[data-key-name="`+f.write.Name+`"] [data-testid=resume]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash]`)),
	)
	step(t, ctx, "pause from the row menu",
		chromedp.Click(chromedp.CSS(row+` [data-testid=row-menu] summary`)),
		clickHX(row+` [data-testid=pause]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=confirm-pause]`)),
		clickHX(`#modal [data-testid=confirm-pause]`),
		chromedp.WaitVisible(chromedp.CSS(`#toast.show`)),
	)
	if got := text(t, ctx, `#toast`); !strings.Contains(got, "Paused "+f.rw.Name) {
		t.Errorf("toast %q after pausing from the list", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("[data-testid=flash]").length`); n != 0 {
		t.Error("the notice of the earlier resume is still on the page beside the pause's toast")
	}
}
