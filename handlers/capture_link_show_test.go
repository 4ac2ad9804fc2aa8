package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCaptureLinkPage(t *testing.T) {
	app := newTestApp(t)
	f := app.captureFixture("acme")
	s := createCapture(app, f.writeAuth, goodCapture)
	path := strings.TrimPrefix(s.CaptureURL, app.srv.URL)
	anon := app.browser()

	res := anon.get(path)
	if res.status != http.StatusOK {
		t.Fatalf("GET %s: %d", path, res.status)
	}
	for _, want := range []string{"ACME", "valid until", "typed in by hand", "disclosures", "blurred"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("capture page does not say %q", want)
		}
	}
	for _, private := range []string{s.Customer.Name, s.Customer.Email, s.Customer.Phone, "1HGCM82633A004352", "1hgcm82633a004352"} {
		if strings.Contains(res.body, private) {
			t.Errorf("capture page shows %q", private)
		}
	}

	app.clock.Advance(6 * time.Hour)
	if res := anon.get(path); !strings.Contains(res.body, "This link has expired") {
		t.Error("an expired link does not say so")
	}
	for _, p := range []string{"/capture/cs_nothere", "/capture/ld_" + s.ID[3:], "/capture/" + strings.Repeat("x", 80)} {
		if res := anon.get(p); res.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, res.status)
		}
	}
}
