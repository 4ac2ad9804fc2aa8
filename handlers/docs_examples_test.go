package handlers

import (
	"html"
	"os"
	"os/exec"
	"path/filepath"
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
		`{"id":"ld_`,           // a lead signed with version 2
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

// TestDocsV2ExamplesRun runs the developer docs' Go and JavaScript version 2
// signers, as printed on the page, against the server: each posts a lead.
func TestDocsV2ExamplesRun(t *testing.T) {
	app := newTestApp(t)
	app.clock.t = time.Now().UTC() // the examples read the machine's clock
	acc, admin, _ := app.account("acme-motors", db.LicenseLeads)
	k, secret := app.key(acc, admin, "Docs v2", db.Integration, keys.Live, db.LicenseLeads)
	body := app.browser().login(admin.Email).get("/docs").body
	block := func(marker string) string {
		for _, m := range docsBlock.FindAllStringSubmatch(body, -1) {
			if code := html.UnescapeString(m[1]); strings.Contains(code, marker) {
				return code
			}
		}
		t.Fatalf("no example with %q on the docs page", marker)
		return ""
	}
	env := append(os.Environ(), "KEYDESK_API_KEY="+k.PublicKey, "KEYDESK_API_SECRET="+secret)
	leads := func() int {
		ls, err := app.db.Leads(t.Context(), acc.ID, db.LeadFilter{PageFilter: db.PageFilter{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		return len(ls)
	}
	write := func(dir, name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, tool string
		files      func(dir string) []string // writes the program, returns the command
	}{
		{"Go", "go", func(dir string) []string {
			snippet := block("func signV2(")
			usage := snippet[strings.Index(snippet, "// body :="):]
			main := "package main\n\nimport (\n\t\"bytes\"\n\t\"fmt\"\n\t\"io\"\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() {\n" +
				strings.ReplaceAll(usage, "// ", "") + "\n\tres, err := http.DefaultClient.Do(req)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n" +
				"\tanswer, _ := io.ReadAll(res.Body)\n\tfmt.Println(res.StatusCode, string(answer))\n}\n"
			write(dir, "go.mod", "module docscheck\n\ngo 1.24\n")
			write(dir, "sign.go", "package main\n\n"+snippet[:strings.Index(snippet, "// body :=")])
			write(dir, "main.go", main)
			return []string{"go", "run", "."}
		}},
		{"JavaScript", "node", func(dir string) []string {
			write(dir, "sign.mjs", block("signedV2Headers("))
			return []string{"node", "sign.mjs"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := exec.LookPath(tt.tool); err != nil {
				t.Skipf("%s is not installed", tt.tool)
			}
			before := leads()
			dir := t.TempDir()
			args := tt.files(dir)
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Dir, cmd.Env = dir, env
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), "201 ") {
				t.Fatalf("the %s example answered %v:\n%s", tt.name, err, out)
			}
			if leads() != before+1 {
				t.Errorf("the %s example did not store its lead", tt.name)
			}
		})
	}
}
