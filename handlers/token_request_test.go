package handlers

import (
	"net/url"
	"testing"
)

// referenceTokenForm is what parseTokenForm replaced: url.ParseQuery and a
// check that no name repeats.
func referenceTokenForm(body string) (clientRequest, bool) {
	var req clientRequest
	form, err := url.ParseQuery(body)
	if err != nil {
		return req, false
	}
	for _, values := range form {
		if len(values) > 1 {
			return req, false
		}
	}
	req.clientID, req.clientSecret = form.Get("client_id"), form.Get("client_secret")
	_, req.hasGrantType = form["grant_type"]
	req.grantType, req.scope, req.token = form.Get("grant_type"), form.Get("scope"), form.Get("token")
	return req, true
}

// FuzzParseTokenForm holds parseTokenForm to url.ParseQuery for any body:
// go test -run '^$' -fuzz ParseTokenForm ./handlers
func FuzzParseTokenForm(f *testing.F) {
	for _, body := range []string{
		"", "grant_type=client_credentials", "grant_type=client_credentials&scope=read+write",
		"client_id=kd_live_a&client_secret=kds%5Flive_b&grant_type=client_credentials",
		"grant_type=a&grant_type=b", "grant_type", "grant_type=&&scope=read", "a=1;b=2", "token=%zz",
		"%67rant_type=client_credentials", "x=1&x=2", "scope=read%20write&token=t",
	} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var got clientRequest
		oerr := parseTokenForm(body, &got)
		want, ok := referenceTokenForm(body)
		if (oerr == nil) != ok {
			t.Fatalf("%q: refused %v, reference accepts %v", body, oerr, ok)
		}
		if ok && got != want {
			t.Fatalf("%q:\n got %+v\nwant %+v", body, got, want)
		}
	})
}
