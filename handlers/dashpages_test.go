package handlers

import (
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/db/dbtest"
	"keydesk/keys"
)

var leadLink = regexp.MustCompile(`href="/leads/(\d+)"`)

func TestLeadsPageSearchFiltersAndLead(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	other := app.apiFixture("other")
	tok := bearer(app.token(f.write.PublicKey, f.writeSecret))
	postLead(app, tok, goodLead)
	postLead(app, tok, strings.NewReplacer("Ann", "Bo", "ann@", "bo@", "010-2030", "999-0000", "1hgcm82633a004352", "2hgcm82633a004352").Replace(goodLead))
	sandbox, sandboxSecret := app.key(f.acc, f.admin, "Sandbox form", db.DigitalRequests, keys.Test, db.LicenseLeads)
	postLead(app, signedHeaders("acme", sandbox.PublicKey, sandboxSecret, app.clock.Now()), strings.Replace(goodLead, "Ann", "Tess", 1))
	postLead(app, bearer(app.token(other.write.PublicKey, other.writeSecret)), goodLead)

	b := app.browser().login(f.admin.Email)
	names := func(path string) []string {
		t.Helper()
		res := b.get(path)
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d", path, res.status)
		}
		var out []string
		for _, m := range regexp.MustCompile(`href="/leads/\d+">([^<]+)<`).FindAllStringSubmatch(res.body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	today := app.clock.Now().Format(time.DateOnly)
	tomorrow := app.clock.Now().AddDate(0, 0, 1).Format(time.DateOnly)
	for _, tt := range []struct {
		query string
		want  string
	}{
		{"", "Tess Lee,Bo Lee,Ann Lee"},
		{"q=ANN@example.com", "Tess Lee,Ann Lee"},
		{"q=bo@example.com", "Bo Lee"},
		{"q=" + url.QueryEscape("555 010 2030"), "Tess Lee,Ann Lee"},
		{"q=1HGCM82633A004352", "Tess Lee,Ann Lee"},
		{"q=lee", "Tess Lee,Bo Lee,Ann Lee"},
		{"q=" + url.QueryEscape("bo lee"), "Bo Lee"},
		{"q=nobody", ""},
		{"mode=test", "Tess Lee"},
		{"mode=live&q=lee", "Bo Lee,Ann Lee"},
		{"key=" + idParam(sandbox.ID), "Tess Lee"},
		{"key=" + idParam(other.write.ID), ""}, // another account's key finds nothing
		{"keyname=" + url.QueryEscape("sandbox FORM"), "Tess Lee"},
		{"keyname=" + url.QueryEscape("website form") + "&q=lee", "Bo Lee,Ann Lee"},
		{"keyname=nothing", ""},
		{"since=" + today, "Tess Lee,Bo Lee,Ann Lee"},
		{"since=" + tomorrow, ""},
	} {
		if got := strings.Join(names("/leads?"+tt.query), ","); got != tt.want {
			t.Errorf("/leads?%s: %q, want %q", tt.query, got, tt.want)
		}
	}
	// A link's key that is not an id, or no key of this account's, lists
	// nothing and says why under the Key field.
	for _, q := range []string{"key=x", "key=-3", "key=" + idParam(other.write.ID)} {
		r := b.get("/leads?" + q)
		if r.status != http.StatusOK || !strings.Contains(r.body, "The link names no key of this account") || len(leadLink.FindAllString(r.body, -1)) != 0 {
			t.Errorf("/leads?%s: %d, want the page with the Key field's message and no lead", q, r.status)
		}
	}

	m := leadLink.FindStringSubmatch(b.get("/leads?mode=live&q=ann@example.com").body)
	lead := b.get("/leads/" + m[1])
	if lead.status != http.StatusOK || !strings.Contains(lead.body, `data-testid="lead-key">Website form<`) ||
		!strings.Contains(html.UnescapeString(lead.body), "Is it still available?") {
		t.Errorf("lead page: %d", lead.status)
	}
	theirs := leadLink.FindStringSubmatch(app.browser().login(other.admin.Email).get("/leads").body)
	if r := b.get("/leads/" + theirs[1]); r.status != http.StatusNotFound {
		t.Errorf("another account's lead: %d", r.status)
	}
	// A dealer reads leads too.
	if r := app.browser().login("dealer@acme.test").get("/leads/" + m[1]); r.status != http.StatusOK {
		t.Errorf("dealer on a lead: %d", r.status)
	}

	// The landing page counts them and links each figure to its list.
	if err := app.db.FlushLastUsed(context.Background()); err != nil {
		t.Fatal(err)
	}
	home := b.get("/").body
	for _, want := range []string{
		`href="/leads?since=` + today + `" data-testid="stat-leads-today"><span class="num">3</span>`,
		`data-testid="stat-digital"><span class="num">2</span>`,
		`data-testid="stat-integration"><span class="num">1</span>`,
	} {
		if !strings.Contains(home, want) {
			t.Errorf("landing page lacks %s", want)
		}
	}
	// Each key figure's list shows what the figure counts.
	keyRows := regexp.MustCompile(`data-testid="key-row"\s+data-key-name="([^"]+)"`)
	rowsOf := func(body string) (out []string) {
		for _, m := range keyRows.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	for _, tt := range []struct{ testid, want string }{
		{"stat-digital", "Sandbox form,Website form"},
		{"stat-integration", "CRM"},
		{"stat-idle", "CRM"}, // the two others were used just now
	} {
		m := regexp.MustCompile(`href="([^"]+)" data-testid="` + tt.testid + `"`).FindStringSubmatch(home)
		if m == nil {
			t.Fatalf("landing page: no link on %s", tt.testid)
		}
		if got := strings.Join(rowsOf(b.get(html.UnescapeString(m[1])).body), ","); got != tt.want {
			t.Errorf("%s links to %s, which lists %q, want %q", tt.testid, m[1], got, tt.want)
		}
	}
	if strings.Contains(home, "@when") || !strings.Contains(home, `<time class="when" datetime="`) {
		t.Error("the landing page's times are not <time> elements")
	}
	if strings.Contains(home, `data-testid="first-key"`) {
		t.Error("an account with keys is asked to create its first")
	}
}

func TestLandingPageFirstKey(t *testing.T) {
	app := newTestApp(t)
	_, admin, dealer := app.account("acme", db.LicenseLeads)
	home := app.browser().login(admin.Email).get("/").body
	if !strings.Contains(home, `data-testid="first-key"`) || !strings.Contains(home, `href="/settings/integrations">Create your first key`) {
		t.Error("no call to create the first key")
	}
	if d := app.browser().login(dealer.Email).get("/").body; !strings.Contains(d, "Ask an admin") || strings.Contains(d, "recent-events") ||
		strings.Contains(d, "Create your first key") {
		t.Error("a dealer's landing page")
	}
}

func TestAuditFiltersAndCSV(t *testing.T) {
	app := newTestApp(t)
	acc, admin, _ := app.account("acme", db.LicenseLeads)
	bob := app.user(acc, "bob@acme.test", db.RoleAdmin)
	web, _ := app.key(acc, admin, "=HYPERLINK(\"x\")", db.DigitalRequests, keys.Live, db.LicenseLeads)
	crm, _ := app.key(acc, bob, "CRM", db.Integration, keys.Live, db.LicenseLeads)
	app.clock.Advance(48 * time.Hour)
	b := app.browser().login(admin.Email)
	if r := b.post("/settings/integrations", fmt.Sprintf("/settings/integrations/keys/%d/revoke", crm.ID), nil); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	day := func(d time.Duration) string { return app.clock.Now().Add(d).Format(time.DateOnly) }
	for _, tt := range []struct {
		query string
		want  []string // sentences, newest first
	}{
		{"", []string{"Revoked the key; its access tokens ended", "Created a key: Extensive integration, live", "Created a key: Digital requests, live"}},
		{"key=" + idParam(crm.ID), []string{"Revoked the key; its access tokens ended", "Created a key: Extensive integration, live"}},
		{"user=" + idParam(bob.ID), []string{"Created a key: Extensive integration, live"}},
		{"action=revoke", []string{"Revoked the key; its access tokens ended"}},
		{"from=" + day(0), []string{"Revoked the key; its access tokens ended"}},
		{"to=" + day(-24*time.Hour), []string{"Created a key: Extensive integration, live", "Created a key: Digital requests, live"}},
		{"action=revoke&user=" + idParam(bob.ID), nil},
		{"keyname=crm", []string{"Revoked the key; its access tokens ended", "Created a key: Extensive integration, live"}},
	} {
		body := b.get("/settings/audit?" + tt.query).body
		var got []string
		for _, m := range regexp.MustCompile(`data-testid="audit-sentence">([^<]+)<`).FindAllStringSubmatch(body, -1) {
			got = append(got, html.UnescapeString(m[1]))
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("?%s: %q, want %q", tt.query, got, tt.want)
		}
	}

	res := b.get("/settings/audit.csv?key=" + idParam(web.ID))
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV: %d %v", res.status, res.header)
	}
	rows, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("CSV rows %v, %v", rows, err)
	}
	if rows[0][0] != "time_utc" || rows[1][3] != `'=HYPERLINK("x")` || rows[1][5] != "Created a key: Digital requests, live" || rows[1][1] != admin.Email {
		t.Errorf("CSV row %q", rows[1])
	}
	if r := app.browser().login("dealer@acme.test").get("/settings/audit.csv"); r.status != http.StatusForbidden {
		t.Errorf("dealer CSV: %d", r.status)
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2": "'=1+2", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"plain": "plain", "": "", "a=b": "a=b",
	} {
		if got := csvSafe(in)[0]; got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestKeyNameFilterFollowsARoll: a roll keeps the key's name, so filtering
// Leads and the Audit log by the name lists what the key did before and
// after, paged across both pairs; a lead row's link is that one pair, which
// its pages keep. On both backends.
func TestKeyNameFilterFollowsARoll(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			app := newTestApp(t)
			if backend == "postgres" {
				app = newTestAppOn(t, dbtest.URL(t))
			}
			f := app.apiFixture("acme")
			post := func(public, secret, name string, n int) {
				tok := bearer(app.token(public, secret))
				for i := range n {
					body := strings.NewReplacer(`"Ann"`, fmt.Sprintf(`"%s%02d"`, name, i), "ann@", fmt.Sprintf("%s%d@", name, i)).Replace(goodLead)
					if res := postLead(app, tok, body); res.status != http.StatusCreated {
						t.Fatalf("lead: %d %s", res.status, res.body)
					}
				}
			}
			post(f.write.PublicKey, f.writeSecret, "Old", 30)
			b := app.browser().login(f.admin.Email)
			rolled := b.shownOnce(b.post("/settings/integrations", fmt.Sprintf("/settings/integrations/keys/%d/roll", f.write.ID), nil))
			post(newKeyRe.FindStringSubmatch(rolled.body)[1], newSecretRe.FindStringSubmatch(rolled.body)[1], "New", 30)

			names := regexp.MustCompile(`href="/leads/\d+">(\w+?)\d\d Lee<`)
			count := func(body, prefix string) (n int) {
				for _, m := range names.FindAllStringSubmatch(body, -1) {
					if m[1] == prefix {
						n++
					}
				}
				return n
			}
			older := regexp.MustCompile(`href="(/leads\?[^"]*before=\d+[^"]*)" data-testid="leads-older"`)
			first := b.get("/leads?keyname=" + url.QueryEscape(f.write.Name))
			if count(first.body, "New") != 30 || count(first.body, "Old") != 20 {
				t.Fatalf("by name, first page: %d new and %d old leads, want 30 and 20", count(first.body, "New"), count(first.body, "Old"))
			}
			next := older.FindStringSubmatch(first.body)
			if next == nil {
				t.Fatal("by name: no Older link")
			}
			second := b.get(html.UnescapeString(next[1]))
			if count(second.body, "Old") != 10 || count(second.body, "New") != 0 || older.MatchString(second.body) {
				t.Errorf("by name, second page: %d old and %d new leads, want the last 10 old", count(second.body, "Old"), count(second.body, "New"))
			}

			// A lead row's link is its own pair, through every page.
			one := b.get("/leads?key=" + idParam(f.write.ID))
			if count(one.body, "Old") != 30 || count(one.body, "New") != 0 || older.MatchString(one.body) {
				t.Errorf("by the old pair's id: %d old and %d new leads", count(one.body, "Old"), count(one.body, "New"))
			}

			audit := b.get("/settings/audit?keyname=" + url.QueryEscape(f.write.Name))
			if !strings.Contains(audit.body, "Created a key") || !strings.Contains(audit.body, "Rolled") {
				t.Errorf("the audit log by name lacks the old pair's creation or the roll")
			}
		})
	}
}

