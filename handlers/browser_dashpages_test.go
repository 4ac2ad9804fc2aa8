package handlers

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"keydesk/db"
	"keydesk/keys"
)

var widths = []struct {
	name string
	w, h int64
}{{"1280", 1280, 900}, {"390", 390, 844}}

// fitsWidth fails the test when the page is wider than the window.
func fitsWidth(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	if sw, iw := eval[int](t, ctx, `document.documentElement.scrollWidth`), eval[int](t, ctx, `window.innerWidth`); sw > iw {
		t.Errorf("%s: the page is %d px wide in a %d px window", page, sw, iw)
	}
}

// nothingSpills fails the test when an element of the page's main content
// reaches past the window's right edge, hidden by a scroller or not (code
// blocks scroll on purpose and are left out), as an unbroken name would.
func nothingSpills(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	spill := eval[string](t, ctx, `(() => { const e = [...document.querySelectorAll("main *")].find(e => !e.closest("pre") &&
		e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().right > window.innerWidth + 1);
		return e ? e.tagName + "." + e.className + ": " + (e.textContent || "").trim().slice(0, 40) : "" })()`)
	if spill != "" {
		t.Errorf("%s: %s reaches past the window's edge", page, spill)
	}
	if n := eval[int](t, ctx, `[...document.querySelectorAll(".chart-scroll")].filter(c => c.scrollLeft + c.clientWidth < c.scrollWidth - 1).length`); n > 0 {
		t.Errorf("%s: %d charts wider than the screen do not show their latest hours", page, n)
	}
	// A chart that scrolls holds its y axis over its left edge; one that fits shows it once.
	if n := eval[int](t, ctx, `[...document.querySelectorAll(".chart-scroll")].filter(c => {
		const y = c.parentElement.querySelector(".chart-yaxis").getBoundingClientRect(), f = c.getBoundingClientRect();
		return c.scrollWidth > c.clientWidth + 1
			? !(y.width > 0 && Math.abs(y.left - f.left) < 1 && Math.abs(y.top - f.top) < 1)
			: y.width > 0; }).length`); n > 0 {
		t.Errorf("%s: %d charts show their y axis wrong (hidden while scrolled, or twice)", page, n)
	}
}

// navOneLine fails the test when the main navigation's links do not all sit
// on one line (what does not fit scrolls inside the bar).
func navOneLine(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	lines := eval[int](t, ctx, `new Set([...document.querySelectorAll("nav.nav a")].map(a => Math.round(a.getBoundingClientRect().top))).size`)
	if lines != 1 {
		t.Errorf("%s: the navigation takes %d lines", page, lines)
	}
}

