package views

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/net/html"

	"keydesk/db"
	"keydesk/keys"
)

// doc is a rendered component, queried by data-testid like templ's own examples.
type doc struct {
	t    *testing.T
	root *html.Node
}

func render(t *testing.T, c templ.Component) doc { return renderIn(t, c, "", "") }

// renderIn renders c between before and after, as a table row needs its table.
func renderIn(t *testing.T, c templ.Component, before, after string) doc {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString(before)
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	buf.WriteString(after)
	root, err := html.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc{t: t, root: root}
}

// all returns the elements for which match is true, in document order.
func (d doc) all(match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for n := range d.root.Descendants() {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
	}
	return out
}

func (d doc) byTestID(id string) []*html.Node {
	return d.all(func(n *html.Node) bool { return attr(n, "data-testid") == id })
}

func (d doc) byID(id string) *html.Node {
	if ns := d.all(func(n *html.Node) bool { return attr(n, "id") == id }); len(ns) > 0 {
		return ns[0]
	}
	return nil
}

// one returns the single element with a data-testid and fails the test otherwise.
func (d doc) one(id string) *html.Node {
	d.t.Helper()
	ns := d.byTestID(id)
	if len(ns) != 1 {
		d.t.Fatalf("%d elements with data-testid=%q, want 1", len(ns), id)
	}
	return ns[0]
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, name string) bool {
	for _, a := range n.Attr {
		if a.Key == name {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func testKey(name string) db.APIKey {
	return db.APIKey{ID: 7, AccountID: 1, Name: name, Type: db.Integration, Licenses: []string{db.LicenseLeads, db.LicenseCapture},
		Mode: keys.Live, PublicKey: "kd_live_ABCDEFGHIJKLMNOPQRSTUV123456", SecretLast4: "wxyz",
		Settings:  keys.Settings{Theme: "pro", PIIMask: true, SkipOdometer: true, SessionExpiry: 48 * time.Hour},
		CreatedAt: now.Add(-3 * time.Minute), CreatedByEmail: "ann@example.com"}
}

func TestFieldTiesLabelHelpAndErrorTogether(t *testing.T) {
	cases := []struct {
		name      string
		p         FieldProps
		described string
		tag       string
	}{
		{"plain", FieldProps{ID: "f-name", Name: "name", Label: "Key Name"}, "", "input"},
		{"help", FieldProps{ID: "f-name", Name: "name", Label: "Key Name", Help: "Say what uses it."}, "h-f-name", "input"},
		{"help and error", FieldProps{ID: "f-name", Name: "name", Label: "Key Name", Help: "h", Error: "Give the key a name."}, "h-f-name e-f-name", "input"},
		{"counted text", FieldProps{ID: "f-sms", Name: "sms", Label: "SMS", Kind: "textarea", Value: "Hi {customer}", MaxLength: 320, Counter: true}, "c-f-sms", "textarea"},
		{"select", FieldProps{ID: "f-x", Name: "x", Label: "X", Kind: "select", Value: "b", Options: []Option{{"a", "A"}, {"b", "B"}}, Error: "Choose one."}, "e-f-x", "select"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := render(t, Field(tc.p))
			control := d.byID(tc.p.ID)
			if control == nil || control.Data != tc.tag {
				t.Fatalf("no <%s id=%s>", tc.tag, tc.p.ID)
			}
			if got := attr(control, "aria-describedby"); got != tc.described {
				t.Errorf("aria-describedby = %q, want %q", got, tc.described)
			}
			for _, id := range strings.Fields(tc.described) {
				if d.byID(id) == nil {
					t.Errorf("aria-describedby names %s, which is not there", id)
				}
			}
			labels := d.all(func(n *html.Node) bool { return n.Data == "label" && attr(n, "for") == tc.p.ID })
			if len(labels) != 1 || textOf(labels[0]) != tc.p.Label {
				t.Errorf("label for %s missing or wrong", tc.p.ID)
			}
			if tc.p.Error != "" {
				if e := d.one("error-" + tc.p.Name); textOf(e) != tc.p.Error {
					t.Errorf("error = %q", textOf(e))
				}
				if attr(control, "aria-invalid") != "true" {
					t.Error("a field with an error is not aria-invalid")
				}
			} else if len(d.byTestID("error-"+tc.p.Name)) != 0 || hasAttr(control, "aria-invalid") {
				t.Error("a field without an error shows one")
			}
			if tc.p.Counter {
				if got := textOf(d.one("count-" + tc.p.Name)); got != "13 / 320" {
					t.Errorf("counter = %q", got)
				}
				if attr(control, "maxlength") != "320" || attr(control, "data-count") != "c-"+tc.p.ID {
					t.Error("a counted field lacks its limit or its counter's id")
				}
			}
			if tc.p.Kind == "select" {
				selected := d.all(func(n *html.Node) bool { return n.Data == "option" && hasAttr(n, "selected") })
				if len(selected) != 1 || attr(selected[0], "value") != "b" {
					t.Error("the current value is not the selected option")
				}
			}
		})
	}
}

func TestKeyFormLimitsAndGroups(t *testing.T) {
	base := KeyFormVM{Form: KeyForm{Type: db.Integration, Values: map[string]string{"theme": "lite", "session_expiry": "24h"}}, AccountLicenses: db.AllLicenses}
	d := render(t, KeyFormModal(base))
	if got := attr(d.byID("f-name"), "maxlength"); got != "64" {
		t.Errorf("name maxlength = %q, want 64 as validation", got)
	}
	for _, id := range []string{"f-capture_sms", "f-results_sms"} {
		if got := attr(d.byID(id), "maxlength"); got != "320" {
			t.Errorf("%s maxlength = %q", id, got)
		}
	}
	if hasAttr(d.one("group-capture"), "open") || hasAttr(d.one("group-sms"), "open") {
		t.Error("the groups open without an error in them")
	}
	if !hasAttr(d.byID("f-name"), "autofocus") {
		t.Error("the name does not take the focus")
	}

	bad := base
	bad.Errors = map[string]string{"results_sms": "{name} is not a placeholder"}
	d = render(t, KeyFormModal(bad))
	if !hasAttr(d.one("group-sms"), "open") || hasAttr(d.one("group-capture"), "open") {
		t.Error("only the group holding the error should open")
	}
	if !hasAttr(d.byID("f-results_sms"), "autofocus") || hasAttr(d.byID("f-name"), "autofocus") {
		t.Error("the field with the error does not take the focus")
	}
}

func TestKeyRowShowsActionsByRole(t *testing.T) {
	revoked := testKey("Old Sync")
	revoked.RevokedAt = now.Add(-time.Hour)
	cases := []struct {
		name    string
		vm      KeyRowVM
		link    string
		actions []string
	}{
		{"admin", KeyRowVM{Key: testKey("DMS Sync"), Admin: true, Now: now}, "/settings/integrations/keys/7", []string{"open", "edit", "roll", "pause", "revoke"}},
		{"admin, revoked key", KeyRowVM{Key: revoked, Admin: true, Now: now}, "/settings/integrations/keys/7", []string{"open"}},
		{"dealer", KeyRowVM{Key: testKey("DMS Sync"), Now: now}, "/keys/7", []string{"open"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := renderIn(t, KeyRow(tc.vm), "<table><tbody>", "</tbody></table>")
			if got := attr(d.one("key-link"), "href"); got != tc.link {
				t.Errorf("name links to %q, want %q", got, tc.link)
			}
			var got []string
			for a := range d.one("row-menu").Descendants() {
				if a.Type == html.ElementNode && (a.Data == "a" || a.Data == "button") {
					got = append(got, attr(a, "data-testid"))
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.actions, ",") {
				t.Errorf("actions %v, want %v", got, tc.actions)
			}
			if got := textOf(d.one("api-key")); got != "kd_live_ABCD…3456" {
				t.Errorf("short key = %q", got)
			}
			copyButtons := d.all(func(n *html.Node) bool { return hasAttr(n, "data-copy") })
			if len(copyButtons) != 1 || attr(copyButtons[0], "aria-label") != "Copy API key of "+tc.vm.Key.Name ||
				attr(copyButtons[0], "data-copy") != tc.vm.Key.PublicKey {
				t.Error("the Copy button does not copy the whole key or lacks its accessible name")
			}
			if got := textOf(d.one("last-used")); got != "never" {
				t.Errorf("last used = %q", got)
			}
		})
	}
}

func TestKeyPageIsReadOnlyForDealers(t *testing.T) {
	k := testKey("DMS Sync")
	k.LastUsedAt = now.Add(-5 * 24 * time.Hour)
	k.Settings.ExpiresAt = now.Add(7 * 24 * time.Hour)
	events := []db.AuditEvent{{Action: db.AuditReveal, UserEmail: "ann@example.com", CreatedAt: now.Add(-time.Minute)}}
	for _, admin := range []bool{true, false} {
		d := render(t, KeyPage(KeyPageVM{Page: Page{Now: now, CSRF: "tok"}, Key: k, Admin: admin, Events: events}))
		if got := len(d.byTestID("key-actions")) + len(d.byTestID("activity")); (got == 2) != admin {
			t.Errorf("admin=%v: %d of actions and activity shown", admin, got)
		}
		if got := textOf(d.one("scopes")); got != "read write" {
			t.Errorf("scopes = %q", got)
		}
		if got := textOf(d.one("licenses")); got != "Leads, Capture" {
			t.Errorf("licenses = %q", got)
		}
		if got := textOf(d.one("pii-mask")); !strings.HasPrefix(got, "On") {
			t.Errorf("PII mask = %q", got)
		}
		if got := textOf(d.one("session-expiry")); !strings.Contains(got, "48 hours") {
			t.Errorf("expiry = %q", got)
		}
		if got := textOf(d.one("expires")); got != "2026-11-29 12:00:00 UTC (in 7 days)" {
			t.Errorf("expires = %q", got)
		}
		if got := textOf(d.one("last-used")); got != "5 days ago" {
			t.Errorf("last used = %q", got)
		}
		if got := textOf(d.one("secret")); got != "••••wxyz" {
			t.Errorf("secret = %q, want the mask", got)
		}
		if reveal := d.one("reveal"); attr(reveal, "aria-label") != "Reveal API secret of DMS Sync" {
			t.Error("Reveal lacks its accessible name")
		}
	}
}

func TestKeyRowSaysWhenItStops(t *testing.T) {
	retiring := testKey("Old Sync")
	retiring.Retire = db.Retirement{ReplacedBy: 8, Window: time.Hour, Deadline: now.Add(7 * 24 * time.Hour), At: now.Add(3 * time.Hour)}
	waiting := retiring
	waiting.Retire.At = time.Time{}
	expiring := testKey("Website")
	expiring.Settings.ExpiresAt = now.Add(5 * 24 * time.Hour)
	cases := []struct {
		name string
		key  db.APIKey
		want string
	}{
		{"retiring, countdown started", retiring, "ends in 3 h"},
		{"retiring, new key not used yet", waiting, "ends in 7 days at the latest"},
		{"expiring soon", expiring, "expires in 5 days"},
		{"active", testKey("DMS Sync"), ""},
	}
	for _, tc := range cases {
		d := renderIn(t, KeyRow(KeyRowVM{Key: tc.key, Admin: true, Now: now}), "<table><tbody>", "</tbody></table>")
		got := ""
		if ns := d.byTestID("status-until"); len(ns) == 1 {
			got = textOf(ns[0])
		}
		if got != tc.want {
			t.Errorf("%s: status says %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestKeyPageSaysWhenItStopped(t *testing.T) {
	revoked := testKey("Old Sync")
	revoked.RevokedAt, revoked.RevokedByEmail = now.Add(-5*time.Minute), "ann@example.com"
	paused := testKey("DMS Sync")
	paused.PausedAt = now.Add(-2 * time.Hour)
	for _, tc := range []struct {
		key  db.APIKey
		want string
	}{
		{revoked, "Revoked 5 min ago by ann@example.com It and its access tokens no longer work."},
		{paused, "Paused 2 h ago"},
	} {
		d := render(t, KeyPage(KeyPageVM{Page: Page{Now: now, CSRF: "tok"}, Key: tc.key, Admin: true}))
		if got := textOf(d.one("status")); !strings.HasPrefix(got, tc.want) {
			t.Errorf("status %q, want it to start %q", got, tc.want)
		}
		if help := textOf(d.one("credentials")); tc.key.Revoked() == strings.Contains(help, "Reveal shows it") {
			t.Errorf("revoked %v, credentials say %q", tc.key.Revoked(), help)
		}
	}
}

func TestKeyPageCaptureSettingsNeedTheLicense(t *testing.T) {
	leadsOnly := testKey("Website")
	leadsOnly.Licenses = []string{db.LicenseLeads}
	for _, tc := range []struct {
		key     db.APIKey
		showing bool
	}{{testKey("DMS Sync"), true}, {leadsOnly, false}} {
		d := render(t, KeyPage(KeyPageVM{Page: Page{Now: now, CSRF: "tok"}, Key: tc.key, Admin: true}))
		if shown := len(d.byTestID("session-expiry")) == 1; shown != tc.showing || len(d.byTestID("no-capture")) == 1 == tc.showing {
			t.Errorf("licenses %v: capture settings shown %v, want %v", tc.key.Licenses, shown, tc.showing)
		}
	}
}

func TestConfirmationFocusesCancel(t *testing.T) {
	d := render(t, KeyConfirmModal(KeyConfirmVM{Key: testKey("DMS Sync"), Action: "revoke", BackToKey: true}))
	cancel := d.one("cancel")
	if !hasAttr(cancel, "data-initial-focus") || attr(cancel, "href") != "/settings/integrations/keys/7" {
		t.Errorf("cancel: initial focus %v, href %q", hasAttr(cancel, "data-initial-focus"), attr(cancel, "href"))
	}
	if hasAttr(d.one("confirm-revoke"), "data-initial-focus") {
		t.Error("the destructive button takes the focus")
	}
}

func TestCreatedModalGuardsTheSecret(t *testing.T) {
	d := render(t, KeyCreatedModal(KeyCreatedVM{Key: testKey("DMS Sync"), Secret: "kds_live_s3cret"}))
	if len(d.all(func(n *html.Node) bool { return hasAttr(n, "data-one-time") })) != 1 {
		t.Error("the modal is not marked one-time, so a backdrop click would close it")
	}
	if ask := d.one("escape-ask"); !hasAttr(ask, "hidden") {
		t.Error("the Escape question shows before Escape")
	}
	if got := textOf(d.one("new-api-secret")); got != "kds_live_s3cret" {
		t.Errorf("secret = %q", got)
	}
}

func TestWhen(t *testing.T) {
	cases := []struct {
		at   time.Time
		want string
	}{
		{now.Add(-20 * time.Second), "just now"},
		{now.Add(-3 * time.Minute), "3 min ago"},
		{now.Add(-5 * time.Hour), "5 h ago"},
		{now.Add(-24 * time.Hour), "1 day ago"},
		{now.Add(5 * 24 * time.Hour), "in 5 days"},
		{now.Add(7*24*time.Hour - time.Minute), "in 7 days"},
		{now.Add(30*24*time.Hour - 5*time.Minute), "in 30 days"},
		{now.Add(24*time.Hour - 20*time.Minute), "in 1 day"},
		{now.Add(-7*24*time.Hour + time.Minute), "6 days ago"},
		{now.Add(-65 * 24 * time.Hour), "2 months ago"},
		{now.Add(-800 * 24 * time.Hour), "2 years ago"},
	}
	for _, tc := range cases {
		d := render(t, When(tc.at, now))
		times := d.all(func(n *html.Node) bool { return n.Data == "time" })
		if len(times) != 1 {
			t.Fatalf("%v: no <time>", tc.at)
		}
		el := times[0]
		if textOf(el) != tc.want || attr(el, "datetime") != tc.at.Format(time.RFC3339) ||
			attr(el, "title") != tc.at.Format("2006-01-02 15:04:05 UTC") || attr(el, "tabindex") != "0" {
			t.Errorf("%v: <time datetime=%q title=%q tabindex=%q>%s, want %q", tc.at, attr(el, "datetime"),
				attr(el, "title"), attr(el, "tabindex"), textOf(el), tc.want)
		}
	}
	if got := textOf(render(t, When(time.Time{}, now)).root); got != "never" {
		t.Errorf("zero time = %q", got)
	}
}

func TestKeyListURLKeepsFilterAndPages(t *testing.T) {
	vm := KeysVM{Path: "/keys", Filter: KeyListFilter{Query: "dms sync", Mode: "live", ShowRevoked: true},
		Sections: []KeySection{{Type: db.DigitalRequests, PageNum: 3}, {Type: db.Integration, PageNum: 1}}}
	cases := []struct {
		t    db.KeyType
		n    int
		want string
	}{
		{db.Integration, 2, "/keys?mode=live&page_digital_requests=3&page_integration=2&q=dms+sync&revoked=1"},
		{db.DigitalRequests, 1, "/keys?mode=live&q=dms+sync&revoked=1"},
		{"", 0, "/keys?mode=live&page_digital_requests=3&q=dms+sync&revoked=1"},
	}
	for _, tc := range cases {
		if got := vm.url(tc.t, tc.n); got != tc.want {
			t.Errorf("url(%s, %d) = %q, want %q", tc.t, tc.n, got, tc.want)
		}
	}
}

// TestDocsErrorsAreTheContractsCodes: the Developer docs' Errors table and
// the OpenAPI document's Error codes are the same list (the handler tests
// check every error answer against the latter).
func TestDocsErrorsAreTheContractsCodes(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "handlers", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas struct {
				Error struct {
					Properties struct {
						Error struct {
							Enum []string `json:"enum"`
						} `json:"error"`
					} `json:"properties"`
				} `json:"Error"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, e := range docsErrors {
		documented = append(documented, e.Code)
	}
	enum := doc.Components.Schemas.Error.Properties.Error.Enum
	slices.Sort(documented)
	slices.Sort(enum)
	if !slices.Equal(documented, enum) {
		t.Errorf("docs list %v\nOpenAPI lists %v", documented, enum)
	}
}