// TestLeadByTheIDTheAPIGave: the ld_… id a lead's receipt carries opens the
// lead in the address bar and from the Leads search; another account's does not.
func TestLeadByTheIDTheAPIGave(t *testing.T) {
	app := newTestApp(t)
	f, other := app.apiFixture("acme"), app.apiFixture("other")
	id := receiptID(t, postLead(app, bearer(app.token(f.write.PublicKey, f.writeSecret)), goodLead))
	theirs := receiptID(t, postLead(app, bearer(app.token(other.write.PublicKey, other.writeSecret)), goodLead))
	b := app.browser().login(f.admin.Email)
	page := b.get("/leads/" + id)
	if page.status != http.StatusOK || !strings.Contains(page.body, "Ann Lee") || !strings.Contains(page.body, `› <code>`+id+`</code>`) {
		t.Fatalf("/leads/%s: %d", id, page.status)
	}
	if res := b.get("/leads?q=" + id); res.status != http.StatusSeeOther || res.header.Get("Location") != "/leads/"+id {
		t.Errorf("searching the id: %d to %q", res.status, res.header.Get("Location"))
	}
	for _, p := range []string{"/leads/" + theirs, "/leads/ld_" + strings.Repeat("a", 24)} {
		if res := b.get(p); res.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, res.status)
		}
	}
	if res := b.get("/leads?q=" + theirs); res.status != http.StatusOK || leadLink.MatchString(res.body) {
		t.Errorf("searching another account's id: %d, or it lists a lead", res.status)
	}
}

