package handlers

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"keydesk/db"
)

// newBrowser starts headless Chromium, or skips when none is installed
// (never when KEYDESK_BROWSER_TESTS=require, as in CI).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("KEYDESK_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("KEYDESK_BROWSER_TESTS") == "require" {
			t.Fatalf("browser tests are required but %s is missing: %v", path, err)
		}
		t.Skipf("no Chromium at %s; install Debian's chromium to run browser tests", path)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.NoFirstRun,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// Start the browser on a context without a deadline: a timeout here would kill it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs actions with a deadline and fails the test with what was being done.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		screenshot(t, ctx, "failed")
		t.Fatalf("%s: %v (screenshot: failed.png)", what, err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// clickHX clicks an htmx-driven element once htmx has wired it up: content
// htmx swaps in becomes live a moment after it appears, and a click before
// that would be an ordinary link or form submission.
func clickHX(sel string) chromedp.Action[chromedp.Void] {
	ready := `(() => { const el = document.querySelector(` + strconv.Quote(sel) + `);
		const hx = el && el.closest("[hx-get],[hx-post]");
		const data = hx && hx["htmx-internal-data"];
		return !!(data && data.initHash); })()`
	return chromedp.Steps(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](ready)(ctx, t)
		return err
	}), chromedp.Click(chromedp.CSS(sel)))
}

