package handlers

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"keydesk/db"
)

// TestKeyNote sets a key's note through the Create and Edit forms and finds
// it on the key's page (a dealer's too), in the form and in the audit log;
// a note too long is refused next to its field, keeping what was typed.
func TestKeyNote(t *testing.T) {
	app := newTestApp(t)
	acc, _, _ := app.account("acme", db.LicenseLeads)
	admin := app.browser().login("admin@acme.test")
	note := "Website contact form.\nAgency: Jo Park, 555-0100"

	form := validKeyForm("Website form", db.DigitalRequests)
	form.Set("note", strings.Repeat("x", 501))
	res := admin.post("/settings/integrations", "/settings/integrations/keys", form)
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `data-testid="error-note"`) ||
		!strings.Contains(res.body, "The note is 501 characters long: shorten it to 500") || !strings.Contains(res.body, strings.Repeat("x", 501)) {
		t.Fatalf("a note too long: %d, want 422 with the message by the field and the text kept", res.status)
	}
	form.Set("note", note)
	admin.shownOnce(admin.post("/settings/integrations", "/settings/integrations/keys", form))
	ks, _ := app.db.APIKeys(t.Context(), acc.ID, db.DigitalRequests)
	if len(ks) != 1 || ks[0].Settings.Note != note {
		t.Fatalf("stored keys %+v, want one with the note", ks)
	}
	page := "/settings/integrations/keys/" + itoa(ks[0].ID)
	for _, who := range []struct{ name, path string }{{"admin", page}, {"dealer", "/keys/" + itoa(ks[0].ID)}} {
		b := admin
		if who.name == "dealer" {
			b = app.browser().login("dealer@acme.test")
		}
		if body := b.get(who.path).body; !strings.Contains(body, `data-testid="setting-note">`+html.EscapeString(note)+`<`) {
			t.Errorf("the %s's key page does not show the note", who.name)
		}
	}
	if edit := admin.get(page + "/edit").body; !strings.Contains(edit, ">"+html.EscapeString(note)+"</textarea>") {
		t.Error("the Edit form does not hold the note")
	}
	edited := validKeyForm("Website form", db.DigitalRequests)
	edited.Set("note", "Call Jo.")
	if res := admin.post(page+"/edit", page, edited); res.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", res.status, res.body)
	}
	if audit := admin.get("/settings/audit").body; !strings.Contains(audit, html.EscapeString("Note “Website contact form., Agency: Jo Park, 555-0100” → “Call Jo.”")) {
		t.Error("the audit log does not say how the note changed")
	}
}