// TestBrowserDashPages opens each of the landing page, Users, Leads, a lead,
// the audit log, the docs and the invite pages at a desktop and a phone width:
// nothing wider than the window, a screenshot of each.
func TestBrowserDashPages(t *testing.T) {
	ctx := newBrowser(t)
	app := newTestApp(t)
	f := app.apiFixture("main-street-motors")
	app.user(f.acc, "sales.manager.with.a.long.address@main-street-motors.test", db.RoleDealer)
	tok := bearer(app.token(f.write.PublicKey, f.writeSecret))
	for i, name := range []string{"Ann", "Bo", "Christopher-Alexander", "Dee"} {
		postLead(app, tok, strings.NewReplacer("Ann", name, "ann@", fmt.Sprintf("lead%d@", i)).Replace(goodLead))
	}
	sandbox, _ := app.key(f.acc, f.admin, "Sandbox website form with a long name", db.DigitalRequests, keys.Test, db.LicenseLeads)
	// What integrations may send with no space in it: a 64-character key name,
	// a 100-character first name, a 120-character email, a 64-character make.
	long, _ := app.key(f.acc, f.admin, strings.Repeat("K", 64), db.Integration, keys.Live, db.LicenseLeads)
	postLead(app, tok, `{"contact": {"first_name": "`+strings.Repeat("B", 100)+`", "email": "`+strings.Repeat("c", 108)+`@example.com"},
		"vehicle": {"make": "`+strings.Repeat("M", 64)+`"}}`)
	admin := app.browser().login(f.admin.Email)
	edit := validKeyForm("CRM (old)", db.Integration)
	edit.Del("type")
	admin.post("/settings/integrations", fmt.Sprintf("/settings/integrations/keys/%d", f.rw.ID), edit)
	link := invite(t, admin, "new.person@main-street-motors.test", "dealer")
	leadID := leadLink.FindStringSubmatch(admin.get("/leads").body)[1]
	base := app.srv.URL
	signIn(t, ctx, base, f.admin.Email)

	pages := []struct{ name, path, ready string }{
		{"landing", "/", `[data-testid=stats]`},
		{"integrations", "/settings/integrations", `[data-testid=section-integration]`},
		{"key-long-name", fmt.Sprintf("/settings/integrations/keys/%d", long.ID), `[data-testid=key-page]`},
		{"usage-long-name", fmt.Sprintf("/settings/integrations/keys/%d/usage", long.ID), `[data-testid=usage-chart]`},
		{"debugger-long-name", fmt.Sprintf("/settings/integrations/keys/%d/signature-failures", long.ID), `h1`},
		{"roll-long-name", fmt.Sprintf("/settings/integrations/keys/%d/roll", long.ID), `[data-testid=roll-form]`},
		{"pause-long-name", fmt.Sprintf("/settings/integrations/keys/%d/pause", long.ID), `[data-testid=pause-form]`},
		{"users", "/settings/users", `[data-testid=people]`},
		{"user-reset", userURL(f.admin.ID+2, "reset"), `[data-testid=reset-confirm]`},
		{"leads", "/leads", `[data-testid=leads-table]`},
		{"leads-search", "/leads?q=lee&keyname=" + url.QueryEscape("website form"), `[data-testid=leads-table]`},
		{"lead", "/leads/" + leadID, `[data-testid=lead-facts]`},
		{"audit", "/settings/audit", `[data-testid=audit-table]`},
		{"audit-filtered", "/settings/audit?action=edit", `[data-testid=audit-table]`},
		{"docs", "/docs", `[data-testid=docs-errors]`},
	}
	for _, w := range widths {
		step(t, ctx, "resize to "+w.name, chromedp.EmulateViewport(w.w, w.h))
		for _, p := range pages {
			step(t, ctx, "open "+p.path, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
			fitsWidth(t, ctx, p.name+" at "+w.name)
			navOneLine(t, ctx, p.name+" at "+w.name)
			nothingSpills(t, ctx, p.name+" at "+w.name)
			if p.name == "docs" && w.w < 640 {
				// On a phone the code scrolls sideways: no Copy button may sit on it.
				if n := eval[int](t, ctx, `[...document.querySelectorAll(".code-block")].filter(b => {
					const c = b.querySelector(".copy-code").getBoundingClientRect(), p = b.querySelector("pre").getBoundingClientRect();
					return c.bottom > p.top && c.top < p.bottom; }).length`); n > 0 {
					t.Errorf("docs at %s: %d Copy buttons cover their code", w.name, n)
				}
			}
			screenshot(t, ctx, "dp-"+p.name+"-"+w.name)
		}
	}
	step(t, ctx, "open the audit log", chromedp.Navigate(base+"/settings/audit"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=audit-table]`)))
	if s := text(t, ctx, `[data-testid=audit-row][data-action=edit] [data-testid=audit-sentence]`); !strings.Contains(s, "Renamed from “CRM” to “CRM (old)”") {
		t.Errorf("edit entry: %q", s)
	}

	// The invite page, for someone not signed in.
	step(t, ctx, "sign out", chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS(`[data-testid=sign-out]`)),
		chromedp.WaitVisible(chromedp.CSS("#email")))
	for _, w := range widths {
		step(t, ctx, "open the invite at "+w.name, chromedp.EmulateViewport(w.w, w.h), chromedp.Navigate(base+link),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=invite-accept-form]`)))
		fitsWidth(t, ctx, "invite at "+w.name)
		screenshot(t, ctx, "dp-invite-accept-"+w.name)
	}
	_ = sandbox
}