// TestDateFiltersSayWhatIsWrong: a date in the address that is not one, or
// a To before From, is named under its field instead of silently ignored.
func TestDateFiltersSayWhatIsWrong(t *testing.T) {
	app := newTestApp(t)
	app.account("acme", db.LicenseLeads)
	b := app.browser().login("admin@acme.test")
	for _, tt := range []struct{ path, testid, says string }{
		{"/leads?since=garbage", "since-error", "“garbage” is not a date: use YYYY-MM-DD"},
		{"/settings/audit?from=2026-13-45", "from-error", "“2026-13-45” is not a date"},
		{"/settings/audit?from=2026-12-05&to=2026-12-01", "to-error", "To (2026-12-01) is before From (2026-12-05), so nothing can match: swap them."},
	} {
		res := b.get(tt.path)
		if res.status != http.StatusOK || !strings.Contains(res.body, `data-testid="`+tt.testid+`">`+html.EscapeString(tt.says)) && !strings.Contains(res.body, tt.says) {
			t.Errorf("%s: %d, does not say %q", tt.path, res.status, tt.says)
		}
	}
	if res := b.get("/leads?since=2026-11-01"); strings.Contains(res.body, `data-testid="since-error"`) {
		t.Error("a good date is flagged")
	}
}

// TestLeadsPageBackAndForth: Older and Newer walk the same pages both ways,
// and the newest page offers no Newer.
func TestLeadsPageBackAndForth(t *testing.T) {
	app := newTestApp(t)
	f := app.apiFixture("acme")
	tok := bearer(app.token(f.write.PublicKey, f.writeSecret))
	for i := range 120 {
		postLead(app, tok, strings.NewReplacer(`"Ann"`, fmt.Sprintf(`"N%03d"`, i), "ann@", fmt.Sprintf("n%d@", i)).Replace(goodLead))
	}
	b := app.browser().login(f.admin.Email)
	names := regexp.MustCompile(`href="/leads/\d+">(N\d+) Lee<`)
	link := func(body, testid string) string {
		m := regexp.MustCompile(`href="([^"]+)" data-testid="` + testid + `"`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return html.UnescapeString(m[1])
	}
	page := func(path string) (string, []string) {
		t.Helper()
		body := b.get(path).body
		var out []string
		for _, m := range names.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return body, out
	}
	p1, n1 := page("/leads")
	if len(n1) != 50 || n1[0] != "N119" || link(p1, "leads-newer") != "" {
		t.Fatalf("first page: %d leads from %v, Newer %q", len(n1), n1[:1], link(p1, "leads-newer"))
	}
	p2, n2 := page(link(p1, "leads-older"))
	p3, n3 := page(link(p2, "leads-older"))
	if len(n2) != 50 || n2[0] != "N069" || len(n3) != 20 || n3[19] != "N000" || link(p3, "leads-older") != "" {
		t.Fatalf("older pages: %d from %v, %d to %v", len(n2), n2[:1], len(n3), n3[len(n3)-1:])
	}
	back2Body, back2 := page(link(p3, "leads-newer"))
	if strings.Join(back2, ",") != strings.Join(n2, ",") {
		t.Errorf("Newer from the last page: %v…, want the second page %v…", back2[:2], n2[:2])
	}
	back1Body, back1 := page(link(back2Body, "leads-newer"))
	if strings.Join(back1, ",") != strings.Join(n1, ",") || link(back1Body, "leads-newer") != "" {
		t.Errorf("Newer from the second page: %d leads from %v, Newer %q; want the first page", len(back1), back1[:1], link(back1Body, "leads-newer"))
	}
}