// screenshot saves the page for a person to look at (screenshots/ at the top of the repo).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("KEYDESK_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func signIn(t *testing.T, ctx context.Context, base, email string) {
	t.Helper()
	step(t, ctx, "sign in as "+email,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[data-testid=login-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=who]`)),
	)
}

func TestBrowserKeyLifecycle(t *testing.T) {
	ctx := newBrowser(t)
	app := newTestApp(t)
	app.account("main-street-motors", db.LicenseLeads, db.LicenseCapture)
	base := app.srv.URL

	step(t, ctx, "open the sign-in page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")))
	screenshot(t, ctx, "01-login")
	signIn(t, ctx, base, "admin@main-street-motors.test")
	screenshot(t, ctx, "02-dashboard")

	step(t, ctx, "open Settings > Integrations",
		chromedp.Click(chromedp.CSS(`nav a[href="/settings/integrations"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=section-integration]`)),
	)
	if got := text(t, ctx, `[data-testid=section-digital_requests] h2`); !strings.HasPrefix(got, "API keys for digital requests") {
		t.Errorf("first section = %q", got)
	}
	screenshot(t, ctx, "03-integrations-empty")
	// A marker on window survives only if the page is never reloaded.
	eval[bool](t, ctx, `window.__noReload = true`)

	step(t, ctx, "open the Create New Key modal",
		chromedp.Click(chromedp.CSS(`[data-testid=create-digital_requests]`)),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=key-form]`)),
	)
	screenshot(t, ctx, "04-create-modal")

	step(t, ctx, "submit without a name",
		chromedp.Click(chromedp.CSS(`#modal [data-testid=group-capture] summary`)),
		chromedp.SendKeys(chromedp.CSS(`#f-redirect`), "https://www.mainstreetmotors.example/thanks"),
		clickHX(`#modal [data-testid=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal [data-testid=error-name]`)),
	)
	if !strings.Contains(text(t, ctx, `[data-testid=error-name]`), "Give the key a name") {
		t.Error("the name error does not say what to do")
	}
	if !strings.Contains(text(t, ctx, `[data-testid=error-licenses]`), "at least one license") {
		t.Error("no license error")
	}
	if v := eval[string](t, ctx, `document.querySelector("#f-redirect").value`); v != "https://www.mainstreetmotors.example/thanks" {
		t.Errorf("typed redirect URL lost: %q", v)
	}
	screenshot(t, ctx, "05-create-errors")

	// A name that looks right but hides a zero-width space is refused, saying why.
	nameError := `document.querySelector("#modal [data-testid=error-name]")?.textContent.includes("invisible")`
	step(t, ctx, "submit a name hiding a zero-width space",
		chromedp.SetValue(chromedp.CSS(`#f-name`), "Main Website\u200bLead Form"),
		clickHX(`#modal [data-testid=submit]`),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Poll[bool](nameError)(ctx, t)
			return err
		}),
	)
	if got := text(t, ctx, `[data-testid=error-name]`); !strings.Contains(got, "U+200B") {
		t.Errorf("the name error %q does not name the character", got)
	}
	screenshot(t, ctx, "05b-create-invisible-name")
	eval[string](t, ctx, `document.querySelector("#f-name").value = ""`)

	step(t, ctx, "submit a valid form",
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Main Website Lead Form"),
		chromedp.Click(chromedp.CSS(`#modal input[name=licenses][value=leads]`)),
		clickHX(`#modal [data-testid=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal [data-testid=key-created]`)),
	)
	apiKey, secret := text(t, ctx, `[data-testid=new-api-key]`), text(t, ctx, `[data-testid=new-api-secret]`)
	if !strings.HasPrefix(apiKey, "kd_live_") || !strings.HasPrefix(secret, "kds_live_") {
		t.Fatalf("new key %q, secret %q", apiKey, secret)
	}
	screenshot(t, ctx, "06-key-created")

	step(t, ctx, "close the modal",
		chromedp.Click(chromedp.CSS(`#modal [data-testid=done]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#modal[open]`)),
	)
	row := `#rows-digital_requests tr[data-key-name="Main Website Lead Form"]`
	if got := text(t, ctx, row+` [data-testid=api-key]`); got != apiKey[:12]+"…"+apiKey[len(apiKey)-4:] {
		t.Errorf("row shows key %q, want %q", got, apiKey)
	}
	if got := eval[string](t, ctx, `document.querySelector('`+row+` [data-testid=api-key]').dataset.full`); got != apiKey {
		t.Errorf("row carries key %q, want %q", got, apiKey)
	}
	if !eval[bool](t, ctx, `window.__noReload === true`) {
		t.Error("the page reloaded: the row should arrive without a reload")
	}

	// The key works against the API the moment it is shown: a token, then a lead.
	bearer := app.token(apiKey, secret)
	lead := app.call("POST", "/api/v1/leads", "application/json",
		`{"contact":{"first_name":"Dana","last_name":"Reyes","email":"dana@example.com"},"vehicle":{"make":"Subaru","model":"Outback","year":2024},"message":"Is it still available?","source":"website"}`,
		map[string]string{"Authorization": "Bearer " + bearer})
	if lead.status != http.StatusCreated {
		t.Fatalf("POST /api/v1/leads with the new key: %d %s", lead.status, lead.body)
	}
	step(t, ctx, "see the lead on the Leads page",
		chromedp.Navigate(base+"/leads"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=lead-row]`)),
	)
	if got := text(t, ctx, `[data-testid=lead-row]`); !strings.Contains(got, "Dana") || !strings.Contains(got, "Main Website Lead Form") {
		t.Errorf("lead row = %q, want the contact and the key that brought it", got)
	}
	screenshot(t, ctx, "07a-leads")
	step(t, ctx, "back to Settings > Integrations",
		chromedp.Navigate(base+"/settings/integrations"),
		chromedp.WaitVisible(chromedp.CSS(row)),
	)
	if got := text(t, ctx, row+` [data-testid=last-used]`); got == "never" {
		t.Error("last used still says never after an API call")
	}

	step(t, ctx, "open the key's page and reveal the secret",
		chromedp.Click(chromedp.CSS(row+` [data-testid=key-link]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-page]`)),
		clickHX(`[data-testid=reveal]`),
		chromedp.WaitVisible(chromedp.CSS(`.secret.revealed`)),
	)
	if got := text(t, ctx, `[data-testid=credentials] [data-testid=secret]`); got != secret {
		t.Errorf("revealed %q, want the secret", got)
	}
	screenshot(t, ctx, "07-revealed")
	step(t, ctx, "back to the list", chromedp.Navigate(base+"/settings/integrations"), chromedp.WaitVisible(chromedp.CSS(row)))

	step(t, ctx, "edit the settings",
		chromedp.Click(chromedp.CSS(row+` [data-testid=row-menu] summary`)),
		clickHX(row+` [data-testid=edit]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=key-form]`)),
	)
	screenshot(t, ctx, "08-edit-modal")
	step(t, ctx, "save the settings",
		chromedp.SetValue(chromedp.CSS(`#f-name`), "Website Lead Form"),
		clickHX(`#modal [data-testid=submit]`),
		chromedp.WaitNotPresent(chromedp.CSS(`#modal[open]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-key-name="Website Lead Form"]`)),
	)
	row = `#rows-digital_requests tr[data-key-name="Website Lead Form"]`

	step(t, ctx, "revoke with the confirmation",
		chromedp.Click(chromedp.CSS(row+` [data-testid=row-menu] summary`)),
		clickHX(row+` [data-testid=revoke]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=revoke-form]`)),
	)
	screenshot(t, ctx, "09-revoke-confirm")
	step(t, ctx, "confirm the revoke",
		clickHX(`#modal [data-testid=confirm-revoke]`),
		chromedp.WaitNotPresent(chromedp.CSS(`#modal[open]`)),
		// Revoked keys hide behind "Show revoked": the list fetches its rows again.
		chromedp.WaitNotPresent(chromedp.CSS(row)),
	)
	screenshot(t, ctx, "10-revoked")
	// Revoked in the browser: the key and its token stop working at once.
	if res := app.call("GET", "/api/v1/key", "", "", map[string]string{"Authorization": "Bearer " + bearer}); res.status != http.StatusUnauthorized {
		t.Errorf("the revoked key's token: %d, want 401", res.status)
	}
	if res := app.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
		map[string]string{"Authorization": basic(apiKey, secret)}); res.status != http.StatusUnauthorized {
		t.Errorf("a token for the revoked key: %d, want 401", res.status)
	}

	step(t, ctx, "create an extensive-integration key",
		chromedp.Click(chromedp.CSS(`[data-testid=create-integration]`)),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=key-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "DMS Sync"),
		chromedp.Click(chromedp.CSS(`#modal input[name=licenses][value=leads]`)),
		chromedp.Click(chromedp.CSS(`#modal input[name=licenses][value=capture]`)),
		clickHX(`#modal [data-testid=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal [data-testid=key-created]`)),
		chromedp.Click(chromedp.CSS(`#modal [data-testid=done]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#modal[open]`)),
		chromedp.WaitVisible(chromedp.CSS(`#rows-integration tr[data-key-name="DMS Sync"]`)),
	)
	firstKey := eval[string](t, ctx, `document.querySelector('#rows-integration tr[data-key-name="DMS Sync"] [data-testid=api-key]').dataset.full`)

	step(t, ctx, "roll the key",
		chromedp.Click(chromedp.CSS(`#rows-integration tr[data-key-name="DMS Sync"]:not(.revoked) [data-testid=row-menu] summary`)),
		clickHX(`#rows-integration tr[data-key-name="DMS Sync"]:not(.revoked) [data-testid=roll]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] [data-testid=roll-form]`)),
		clickHX(`#modal [data-testid=confirm-roll]`),
		chromedp.WaitVisible(chromedp.CSS(`#modal [data-testid=key-created]`)),
	)
	rolledKey := text(t, ctx, `#modal [data-testid=new-api-key]`)
	screenshot(t, ctx, "10b-rolled")
	step(t, ctx, "close the roll",
		chromedp.Click(chromedp.CSS(`#modal [data-testid=done]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#modal[open]`)),
	)
	step(t, ctx, "show revoked keys too",
		chromedp.Click(chromedp.CSS(`[data-testid=filter-revoked]`)),
		chromedp.WaitVisible(chromedp.CSS(`#rows-integration tr.revoked[data-key-name="DMS Sync"]`)),
	)
	if n := eval[int](t, ctx, `document.querySelectorAll('#rows-integration tr[data-key-name="DMS Sync"]').length`); n != 2 {
		t.Errorf("%d DMS Sync rows after the roll, want the revoked one and the new one", n)
	}
	if got := text(t, ctx, row+` [data-testid=status]`); !strings.Contains(got, "Revoked") {
		t.Errorf("status after revoke = %q", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('#rows-integration tr[data-key-name="DMS Sync"]:not(.revoked) [data-testid=api-key]').dataset.full`); got != rolledKey || got == firstKey {
		t.Errorf("active row shows %q, want the rolled key %q", got, rolledKey)
	}
	if got := eval[string](t, ctx, `document.querySelector('#rows-integration tr.revoked[data-key-name="DMS Sync"] [data-testid=api-key]').dataset.full`); got != firstKey {
		t.Errorf("revoked row shows %q, want the old key %q", got, firstKey)
	}
	screenshot(t, ctx, "11-integrations")
	if k, err := app.db.APIKeyByPublic(context.Background(), apiKey); err != nil || !k.Revoked() {
		t.Errorf("the key is not revoked in the store: %v", err)
	}

	step(t, ctx, "open the audit log",
		chromedp.Click(chromedp.CSS(`nav a[href="/settings/audit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=audit-table]`)),
	)
	if n := eval[int](t, ctx, `document.querySelectorAll("[data-testid=audit-row]").length`); n != 7 {
		t.Errorf("audit log has %d rows, want 7 (create, reveal, edit, revoke, create, roll, create)", n)
	}
	screenshot(t, ctx, "12-audit-log")

	step(t, ctx, "sign out",
		chromedp.Click(chromedp.CSS(`[data-testid=sign-out]`)),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
	)
	signIn(t, ctx, base, "dealer@main-street-motors.test")
	step(t, ctx, "open API Keys as a dealer",
		chromedp.Navigate(base+"/keys"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=section-digital_requests]`)),
	)
	if n := eval[int](t, ctx, `document.querySelectorAll("[data-testid^=create-], [data-testid=edit], [data-testid=revoke]").length`); n != 0 {
		t.Errorf("the dealer sees %d admin controls", n)
	}
	if eval[bool](t, ctx, `!!document.querySelector('nav a[href="/settings/integrations"]')`) {
		t.Error("the dealer's menu links to Settings > Integrations")
	}
	screenshot(t, ctx, "13-dealer-keys")
	step(t, ctx, "read the developer docs",
		chromedp.Click(chromedp.CSS(`nav a[href="/docs"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=docs-slug]`)),
	)
	if got := text(t, ctx, `[data-testid=docs-slug]`); got != "main-street-motors" {
		t.Errorf("docs slug = %q", got)
	}
	screenshot(t, ctx, "13a-docs")
	step(t, ctx, "a dealer typing the admin address",
		chromedp.Navigate(base+"/settings/integrations"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-page]`)),
	)
	if !strings.Contains(text(t, ctx, `[data-testid=error-page]`), "for account admins") {
		t.Error("the 403 page does not explain itself")
	}
	screenshot(t, ctx, "14-dealer-forbidden")
}

