package handlers

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"keydesk/keys"
)

func FuzzBasicAuth(f *testing.F) {
	f.Add(basic(keys.NewAPIKey(keys.Live), keys.NewSecret(keys.Live)))
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("a%20b:c+d")))
	f.Add("Basic %%%")
	f.Add("basic ")
	f.Add("Bearer x")
	f.Fuzz(func(t *testing.T, header string) {
		id, secret, err := parseBasicAuth(header)
		if err != nil {
			if id != "" || secret != "" {
				t.Fatalf("error %v with values %q %q", err, id, secret)
			}
			return
		}
		if id == "" || secret == "" {
			t.Fatalf("accepted empty credentials from %q", header)
		}
		// What was accepted encodes back to an equivalent header.
		again, again2, err := parseBasicAuth(basic(id, secret))
		if err != nil || again != id || again2 != secret {
			t.Fatalf("round trip of %q %q: %q %q %v", id, secret, again, again2, err)
		}
	})
}

func FuzzBearerToken(f *testing.F) {
	tok := keys.NewTokenMinter(make([]byte, 32)).Mint(&keys.AccessToken{KeyID: 1})
	f.Add("Bearer " + tok)
	f.Add("bearer  " + tok)
	f.Add("Bearer")
	f.Add("Basic abc")
	f.Add("Bearer kdt_")
	f.Fuzz(func(t *testing.T, header string) {
		token, err := parseBearer(header)
		if err != nil {
			if token != "" {
				t.Fatalf("error %v with token %q", err, token)
			}
			return
		}
		if len(token) != keys.TokenLen || !strings.HasPrefix(token, keys.TokenPrefix) || !strings.HasSuffix(header, token) {
			t.Fatalf("accepted %q from %q", token, header)
		}
	})
}

func FuzzSignatureHeaders(f *testing.F) {
	key, secret := keys.NewAPIKey(keys.Live), keys.NewSecret(keys.Live)
	ts := "2026-11-22T12:00:00Z"
	f.Add(key, ts, keys.Sign(secret, "acme", key, ts))
	f.Add(key, "2026-11-22T12:00:00+00:00", strings.Repeat("a", 64))
	f.Add("", "", "")
	f.Add("kd_live_x", ts, "zz")
	f.Fuzz(func(t *testing.T, apiKey, timestamp, token string) {
		req, aerr := parseSignatureHeaders(signatureHeaders{apiKey: apiKey, timestamp: timestamp, token: token})
		if aerr != nil {
			if aerr.Status != 400 && aerr.Status != 401 || aerr.Code == "" || aerr.Message == "" {
				t.Fatalf("bad error %+v", aerr)
			}
			return
		}
		if _, err := keys.ParseAPIKey(req.apiKey); err != nil || !isLowerHex(req.token, 64) {
			t.Fatalf("accepted %+v", req)
		}
		if req.at.Format(keys.TimestampLayout) != timestamp || req.at.Location() != time.UTC {
			t.Fatalf("timestamp %q read as %v", timestamp, req.at)
		}
	})
}

func FuzzClientRequest(f *testing.F) {
	f.Add(formType, "grant_type=client_credentials", "")
	f.Add("application/json", `{"api_key":"a","api_secret":"b"}`, "")
	f.Add(formType, "client_id=a", "Basic eDp5")
	f.Add("text/plain", "x", "")
	f.Fuzz(func(t *testing.T, contentType, body, authz string) {
		req, oerr := parseClientRequest(contentType, []byte(body), authz)
		if oerr != nil {
			switch oerr.code {
			case "invalid_request", "invalid_client", "unsupported_media_type":
			default:
				t.Fatalf("unexpected error code %q", oerr.code)
			}
			return
		}
		if (req.clientID == "") != (req.clientSecret == "") {
			t.Fatalf("half a credential accepted: %+v", req)
		}
		if !req.json {
			if _, err := url.ParseQuery(body); err != nil {
				t.Fatalf("accepted a bad form %q", body)
			}
		}
	})
}

func FuzzDecodeLead(f *testing.F) {
	f.Add(goodLead)
	f.Add(`{}`)
	f.Add(`{"vehicle":{"year":"x"}}`)
	f.Add(`[`)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body string) {
		in, fields := decodeLead([]byte(body), now)
		if fields != nil {
			return
		}
		// A lead that passed is stable under a second check.
		again := in
		if errs := again.normalize(now); len(errs) != 0 || again != in {
			t.Fatalf("accepted lead changes or fails on a second check: %v", errs)
		}
		if in.Contact.FirstName == "" && in.Contact.LastName == "" || in.Contact.Email == "" && in.Contact.Phone == "" {
			t.Fatalf("accepted a lead without name or contact: %+v", in)
		}
	})
}
