package handlers

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"keydesk/db"
)

var inviteURL = regexp.MustCompile(`data-testid="invite-url">([^<]+)<`)

// invite invites email through the Users page as b and returns the link's path.
func invite(t *testing.T, b *browser, email, role string) string {
	t.Helper()
	res := b.post("/settings/users", "/settings/users", url.Values{"email": {email}, "role": {role}})
	m := inviteURL.FindStringSubmatch(res.body)
	if res.status != http.StatusOK || m == nil {
		t.Fatalf("invite %s: %d %s", email, res.status, res.body)
	}
	if res.header.Get("Cache-Control") != "no-store" {
		t.Error("the invite link page may be cached")
	}
	return strings.TrimPrefix(html.UnescapeString(m[1]), b.app.srv.URL)
}

// accept sets password through the invite page in a new browser, which it returns.
func accept(t *testing.T, app *testApp, link, password string) (*browser, response) {
	t.Helper()
	nb := app.browser()
	return nb, nb.post("/login", link, url.Values{"password": {password}, "password2": {password}})
}

func TestUsersInviteAcceptAndChanges(t *testing.T) {
	app := newTestApp(t)
	acc, admin, dealer := app.account("acme", db.LicenseLeads)
	b := app.browser().login(admin.Email)

	link := invite(t, b, "pat@acme.test", "dealer")
	if !strings.HasPrefix(link, "/invite/") || len(link) < 40 {
		t.Fatalf("link %q", link)
	}
	page := b.get("/settings/users").body
	if !strings.Contains(page, "pat@acme.test") || !strings.Contains(page, ">Invited<") {
		t.Errorf("the new person is not listed as invited")
	}
	if res := b.post("/settings/users", "/settings/users", url.Values{"email": {"PAT@acme.test"}}); res.status != http.StatusUnprocessableEntity ||
		!strings.Contains(res.body, "already has a keydesk sign-in") {
		t.Errorf("inviting the same email again: %d", res.status)
	}
	if res := b.post("/settings/users", "/settings/users", url.Values{"email": {"not an email"}}); res.status != http.StatusUnprocessableEntity {
		t.Errorf("inviting a non-email: %d", res.status)
	}

	// The invite page knows the person; weak or differing passwords are refused; the link works once.
	show := app.browser().get(link)
	if show.status != http.StatusOK || !strings.Contains(show.body, "pat@acme.test") {
		t.Fatalf("invite page: %d", show.status)
	}
	nb := app.browser()
	if res := nb.post(link, link, url.Values{"password": {"short"}, "password2": {"short"}}); res.status != http.StatusUnprocessableEntity ||
		!strings.Contains(res.body, "at least 12 characters") {
		t.Errorf("short password: %d", res.status)
	}
	if res := nb.post(link, link, url.Values{"password": {testPassword}, "password2": {testPassword + "x"}}); res.status != http.StatusUnprocessableEntity {
		t.Errorf("differing passwords: %d", res.status)
	}
	pat, res := accept(t, app, link, testPassword)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/" {
		t.Fatalf("accept: %d %s", res.status, res.body)
	}
	if home := pat.get("/"); home.status != http.StatusOK || !strings.Contains(home.body, "pat@acme.test") {
		t.Fatalf("signed in after accepting: %d", home.status)
	}
	if _, again := accept(t, app, link, testPassword); again.status != http.StatusNotFound {
		t.Errorf("the link used twice: %d", again.status)
	}
	app.browser().login("pat@acme.test")

	u, _ := app.db.UserByEmail(context.Background(), "pat@acme.test")
	// A new role counts from the very next request.
	if r := pat.get("/settings/users"); r.status != http.StatusForbidden {
		t.Errorf("dealer on Users: %d", r.status)
	}
	if r := b.post("/settings/users", userURL(u.ID, "role"), url.Values{"role": {"admin"}}); r.status != http.StatusSeeOther {
		t.Fatalf("make admin: %d %s", r.status, r.body)
	}
	if r := pat.get("/settings/users"); r.status != http.StatusOK {
		t.Errorf("new admin on Users: %d", r.status)
	}
	// Disable asks first, naming the person; asking changes nothing.
	if r := b.get("/settings/users"); !strings.Contains(r.body, `href="`+userURL(u.ID, "disable")+`"`) {
		t.Error("Users' Disable does not open its confirmation")
	}
	if r := b.get(userURL(u.ID, "disable")); r.status != http.StatusOK || !strings.Contains(r.body, "Disable pat@acme.test?") ||
		!strings.Contains(r.body, `data-testid="disable-submit"`) {
		t.Fatalf("disable confirmation: %d", r.status)
	}
	if r := pat.get("/settings/users"); r.status != http.StatusOK {
		t.Fatalf("disabled by the confirmation alone: %d", r.status)
	}
	// Disabled: refused on the next request, and cannot sign in.
	if r := b.post("/settings/users", userURL(u.ID, "disable"), nil); r.status != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.status)
	}
	if r := b.get("/settings/users?done=disable&user=" + idParam(u.ID)); !strings.Contains(r.body, "pat@acme.test is disabled") {
		t.Error("no notice after disabling")
	}
	if r := pat.get("/"); r.status != http.StatusSeeOther {
		t.Errorf("disabled person's next request: %d", r.status)
	}
	if r := app.browser().post("/login", "/login", url.Values{"email": {"pat@acme.test"}, "password": {testPassword}}); r.status != http.StatusUnauthorized {
		t.Errorf("disabled person signs in: %d", r.status)
	}
	if r := b.post("/settings/users", userURL(u.ID, "enable"), nil); r.status != http.StatusSeeOther {
		t.Fatalf("enable: %d", r.status)
	}
	app.browser().login("pat@acme.test")

	// Reset sign-in: the old password and sessions end; a new link works and the old one not.
	again := app.browser().login("pat@acme.test")
	confirm := b.get(userURL(u.ID, "reset"))
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, "Reset the sign-in of pat@acme.test") {
		t.Fatalf("reset confirmation: %d", confirm.status)
	}
	r := b.post("/settings/users", userURL(u.ID, "reset"), nil)
	m := inviteURL.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	if r := again.get("/"); r.status != http.StatusSeeOther {
		t.Errorf("a session after the reset: %d", r.status)
	}
	if r := app.browser().post("/login", "/login", url.Values{"email": {"pat@acme.test"}, "password": {testPassword}}); r.status != http.StatusUnauthorized {
		t.Errorf("the old password after the reset: %d", r.status)
	}
	newLink := strings.TrimPrefix(html.UnescapeString(m[1]), app.srv.URL)
	if _, res := accept(t, app, newLink, "a brand new long password"); res.status != http.StatusSeeOther {
		t.Errorf("the new link: %d", res.status)
	}

	// Every change is in the audit log, in words.
	audit := html.UnescapeString(b.get("/settings/audit").body)
	for _, want := range []string{
		"Invited pat@acme.test as dealer", "pat@acme.test accepted the invite", "Changed the role of pat@acme.test: dealer → admin",
		"Disabled pat@acme.test", "Enabled pat@acme.test", "Reset the sign-in of pat@acme.test",
	} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %q", want)
		}
	}
	if strings.Contains(app.logs.String(), strings.TrimPrefix(newLink, "/invite/")) {
		t.Error("an invite token is in the logs")
	}
	_ = acc
	_ = dealer
}

