package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// The API's contract, handlers/openapi.json, loaded and checked once per test binary.
var contract struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func loadContract() (*openapi3.T, routers.Router, error) {
	contract.once.Do(func() {
		// Formats kin-openapi leaves unchecked unless defined.
		openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
		openapi3.DefineStringFormatValidator("uri", openapi3.NewCallbackValidator(func(s string) error {
			if u, err := url.Parse(s); err != nil || !u.IsAbs() || u.Host == "" {
				return fmt.Errorf("%q is not an absolute URI", s)
			}
			return nil
		}))
		loader := openapi3.NewLoader()
		contract.doc, contract.err = loader.LoadFromData(openAPIDoc)
		if contract.err == nil {
			// NewRouter validates the document itself first.
			contract.router, contract.err = legacy.NewRouter(contract.doc)
		}
	})
	return contract.doc, contract.router, contract.err
}

// checkContract fails the test when an API answer does not match
// openapi.json: an undocumented status, a missing documented header, or a
// body outside its schema. An answer to a path or method the document does
// not list must still be a documented Error. Every API call of the handler
// tests goes through here (testApp.call and browser.do).
func checkContract(t testing.TB, req *http.Request, res response) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/") {
		return
	}
	doc, router, err := loadContract()
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	// The document's server is the relative /api/v1: route on the path alone.
	routed := req.Clone(req.Context())
	routed.URL.Scheme, routed.URL.Host = "", ""
	route, params, err := router.FindRoute(routed)
	if err != nil {
		checkUndocumentedRoute(t, doc, req, res)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.status,
		Header:                 res.header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes([]byte(res.body))
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s → %d does not match openapi.json: %v\nbody: %s", req.Method, req.URL.Path, res.status, err, res.body)
	}
}

// checkUndocumentedRoute: keydesk answers a path or method outside the
// document with a JSON Error, as the document's description promises.
func checkUndocumentedRoute(t testing.TB, doc *openapi3.T, req *http.Request, res response) {
	t.Helper()
	if res.status < 400 {
		t.Errorf("%s %s is not in openapi.json, yet answered %d", req.Method, req.URL.Path, res.status)
		return
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s → %d: Content-Type %q, want an application/json Error", req.Method, req.URL.Path, res.status, ct)
		return
	}
	var body any
	if err := json.Unmarshal([]byte(res.body), &body); err != nil {
		t.Errorf("%s %s → %d: body is not JSON: %q", req.Method, req.URL.Path, res.status, res.body)
		return
	}
	schema := doc.Components.Schemas["Error"].Value
	if err := schema.VisitJSON(body, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		t.Errorf("%s %s → %d is not an Error of openapi.json: %v\nbody: %s", req.Method, req.URL.Path, res.status, err, res.body)
	}
}

func TestContractDocumentLoads(t *testing.T) {
	doc, _, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
}

// contractRecorder keeps what checkContract reports instead of failing.
type contractRecorder struct {
	testing.TB
	errs []string
}

func (r *contractRecorder) Helper() {}
func (r *contractRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestContractCheckCatchesDrift: the check the harness runs on every API
// answer refuses what breaks the document.
func TestContractCheckCatchesDrift(t *testing.T) {
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	lead := `{"id":"ld_1","received_at":"2026-11-22T12:00:00Z","mode":"live","api_key_name":"Web","contact":{"last_name":"Lee","phone":"5550102030"}`
	tests := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		want               string // part of the report; "" for none
	}{
		{"a lead as documented", "GET", "/api/v1/leads/ld_1", 200, jsonCT, lead + `}`, ""},
		{"an empty VIN", "GET", "/api/v1/leads/ld_1", 200, jsonCT, lead + `,"vehicle":{"vin":""}}`, "/vehicle/vin"},
		{"an empty email", "GET", "/api/v1/leads/ld_1", 200, jsonCT,
			`{"id":"ld_1","received_at":"2026-11-22T12:00:00Z","mode":"live","api_key_name":"Web","contact":{"last_name":"Lee","email":""}}`, "/contact/email"},
		{"a required field missing", "GET", "/api/v1/leads/ld_1", 200, jsonCT, `{"id":"ld_1"}`, "received_at"},
		{"a bad time", "GET", "/api/v1/leads/ld_1", 200, jsonCT,
			`{"id":"ld_1","received_at":"yesterday","mode":"live","api_key_name":"Web","contact":{"last_name":"Lee"}}`, "received_at"},
		{"an undocumented status", "GET", "/api/v1/leads/ld_1", 418, jsonCT, `{"error":"teapot","error_description":"No."}`, "status is not supported"},
		{"an error without its sentence", "GET", "/api/v1/leads/ld_1", 404, jsonCT, `{"error":"not_found"}`, "error_description"},
		{"an unknown path answered with an Error", "GET", "/api/v1/nothing", 404, jsonCT, `{"error":"not_found","error_description":"No such API."}`, ""},
		{"an unknown path answered with HTML", "GET", "/api/v1/nothing", 404, http.Header{"Content-Type": {"text/html"}}, `<p>no</p>`, "Content-Type"},
		{"an unknown path answered 200", "GET", "/api/v1/nothing", 200, jsonCT, `{}`, "not in openapi.json"},
		{"a method the path does not take", "DELETE", "/api/v1/leads", 405, jsonCT, `{"error":"method_not_allowed"}`, "is not an Error"},
		{"the dashboard is not checked", "GET", "/keys", 200, http.Header{"Content-Type": {"text/html"}}, `<p>keys</p>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, "http://127.0.0.1:1"+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			rec := &contractRecorder{TB: t}
			checkContract(rec, req, response{status: tt.status, header: tt.header, body: tt.body})
			got := strings.Join(rec.errs, "\n")
			switch {
			case tt.want == "" && got != "":
				t.Errorf("reported %s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("report %q does not mention %q", got, tt.want)
			}
		})
	}
}
