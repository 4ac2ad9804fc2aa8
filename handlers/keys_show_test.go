package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keydesk/db"
	"keydesk/keys"
)

func TestKeyListSearchFiltersAndPages(t *testing.T) {
	app := newTestApp(t)
	acc, admin, _ := app.account("acme", db.LicenseLeads)
	other, otherAdmin, _ := app.account("other", db.LicenseLeads)
	app.key(other, otherAdmin, "Elsewhere Sync", db.Integration, keys.Live, db.LicenseLeads)
	var dms db.APIKey
	for i := range 60 {
		mode := keys.Live
		if i%4 == 0 {
			mode = keys.Test
		}
		k, _ := app.key(acc, admin, fmt.Sprintf("Sync %02d", i), db.Integration, mode, db.LicenseLeads)
		if i < 3 {
			if _, err := app.db.RevokeAPIKey(context.Background(), acc.ID, k.ID, db.Actor{UserID: admin.ID}, app.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if i == 42 {
			dms = k
		}
	}
	app.key(acc, admin, "Website form", db.DigitalRequests, keys.Live, db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	dealer := app.browser().login("dealer@acme.test")

	cases := []struct {
		name    string
		as      *browser
		path    string
		header  map[string]string
		rows    int
		have    []string
		notHave []string
	}{
		{"first page", b, "/settings/integrations", nil, 51,
			[]string{"Sync 59", "1–50 of 57", "page_integration=2", "Website form"}, []string{"Sync 02", "Elsewhere"}},
		{"second page", b, "/settings/integrations?page_integration=2", nil, 8,
			[]string{"51–57 of 57", "Sync 03", "← Previous"}, []string{"Sync 59"}},
		{"show revoked", b, "/settings/integrations?revoked=1&page_integration=2", nil, 11, []string{"Sync 00", "51–60 of 60"}, nil},
		{"revoked only", b, "/settings/integrations?status=revoked", nil, 3, []string{"Sync 02", "Sync 00"}, []string{"Sync 03", "Website form"}},
		{"test mode", b, "/settings/integrations?mode=test", nil, 14, []string{"Sync 56"}, []string{"Sync 57", "Website form"}},
		{"search by name, any case", b, "/settings/integrations?q=sync+4", nil, 10, []string{"Sync 49", "Sync 40"}, []string{"Sync 39"}},
		{"search by API key", b, "/settings/integrations?q=" + url.QueryEscape(dms.PublicKey[:16]), nil, 1, []string{"Sync 42"}, nil},
		{"no match", b, "/settings/integrations?q=nothing", nil, 0, []string{"No keys match", "Clear the filters"}, nil},
		{"unknown filter values are ignored", b, "/settings/integrations?mode=prod&status=x&page_integration=-3", nil, 51, []string{"1–50 of 57"}, nil},
		{"htmx search gets the sections only", b, "/settings/integrations?q=sync+4", map[string]string{"HX-Request": "true"}, 10,
			[]string{`id="key-sections"`}, []string{"<html", `id="q"`}},
		{"htmx history restore gets the page", b, "/settings/integrations?q=sync+4",
			map[string]string{"HX-Request": "true", "HX-History-Restore-Request": "true"}, 10, []string{"<html", `id="q"`}, nil},
		{"dealer", dealer, "/keys?q=sync+5", nil, 10, []string{"Sync 55", `href="/keys/`}, []string{"Create New Key", `data-testid="edit"`, `data-testid="manage-keys"`}},
		{"admin on the dealers' view is pointed to where keys are managed", b, "/keys?q=sync+5", nil, 10,
			[]string{"Sync 55", `data-testid="manage-keys"`}, []string{"Create New Key", "Only admins can"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.as.do("GET", tc.path, nil, tc.header)
			if res.status != http.StatusOK {
				t.Fatalf("status %d", res.status)
			}
			if n := strings.Count(res.body, `data-testid="key-row"`); n != tc.rows {
				t.Errorf("%d rows, want %d", n, tc.rows)
			}
			for _, s := range tc.have {
				if !strings.Contains(res.body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tc.notHave {
				if strings.Contains(res.body, s) {
					t.Errorf("page shows %q", s)
				}
			}
		})
	}
}

func TestKeyPage(t *testing.T) {
	app := newTestApp(t)
	acc, admin, _ := app.account("acme", db.LicenseLeads)
	other, otherAdmin, _ := app.account("other", db.LicenseLeads)
	k, _ := app.key(acc, admin, "DMS Sync", db.Integration, keys.Live, db.LicenseLeads, db.LicenseCapture)
	theirs, _ := app.key(other, otherAdmin, "Theirs", db.Integration, keys.Live, db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	dealer := app.browser().login("dealer@acme.test")
	adminPage, readOnly := fmt.Sprintf("/settings/integrations/keys/%d", k.ID), fmt.Sprintf("/keys/%d", k.ID)
	cases := []struct {
		name string
		as   *browser
		path string
		want int
		have []string
	}{
		{"admin", b, adminPage, 200, []string{"DMS Sync", `data-testid="key-actions"`, `data-testid="activity"`, "Created", "read write", k.PublicKey}},
		{"admin, read-only page", b, readOnly, 200, []string{"DMS Sync", k.PublicKey}},
		{"dealer", dealer, readOnly, 200, []string{"DMS Sync", "24 hours", `data-testid="reveal"`}},
		{"dealer on the admin page", dealer, adminPage, 403, nil},
		{"another account's key", b, fmt.Sprintf("/settings/integrations/keys/%d", theirs.ID), 404, nil},
		{"another account's key, read-only", dealer, fmt.Sprintf("/keys/%d", theirs.ID), 404, nil},
		{"missing key", b, "/keys/99999", 404, nil},
		{"created page without a handle", b, adminPage + "/created", 303, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.as.get(tc.path)
			if res.status != tc.want {
				t.Fatalf("status %d, want %d", res.status, tc.want)
			}
			for _, s := range tc.have {
				if !strings.Contains(res.body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
		})
	}
	if res := b.get(adminPage + "/created"); res.header.Get("Location") != adminPage {
		t.Errorf("created page without a handle goes to %q", res.header.Get("Location"))
	}
}

// TestNoticesWithoutJavaScript: every change confirms itself once on the next page.
func TestNoticesWithoutJavaScript(t *testing.T) {
	app := newTestApp(t)
	acc, admin, _ := app.account("acme", db.LicenseLeads)
	k, _ := app.key(acc, admin, "DMS Sync", db.Integration, keys.Live, db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	edit := validKeyForm("DMS Sync (new)", db.Integration)
	edit.Del("type")
	keyPage := fmt.Sprintf("/settings/integrations/keys/%d", k.ID)
	onPage := url.Values{"back": {"key"}}
	cases := []struct {
		name   string
		path   string
		form   url.Values
		to     string
		notice string
	}{
		{"edit from the list", keyPage, edit, "/settings/integrations", "Saved the settings of DMS Sync (new)."},
		{"revoke from the key's page", keyPage + "/revoke", onPage, keyPage, "Revoked DMS Sync (new)."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := b.post("/settings/integrations", tc.path, tc.form)
			if res.status != http.StatusSeeOther || res.header.Get("Location") != tc.to {
				t.Fatalf("status %d to %q, want 303 to %s", res.status, res.header.Get("Location"), tc.to)
			}
			if page := b.get(tc.to).body; !strings.Contains(page, `data-testid="flash"`) || !strings.Contains(page, tc.notice) {
				t.Errorf("%s does not confirm with %q", tc.to, tc.notice)
			}
			if page := b.get(tc.to).body; strings.Contains(page, `data-testid="flash"`) {
				t.Error("the notice shows a second time")
			}
		})
	}
	// With htmx from the key's page, the answer sends the browser back to it.
	k2, _ := app.key(acc, admin, "Website", db.Integration, keys.Live, db.LicenseLeads)
	token := b.csrf("/settings/integrations")
	res := b.do("POST", fmt.Sprintf("/settings/integrations/keys/%d/revoke", k2.ID), url.Values{"back": {"key"}},
		map[string]string{"HX-Request": "true", "X-CSRF-Token": token})
	if want := fmt.Sprintf("/settings/integrations/keys/%d", k2.ID); res.header.Get("HX-Redirect") != want {
		t.Errorf("htmx revoke on the key's page: HX-Redirect %q, want %q", res.header.Get("HX-Redirect"), want)
	}
	// With htmx on the list, the lists fetch their rows again.
	k3, _ := app.key(acc, admin, "Feed", db.Integration, keys.Live, db.LicenseLeads)
	res = b.do("POST", fmt.Sprintf("/settings/integrations/keys/%d/revoke", k3.ID), url.Values{},
		map[string]string{"HX-Request": "true", "X-CSRF-Token": token})
	if !strings.Contains(res.header.Get("HX-Trigger"), "keydesk:keys-changed") {
		t.Errorf("htmx revoke on the list: HX-Trigger %q", res.header.Get("HX-Trigger"))
	}
}

func TestCreatedPageIsForItsUserOnly(t *testing.T) {
	app := newTestApp(t)
	acc, _, _ := app.account("acme", db.LicenseLeads)
	app.user(acc, "second@acme.test", db.RoleAdmin)
	b := app.browser().login("admin@acme.test")
	res := b.post("/settings/integrations", "/settings/integrations/keys", validKeyForm("Website", db.DigitalRequests))
	to := res.header.Get("Location")
	// Another admin at the same address has no handle in their session.
	if other := app.browser().login("second@acme.test").get(to); other.status != http.StatusSeeOther || newSecretRe.MatchString(other.body) {
		t.Fatalf("another admin opened the created page: %d", other.status)
	}
	// An expired handle shows nothing either.
	app.clock.Advance(revealHandleLife)
	if late := b.get(to); late.status != http.StatusSeeOther {
		t.Fatalf("the created page after %v: %d, want a redirect", revealHandleLife, late.status)
	}
}
