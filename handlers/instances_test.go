package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/db/dbtest"
	"keydesk/keys/live"
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

// A key revoked through one instance is refused by every other one on the
// very next request: the revoke's response is not sent before that holds.
func TestRevokeReachesEveryInstanceBeforeItReturns(t *testing.T) {
	dsn := dbtest.URL(t)
	a, b, c := newTestAppOn(t, dsn), newTestAppOn(t, dsn), newTestAppOn(t, dsn)
	f := a.apiFixture("acme")
	tok := b.token(f.rw.PublicKey, f.rwSecret)
	others := map[string]*testApp{"a": a, "c": c}
	for name, x := range others {
		if res := x.call("GET", "/api/v1/key", "", "", bearer(tok)); res.status != 200 {
			t.Fatalf("a token issued by b is refused by %s: %d %s", name, res.status, res.body)
		}
	}
	// An edit through c is seen by a at once.
	admin := c.browser().login(f.admin.Email)
	form := validKeyForm("CRM (renamed)", db.Integration)
	if res := admin.post("/settings/integrations", "/settings/integrations/keys/"+itoa(f.rw.ID), form); res.status != 303 {
		t.Fatalf("edit through c: %d %s", res.status, res.body)
	}
	if res := a.call("GET", "/api/v1/key", "", "", bearer(tok)); !strings.Contains(res.body, "CRM (renamed)") {
		t.Errorf("a after an edit through c: %s", res.body)
	}
	onB := b.browser().login(f.admin.Email)
	revoke := "/settings/integrations/keys/" + itoa(f.rw.ID) + "/revoke"
	if res := onB.post(revoke, revoke, nil); res.status != 303 {
		t.Fatalf("revoke through b: %d %s", res.status, res.body)
	}
	for name, x := range others {
		expectError(t, x.call("GET", "/api/v1/key", "", "", bearer(tok)), 401, "invalid_token")
		expectError(t, x.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, x.clock.Now())), 401, "invalid_signature")
		expectError(t, x.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
			map[string]string{"Authorization": basic(f.rw.PublicKey, f.rwSecret)}), 401, "invalid_client")
		if res := x.call("GET", "/api/v1/key", "", "", bearer(x.token(f.write.PublicKey, f.writeSecret))); res.status != 200 {
			t.Errorf("instance %s refuses another key after the revoke: %d", name, res.status)
		}
	}
}

// An instance killed during a revoke does not hold the revoke up for long:
// its heartbeat goes stale, and by then it would have stopped serving.
func TestRevokeReturnsWhenAnInstanceWasKilled(t *testing.T) {
	dsn := dbtest.URL(t)
	a, b := newTestAppOn(t, dsn), newTestAppOn(t, dsn)
	f := a.apiFixture("acme")
	// A third instance registers, then dies without a word: it never reads the log again.
	store, err := db.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := live.New(t.Context(), store, live.Options{Sealer: testSealer(t), Clock: a.clock.Now, InstanceID: "killed", Shared: true}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	admin := a.browser().login(f.admin.Email)
	revoke := "/settings/integrations/keys/" + itoa(f.rw.ID) + "/revoke"
	began := time.Now()
	if res := admin.post(revoke, revoke, nil); res.status != 303 {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	if took := time.Since(began); took > 6*time.Second {
		t.Errorf("the revoke took %v with a killed instance, want a few seconds at most", took)
	}
	expectError(t, b.call("GET", "/api/v1/key", "", "", signedHeaders("acme", f.rw.PublicKey, f.rwSecret, b.clock.Now())), 401, "invalid_signature")
}

// While the database is away an instance cannot know what was revoked, so it
// stops serving API calls within about two seconds; it recovers on its own.
func TestInstancesStopServingWhileTheDatabaseIsAway(t *testing.T) {
	dsn := dbtest.URL(t)
	a := newTestAppOn(t, dsn)
	f := a.apiFixture("acme")
	tok := a.token(f.rw.PublicKey, f.rwSecret)
	admin := a.browser().login(f.admin.Email)
	restore := dbtest.Outage(t)
	down := time.Now()
	until := func(status int, within time.Duration) (time.Duration, response) {
		t.Helper()
		for start := time.Now(); ; {
			res := a.call("GET", "/api/v1/key", "", "", bearer(tok))
			if res.status == status {
				return time.Since(start), res
			}
			if time.Since(start) > within {
				t.Fatalf("no %d within %v: last %d %s", status, within, res.status, res.body)
			}
			time.Sleep(50 * time.Millisecond) // polling for the server to notice; no clock rule is waited on
		}
	}
	tookDown, res := until(503, 5*time.Second)
	expectError(t, res, 503, "temporarily_unavailable")
	if res.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	a.clock.Advance(readyCacheFor) // past the cached answer of the database
	if r := a.readyz(); r.status != 503 {
		t.Errorf("readyz while the database is away: %d %q, want 503", r.status, r.body)
	}
	if page := admin.get("/settings/integrations"); page.status < 500 || !strings.Contains(page.body, `data-testid="error-page"`) {
		t.Errorf("dashboard while the database is away: %d, want an error page", page.status)
	}
	restore()
	tookUp, _ := until(200, 10*time.Second)
	a.clock.Advance(readyCacheFor)
	if r := a.readyz(); r.status != 200 {
		t.Errorf("readyz once the database is back: %d %q, want 200", r.status, r.body)
	}
	t.Logf("database stopped: API refused after %v; restarted: API served again %v later (%v in all)",
		tookDown.Round(time.Millisecond), tookUp.Round(time.Millisecond), time.Since(down).Round(time.Millisecond))
}
