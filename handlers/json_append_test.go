package handlers

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAppendedJSONIsEncodingJSON(t *testing.T) {
	names := []string{"", "CRM", `quote " back \ slash`, "<script>&amp;</script>", "tab\tnew\nline\r\x01\x1f",
		"Sämi’s Autohaus 🚗", "line\u2028para\u2029", "bad \xff utf8 \xc3", "\x7f del"}
	for _, name := range names {
		k := keyInfo{Name: name, APIKey: "kd_live_abc", Type: "integration", Mode: "live", Scope: "read write",
			Scopes: []string{"read", "write"}, Licenses: []string{}, Account: name, AuthenticatedBy: "bearer"}
		want, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n') // as json.Encoder, which c.JSON uses, ends it
		if got := k.appendJSON(nil); string(got) != string(want) {
			t.Errorf("name %q:\n got %s\nwant %s", name, got, want)
		}
	}
	for _, r := range []leadReceipt{
		{ID: "ld_2ab3", ReceivedAt: time.Date(2026, 12, 7, 6, 5, 9, 0, time.UTC)},
		{ID: "ld_test_zz", ReceivedAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600))},
		{ID: `odd " id`, ReceivedAt: time.Unix(0, 0)},
	} {
		want, err := json.Marshal(leadReceipt{ID: r.ID, ReceivedAt: r.ReceivedAt.UTC()})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		if got := r.appendJSON(nil); string(got) != string(want) {
			t.Errorf("receipt %v:\n got %s\nwant %s", r, got, want)
		}
	}
	k := keyInfo{Licenses: nil, Scopes: []string{"read"}}
	if got, want := string(k.appendJSON(nil)), `"licenses":[]`; !strings.Contains(got, want) {
		t.Errorf("no licenses: %s, want %s in it", got, want)
	}
}

// FuzzAppendJSONString holds appendJSONString to encoding/json for any
// string: go test -run '^$' -fuzz AppendJSONString ./handlers
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "CRM", `a"b\c`, "<a>&", "\t\n\r\x00\x1f\x7f", "Sämi’s 🚗", "\u2028\u2029", "\xff\xc3", "plain ascii then é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}
