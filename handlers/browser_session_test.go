package handlers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"keydesk/db"
	"keydesk/keys"
)

// TestBrowserSessionEndsInADialog: the session ends while an admin is editing
// a key in the dialog. Save says so on top of the dialog and keeps what was
// typed; once they sign in again in another tab, Save works from the same
// dialog with no reload.
func TestBrowserSessionEndsInADialog(t *testing.T) {
	ctx := newBrowser(t)
	app := newTestApp(t)
	acc, admin, _ := app.account("acme", db.LicenseLeads, db.LicenseCapture)
	k, _ := app.key(acc, admin, "DMS Sync", db.Integration, keys.Live, db.LicenseLeads)
	base := app.srv.URL
	signIn(t, ctx, base, admin.Email)
	row := `tr[data-key-name="DMS Sync"]`
	step(t, ctx, "open the edit dialog",
		chromedp.Navigate(base+"/settings/integrations"),
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.Click(chromedp.CSS(row+` [data-testid=row-menu] summary`)),
		clickHX(row+` [data-testid=edit]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=key-form]`)),
		chromedp.SetValue(chromedp.CSS(`#f-name`), "DMS Sync (nightly)"),
	)

	app.clock.Advance(31 * time.Minute) // past the idle timeout
	step(t, ctx, "save after the session ended",
		clickHX(`#modal [data-testid=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] #toast.show`)),
	)
	if got := text(t, ctx, `#toast`); !strings.Contains(got, "session has ended") || !strings.Contains(got, "another tab") {
		t.Errorf("toast = %q, want the ended session and how to go on", got)
	}
	// On top of the dialog: the toast's middle is the toast, not the backdrop
	// (hit-tested as if it took clicks, which it leaves to what is below).
	if !eval[bool](t, ctx, `(() => { const t = document.getElementById("toast"), r = t.getBoundingClientRect();
		t.style.pointerEvents = "auto";
		const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		t.style.pointerEvents = "";
		return !!top?.closest("#toast"); })()`) {
		t.Error("the toast is hidden behind the dialog")
	}
	if got := eval[string](t, ctx, `document.querySelector("#f-name").value`); got != "DMS Sync (nightly)" {
		t.Errorf("the name field holds %q after the refused save", got)
	}
	screenshot(t, ctx, "40-session-ended-in-dialog")

	// Sign in again in another tab of the same browser (same cookies).
	tab, closeTab := chromedp.NewContext(ctx)
	signIn(t, tab, base, admin.Email)
	closeTab()

	step(t, ctx, "save once: refused for the old form, which takes the new token",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("toast").classList.remove("show")`),
		clickHX(`#modal [data-testid=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] #toast.show`)),
	)
	if got := text(t, ctx, `#toast`); !strings.Contains(got, "signed in again") {
		t.Errorf("toast = %q, want to be told to send once more", got)
	}
	if got, _ := app.db.APIKey(context.Background(), acc.ID, k.ID); got.Name != "DMS Sync" {
		t.Fatalf("renamed to %q by a refused request", got.Name)
	}
	step(t, ctx, "save again",
		clickHX(`#modal [data-testid=submit]`),
		chromedp.WaitNotPresent(chromedp.CSS(`#modal[open]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-key-name="DMS Sync (nightly)"]`)),
	)
	if got, _ := app.db.APIKey(context.Background(), acc.ID, k.ID); got.Name != "DMS Sync (nightly)" {
		t.Errorf("name %q after saving, want the typed one", got.Name)
	}
	if eval[bool](t, ctx, `document.getElementById("toast").parentElement.id === "modal"`) {
		t.Error("the toast stayed inside the closed dialog")
	}
}
