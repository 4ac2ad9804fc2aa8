package handlers

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestOpenAPIDocumentsEveryAPIRoute(t *testing.T) {
	app := newTestApp(t)
	res := app.call("GET", "/api/v1/openapi.json", "", "", nil)
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s", res.status, res.header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(res.body), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	checked := 0
	for _, r := range app.echo.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || strings.HasSuffix(r.Path, "*") {
			continue
		}
		path := strings.TrimPrefix(r.Path, "/api/v1")
		if i := strings.Index(path, ":"); i >= 0 {
			path = path[:i] + "{" + path[i+1:] + "}"
		}
		if _, ok := doc.Paths[path][strings.ToLower(r.Method)]; !ok {
			t.Errorf("%s %s is not in openapi.json", r.Method, path)
		}
		checked++
	}
	if checked < 7 {
		t.Errorf("only %d API routes checked", checked)
	}
}