// TestBrowserWithoutJavaScript creates and revokes a key with scripts off:
// every form is a real form, the modal a page of its own.
func TestBrowserWithoutJavaScript(t *testing.T) {
	ctx := newBrowser(t)
	app := newTestApp(t)
	app.account("main-street-motors", db.LicenseLeads)
	base := app.srv.URL
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, base, "admin@main-street-motors.test")
	step(t, ctx, "open Create New Key as a page",
		chromedp.Navigate(base+"/settings/integrations"),
		chromedp.Click(chromedp.CSS(`[data-testid=create-integration]`)),
		chromedp.WaitVisible(chromedp.CSS(`.form-page [data-testid=key-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "DMS Sync"),
		chromedp.Click(chromedp.CSS(`[data-testid=group-sms] summary`)),
		chromedp.SendKeys(chromedp.CSS(`#f-capture_sms`), "Hi {customer}, {dealer} here: {name}"),
		chromedp.Click(chromedp.CSS(`[data-testid=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-capture_sms]`)),
	)
	if v := eval[string](t, ctx, `document.querySelector("#f-name").value`); v != "DMS Sync" {
		t.Errorf("name lost after an error: %q", v)
	}
	screenshot(t, ctx, "20-nojs-create-errors")
	step(t, ctx, "fix the SMS and create",
		chromedp.SetValue(chromedp.CSS(`#f-capture_sms`), "Hi {customer}, {dealer} here: {link}"),
		chromedp.Click(chromedp.CSS(`[data-testid=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-created]`)),
	)
	if got := text(t, ctx, `[data-testid=new-api-secret]`); !strings.HasPrefix(got, "kds_live_") {
		t.Errorf("secret shown = %q", got)
	}
	screenshot(t, ctx, "21-nojs-created")
	// Nothing copies without the script, so no Copy button is offered.
	if n := eval[int](t, ctx, `[...document.querySelectorAll("[data-copy]")].filter(b => b.offsetParent !== null).length`); n != 0 {
		t.Errorf("%d Copy buttons shown without JavaScript", n)
	}
	row := `tr[data-key-name="DMS Sync"]`
	step(t, ctx, "reveal on a page of its own",
		chromedp.Navigate(base+"/settings/integrations"),
		chromedp.Click(chromedp.CSS(row+` [data-testid=key-link]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=reveal]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=revealed-secret]`)),
	)
	step(t, ctx, "revoke through the confirmation page",
		chromedp.Navigate(base+"/settings/integrations"),
		chromedp.Click(chromedp.CSS(row+` [data-testid=row-menu] summary`)),
		chromedp.Click(chromedp.CSS(row+` [data-testid=revoke]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=revoke-form]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=confirm-revoke]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash]`)),
	)
	if got := text(t, ctx, `[data-testid=flash]`); !strings.Contains(got, "Revoked DMS Sync") {
		t.Errorf("notice after the revoke = %q", got)
	}
}

// TestBrowserCaptureLink opens a capture session's link as the customer would.
func TestBrowserCaptureLink(t *testing.T) {
	ctx := newBrowser(t)
	app := newTestApp(t)
	f := app.captureFixture("acme")
	s := createCapture(app, f.writeAuth, goodCapture)
	step(t, ctx, "open the capture link",
		chromedp.Navigate(s.CaptureURL),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=capture-steps]`)),
	)
	if got := text(t, ctx, `h1`); got != "Vehicle inspection for 2024 Honda Accord" {
		t.Errorf("heading = %q", got)
	}
	screenshot(t, ctx, "30-capture-link")
}
