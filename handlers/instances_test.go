package handlers

import (
	"net/http"
	"strings"
	"testing"

	"keydesk/db"
	"keydesk/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Sessions live in the database: a person who signs in through one instance
// stays signed in whichever instance answers next, and signing out through
// one ends the session on all.
func TestSessionCarriesAcrossInstances(t *testing.T) {
	dsn := dbtest.URL(t)
	one, two := newTestAppOn(t, dsn), newTestAppOn(t, dsn)
	_, admin, _ := one.account("acme", db.LicenseLeads)

	onOne := one.browser().login(admin.Email)
	onTwo := &browser{app: two, client: onOne.client} // the same browser, another instance behind the balancer
	if res := onTwo.get("/settings/integrations"); res.status != http.StatusOK || !strings.Contains(res.body, "Create New Key") {
		t.Fatalf("instance two after sign-in on one: status %d", res.status)
	}
	// A form read from one instance posts to the other.
	if res := onTwo.post("/settings/integrations", "/logout", nil); res.status != http.StatusSeeOther {
		t.Fatalf("sign out on two: status %d", res.status)
	}
	if res := onOne.get("/settings/integrations"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
		t.Errorf("instance one after sign-out on two: status %d to %q, want a redirect to /login", res.status, res.header.Get("Location"))
	}
}