// TestBrowserInviteAcceptDisable: an admin invites someone, who opens the link,
// chooses a password and is signed in; once disabled, their next request is refused.
func TestBrowserInviteAcceptDisable(t *testing.T) {
	ctx := newBrowser(t)
	app := newTestApp(t)
	acc, admin, _ := app.account("main-street-motors", db.LicenseLeads)
	base := app.srv.URL
	signIn(t, ctx, base, admin.Email)
	step(t, ctx, "invite from Users",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/settings/users"),
		chromedp.SendKeys(chromedp.CSS(`#invite-email`), "pat@main-street-motors.test"),
		chromedp.SetValue(chromedp.CSS(`#invite-role`), "admin"),
		chromedp.Click(chromedp.CSS(`[data-testid=invite-submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=invite-url]`)),
	)
	fitsWidth(t, ctx, "invite link at 390")
	screenshot(t, ctx, "dp-invite-link-390")
	link := text(t, ctx, `[data-testid=invite-url]`)
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(base) + `/invite/[A-Za-z0-9_-]{43}$`).MatchString(link) {
		t.Fatalf("invite link %q", link)
	}
	step(t, ctx, "copy the link", chromedp.Click(chromedp.CSS(`[data-copy]`)))

	step(t, ctx, "sign out and open the link",
		chromedp.Click(chromedp.CSS(`[data-testid=sign-out]`)), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`[data-testid=invite-accept-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#password`), "short"),
		chromedp.SendKeys(chromedp.CSS(`#password2`), "short"),
	)
	// The browser itself refuses a password under 12 characters; the server says so too.
	eval[bool](t, ctx, `document.querySelector("#password").removeAttribute("minlength"), true`)
	step(t, ctx, "a short password", chromedp.Click(chromedp.CSS(`[data-testid=invite-accept-submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.field-error`)))
	if s := text(t, ctx, `.field-error`); !strings.Contains(s, "at least 12 characters") {
		t.Errorf("short password error %q", s)
	}
	step(t, ctx, "choose a password",
		chromedp.SendKeys(chromedp.CSS(`#password`), "a long enough password"),
		chromedp.SendKeys(chromedp.CSS(`#password2`), "a long enough password"),
		chromedp.Click(chromedp.CSS(`[data-testid=invite-accept-submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=who]`)),
	)
	if who := text(t, ctx, `[data-testid=who]`); !strings.Contains(who, "pat@main-street-motors.test") || !strings.Contains(strings.ToLower(who), "admin") {
		t.Fatalf("signed in as %q", who)
	}
	step(t, ctx, "open Users as the new admin", chromedp.Navigate(base+"/settings/users"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=people]`)))

	pat, _ := app.db.UserByEmail(t.Context(), "pat@main-street-motors.test")
	if res := app.browser().login(admin.Email).post("/settings/users", userURL(pat.ID, "disable"), nil); res.status != 303 {
		t.Fatalf("disable: %d", res.status)
	}
	step(t, ctx, "the next request after being disabled",
		chromedp.Navigate(base+"/leads"), chromedp.WaitVisible(chromedp.CSS("#email")))
	if u := eval[string](t, ctx, `location.pathname`); u != "/login" {
		t.Errorf("after disable: at %s", u)
	}
	_ = acc
}

// TestBrowserAuditFilterAndCSV filters the audit log with its form and downloads the filtered CSV.
func TestBrowserAuditFilterAndCSV(t *testing.T) {
	ctx := newBrowser(t)
	app := newTestApp(t)
	acc, admin, _ := app.account("main-street-motors", db.LicenseLeads)
	k, _ := app.key(acc, admin, "DMS Sync", db.Integration, keys.Live, db.LicenseLeads)
	app.key(acc, admin, "Website", db.DigitalRequests, keys.Live, db.LicenseLeads)
	b := app.browser().login(admin.Email)
	b.post("/settings/integrations", fmt.Sprintf("/settings/integrations/keys/%d/revoke", k.ID), nil)
	base := app.srv.URL
	signIn(t, ctx, base, admin.Email)
	step(t, ctx, "filter by key and action",
		chromedp.Navigate(base+"/settings/audit"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=audit-filters]`)),
		chromedp.SendKeys(chromedp.CSS(`#filter-key`), "dms sync"),
		chromedp.SetValue(chromedp.CSS(`#filter-action`), "create"),
		chromedp.Click(chromedp.CSS(`[data-testid=audit-filter]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=audit-clear]`)), // Clear shows once filtered (the nav links to the audit log too)
	)
	if n := eval[int](t, ctx, `document.querySelectorAll("[data-testid=audit-row]").length`); n != 1 {
		t.Errorf("%d rows, want the one create of DMS Sync", n)
	}
	if s := text(t, ctx, `[data-testid=audit-sentence]`); s != "Created a key: Extensive integration, live" {
		t.Errorf("row %q", s)
	}
	href := eval[string](t, ctx, `document.querySelector("[data-testid=audit-csv]").getAttribute("href")`)
	if !strings.Contains(href, "keyname=DMS+Sync") || !strings.Contains(href, "action=create") {
		t.Errorf("CSV link %q does not keep the filter", href)
	}
	csv := eval[string](t, ctx, `(() => { const x = new XMLHttpRequest();
		x.open("GET", document.querySelector("[data-testid=audit-csv]").href, false); x.send(); return x.responseText; })()`)
	if lines := strings.Split(strings.TrimSpace(csv), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "DMS Sync") || !strings.Contains(lines[1], ",create,") {
		t.Errorf("CSV:\n%s", csv)
	}
	for _, w := range widths {
		step(t, ctx, "resize", chromedp.EmulateViewport(w.w, w.h))
		fitsWidth(t, ctx, "filtered audit at "+w.name)
	}
}
