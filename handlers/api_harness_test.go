package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/keys"
)

// call sends one API request with a plain client (no cookies) and returns the answer.
func (a *testApp) call(method, path, contentType, body string, header map[string]string) response {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	setHeader(req, header)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, body: string(raw)}
	checkContract(a.t, req, out)
	return out
}

// requestIDField is the request_id of a JSON error, which differs on every request.
var requestIDField = regexp.MustCompile(`,"request_id":"[A-Za-z0-9._-]+"`)

// withoutRequestID is a JSON error body without its request_id, to compare two answers.
func withoutRequestID(body string) string { return requestIDField.ReplaceAllString(body, "") }

const formType = "application/x-www-form-urlencoded"

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// token exchanges a key for an access token and fails the test if it cannot.
func (a *testApp) token(public, secret string) string {
	a.t.Helper()
	res := a.call("POST", "/api/v1/auth/token", formType, "grant_type=client_credentials",
		map[string]string{"Authorization": basic(public, secret)})
	if res.status != 200 {
		a.t.Fatalf("token: %d %s", res.status, res.body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal([]byte(res.body), &out)
	return out.AccessToken
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// signedHeaders signs like an integrator would from the documentation,
// without keydesk's own keys.Sign.
func signedHeaders(slug, public, secret string, at time.Time) map[string]string {
	ts := at.UTC().Format("2006-01-02T15:04:05Z")
	m := hmac.New(sha256.New, []byte(secret))
	io.WriteString(m, slug+":"+public+"@"+ts)
	return map[string]string{"API-Key": public, "API-Timestamp": ts, "API-Token": hex.EncodeToString(m.Sum(nil))}
}

// apiFixture is an account with one key of each type, live, holding leads.
type apiFixture struct {
	acc                   db.Account
	admin, dealer         db.User
	write, rw             db.APIKey
	writeSecret, rwSecret string
}

func (a *testApp) apiFixture(slug string) apiFixture {
	a.t.Helper()
	acc, admin, dealer := a.account(slug, db.LicenseLeads, db.LicenseCapture)
	w, ws := a.key(acc, admin, "Website form", db.DigitalRequests, keys.Live, db.LicenseLeads)
	rw, rws := a.key(acc, admin, "CRM", db.Integration, keys.Live, db.LicenseLeads)
	return apiFixture{acc: acc, admin: admin, dealer: dealer, write: w, rw: rw, writeSecret: ws, rwSecret: rws}
}

// apiError decodes an API error body.
func apiError(t *testing.T, r response) (code, description string) {
	t.Helper()
	var e struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("error body is not JSON: %q", r.body)
	}
	if e.Description == "" {
		t.Errorf("error %q has no description", e.Code)
	}
	return e.Code, e.Description
}

// expectError checks status and code and that the answer is JSON.
func expectError(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if got, _ := apiError(t, r); got != code {
		t.Fatalf("error %q, want %q: %s", got, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// leadCount counts an account's leads of both modes.
func (a *testApp) leadCount(accountID int64) int {
	a.t.Helper()
	leads, err := a.db.Leads(a.t.Context(), accountID, db.LeadFilter{PageFilter: db.PageFilter{Limit: 1000}})
	if err != nil {
		a.t.Fatal(err)
	}
	return len(leads)
}
