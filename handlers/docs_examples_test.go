package handlers

import (
	"html"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/keys"
)

var docsBlock = regexp.MustCompile(`(?s)<pre class="code" data-testid="docs-code"><code>(.*?)</code></pre>`)

// TestDocsExamplesRun pastes the developer docs' shell examples, as a reader
// would, into bash after the setup block (with a real key and secret filled
// in) and runs them with curl and openssl against the server.
func TestDocsExamplesRun(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "openssl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	app := newTestApp(t)
	app.clock.t = time.Now().UTC() // the signed example reads the machine's clock
	acc, admin, _ := app.account("acme-motors", db.LicenseLeads, db.LicenseCapture)
	k, secret := app.key(acc, admin, "Docs check", db.Integration, keys.Live, db.LicenseLeads, db.LicenseCapture)
	body := app.browser().login(admin.Email).get("/docs").body

	var script strings.Builder
	script.WriteString("set -u\n")
	var ran []string
	for _, m := range docsBlock.FindAllStringSubmatch(body, -1) {
		code := html.UnescapeString(m[1])
		switch {
		case strings.HasPrefix(code, "export KEYDESK_URL"): // the setup block, filled in by the reader
			code = regexp.MustCompile(`(?m)^export KEYDESK_API_KEY=.*$`).ReplaceAllString(code, "export KEYDESK_API_KEY='"+k.PublicKey+"'")
			code = regexp.MustCompile(`(?m)^export KEYDESK_API_SECRET=.*$`).ReplaceAllString(code, "export KEYDESK_API_SECRET='"+secret+"'")
		case !strings.Contains(code, "curl "): // answers, Go and JavaScript
			continue
		}
		ran = append(ran, code)
		script.WriteString(code + "\necho\necho '@@ end of example @@'\n")
	}
	if len(ran) < 8 {
		t.Fatalf("found %d shell examples, want 8 or more", len(ran))
	}
	out, err := exec.Command("bash", "-c", script.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("examples failed: %v\n%s", err, out)
	}
	answers := strings.Split(string(out), "@@ end of example @@")
	wants := []string{
		"token: kdt_",          // setup
		`"access_token":"kdt_`, // token, HTTP Basic
		`"access_token":"kdt_`, // token, JSON body
		`"name":"Docs check"`,  // Bearer
		`"name":"Docs check"`,  // signed
		"201 Created",          // lead
		`"first_name":"Ann"`,   // leads list
		`"capture_url":"` + app.srv.URL + `/capture/cs_`, // capture session
		`"status":"pending"`,                             // capture sessions read
	}
	for i, want := range wants {
		if i >= len(answers) || !strings.Contains(answers[i], want) {
			t.Errorf("example %d answered without %q:\n%s\n--- the example:\n%s", i, want, at(answers, i), at(ran, i))
		}
	}
	if strings.Contains(string(out), `"error"`) {
		t.Errorf("an example answered an error:\n%s", out)
	}
}

func at(xs []string, i int) string {
	if i < len(xs) {
		return xs[i]
	}
	return ""
}