func userURL(id int64, action string) string { return "/settings/users/" + idParam(id) + "/" + action }

func TestUsersLastAdminAndAccess(t *testing.T) {
	app := newTestApp(t)
	acc, admin, dealer := app.account("acme", db.LicenseLeads)
	_, otherAdmin, _ := app.account("other", db.LicenseLeads)
	b := app.browser().login(admin.Email)
	d := app.browser().login(dealer.Email)

	for _, tt := range []struct {
		name   string
		path   string
		form   url.Values
		status int
	}{
		{"demote the last admin", userURL(admin.ID, "role"), url.Values{"role": {"dealer"}}, http.StatusConflict},
		{"disable the last admin", userURL(admin.ID, "disable"), nil, http.StatusConflict},
		{"reset the last admin", userURL(admin.ID, "reset"), nil, http.StatusConflict},
		{"another account's person", userURL(otherAdmin.ID, "disable"), nil, http.StatusNotFound},
		{"no such person", userURL(9999, "enable"), nil, http.StatusNotFound},
		{"a role that does not exist", userURL(dealer.ID, "role"), url.Values{"role": {"owner"}}, http.StatusBadRequest},
	} {
		if r := b.post("/settings/users", tt.path, tt.form); r.status != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, r.status, tt.status)
		}
	}
	if r := b.get(userURL(otherAdmin.ID, "disable")); r.status != http.StatusNotFound {
		t.Errorf("another account's person's disable confirmation: %d", r.status)
	}
	if r := b.post("/settings/users", userURL(admin.ID, "disable"), nil); !strings.Contains(r.body, "You cannot disable yourself") {
		t.Error("the refusal to disable oneself does not say why")
	}
	if r := b.post("/settings/users", userURL(admin.ID, "role"), url.Values{"role": {"dealer"}}); !strings.Contains(r.body, "last active admin") {
		t.Error("the refusal to demote the last admin does not say why")
	}
	// Their own row offers none of what would be refused or lock them out.
	own := regexp.MustCompile(`(?s)data-email="` + regexp.QuoteMeta(admin.Email) + `">.*?</li>`)
	row := own.FindString(b.get("/settings/users").body)
	if !strings.Contains(row, `data-testid="only-admin"`) || strings.Contains(row, "person-role") || strings.Contains(row, "person-disable") || strings.Contains(row, "person-reset") {
		t.Errorf("the only admin's own row: %s", row)
	}
	// An invited admin without a password does not count as an active admin.
	invite(t, b, "new-admin@acme.test", "admin")
	if r := b.post("/settings/users", userURL(admin.ID, "role"), url.Values{"role": {"dealer"}}); r.status != http.StatusConflict {
		t.Errorf("demoting the last admin with an admin only invited: %d", r.status)
	}

	// Dealers get 403 on all of it, whatever they send.
	for _, p := range []struct{ method, path string }{
		{"GET", "/settings/users"}, {"POST", "/settings/users"}, {"POST", userURL(admin.ID, "role")},
		{"GET", userURL(admin.ID, "disable")}, {"POST", userURL(admin.ID, "disable")}, {"POST", userURL(admin.ID, "enable")},
		{"GET", userURL(admin.ID, "reset")}, {"POST", userURL(admin.ID, "reset")},
	} {
		var r response
		if p.method == "GET" {
			r = d.get(p.path)
		} else {
			r = d.post("/keys", p.path, url.Values{"email": {"x@acme.test"}, "role": {"admin"}})
		}
		if r.status != http.StatusForbidden {
			t.Errorf("dealer %s %s: %d", p.method, p.path, r.status)
		}
	}
	if u, _ := app.db.UserByEmail(context.Background(), "x@acme.test"); u.ID != 0 {
		t.Error("a dealer invited someone")
	}

	// An invite link expires after 72 hours.
	link := invite(t, b, "late@acme.test", "dealer")
	app.clock.Advance(db.InviteTTL + time.Second)
	if r := app.browser().get(link); r.status != http.StatusNotFound || !strings.Contains(r.body, "does not work") {
		t.Errorf("expired link: %d", r.status)
	}
	if _, r := accept(t, app, link, testPassword); r.status != http.StatusNotFound {
		t.Errorf("accepting an expired link: %d", r.status)
	}
	if r := app.browser().get("/invite/not-a-token"); r.status != http.StatusNotFound {
		t.Errorf("unknown token: %d", r.status)
	}
	_ = acc
}
