package handlers

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/keys/live"
	"keydesk/web"
)

// Headers of a PAVE-style signed request.
const (
	headerAPIKey       = "API-Key"
	headerAPITimestamp = "API-Timestamp"
	headerAPIToken     = "API-Token"
	// headerAPISignatureVersion "2" asks for a body-bound signature (keys.CanonicalV2).
	headerAPISignatureVersion = "API-Signature-Version"
)

// signatureMaxSkew is how far API-Timestamp may be from the server's clock.
const signatureMaxSkew = 5 * time.Minute

// The signature headers as net/http stores them: Header.Get would
// canonicalise (and allocate) "API-Key" anew on every request.
var (
	canonicalAPIKey              = textproto.CanonicalMIMEHeaderKey(headerAPIKey)
	canonicalAPITimestamp        = textproto.CanonicalMIMEHeaderKey(headerAPITimestamp)
	canonicalAPIToken            = textproto.CanonicalMIMEHeaderKey(headerAPIToken)
	canonicalAPISignatureVersion = textproto.CanonicalMIMEHeaderKey(headerAPISignatureVersion)
)

// firstHeader is h.Get for a key already in canonical form.
func firstHeader(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// signatureHeaders are the headers of a signed request, as sent.
type signatureHeaders struct {
	apiKey, timestamp, token, version string
}

// signedRequest is a signed request whose headers have the right shape.
type signedRequest struct {
	apiKey    string
	timestamp string
	at        time.Time
	token     string
	v2        bool
}

// parseSignatureHeaders checks the shape of the signature headers, offline.
func parseSignatureHeaders(s signatureHeaders) (signedRequest, *web.APIError) {
	for _, h := range []struct{ name, value string }{
		{headerAPIKey, s.apiKey}, {headerAPITimestamp, s.timestamp}, {headerAPIToken, s.token},
	} {
		if h.value == "" {
			return signedRequest{}, &web.APIError{Status: http.StatusBadRequest, Code: "invalid_request",
				Message: "A signed request needs the " + h.name + " header too."}
		}
	}
	if s.version != "" && s.version != "1" && s.version != "2" {
		return signedRequest{}, &web.APIError{Status: http.StatusBadRequest, Code: "invalid_request",
			Message: "API-Signature-Version must be 1 (the PAVE-style signature) or 2 (method, path, query and body signed too)."}
	}
	at, ok := keys.ParseTimestamp(s.timestamp)
	if !ok {
		return signedRequest{}, &web.APIError{Status: http.StatusBadRequest, Code: "invalid_timestamp",
			Message: "API-Timestamp must be UTC in the form YYYY-MM-DDTHH:MM:SSZ, e.g. 2026-01-31T14:05:09Z."}
	}
	if _, err := keys.ParseAPIKey(s.apiKey); err != nil || !isLowerHex(s.token, 64) {
		return signedRequest{}, errBadSignature
	}
	return signedRequest{apiKey: s.apiKey, timestamp: s.timestamp, at: at, token: s.token, v2: s.version == "2"}, nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (h *Handlers) authenticateSignature(c echo.Context, headers signatureHeaders) (*apiCaller, error) {
	var bodySum []byte
	caller, err := h.verifySignature(c, headers, &bodySum)
	if err != nil {
		n := noteOf(c)
		n.named(h.live, headers.apiKey, db.AuthSignature)
		r := c.Request()
		n.sent = &db.SentCredentials{Timestamp: headers.timestamp, Token: headers.token,
			Version: headers.version}
		if n.sent.Version == "2" {
			// What a version 2 signature covers, for the debugger: the body's
			// hash from the signature check, or, when the check stopped before
			// it (a stale timestamp), read now.
			n.sent.Target, n.sent.BodySum = r.RequestURI, bodySum
			if bodySum == nil {
				if sum, err := hashBody(r); err == nil {
					n.sent.BodySum = sum[:]
				}
			}
		}
	}
	var aerr *web.APIError
	if errors.As(err, &aerr) && aerr.Status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="keydesk"`)
	}
	return caller, err
}

// verifySignature checks a signed request; for version 2 it leaves the
// body's SHA-256 in bodySum.
func (h *Handlers) verifySignature(c echo.Context, headers signatureHeaders, bodySum *[]byte) (*apiCaller, error) {
	req, aerr := parseSignatureHeaders(headers)
	if aerr != nil {
		return nil, aerr
	}
	if skew := h.now().Sub(req.at); skew > signatureMaxSkew || skew < -signatureMaxSkew {
		return nil, &web.APIError{Status: http.StatusUnauthorized, Code: "stale_timestamp",
			Message: "API-Timestamp is more than 5 minutes from the server's clock: sign each request with the current UTC time."}
	}
	check := func(v *keys.Verifier, slug string) bool { return v.Verify(slug, req.apiKey, req.timestamp, req.token) }
	if req.v2 {
		sum, err := hashBody(c.Request())
		if err != nil {
			return nil, err
		}
		*bodySum = sum[:]
		r := c.Request()
		check = func(v *keys.Verifier, slug string) bool {
			return v.VerifyV2(r.Method, r.RequestURI, req.timestamp, slug, req.apiKey, sum, req.token)
		}
	}
	k, err := h.live.Signed(req.apiKey, c.RealIP(), check)
	if r, ok := err.(*live.Refusal); ok {
		return nil, refusal(c, r)
	}
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, errBadSignature
	}
	if !req.v2 && k.Settings.RequireV2 {
		return nil, &web.APIError{Status: http.StatusUnauthorized, Code: "signature_version_required",
			Message: "This key takes body-signed requests only: send API-Signature-Version: 2 and sign the method, path, query and body (see the Developer docs)."}
	}
	return &apiCaller{live: k, key: &k.APIKey, account: k.Account, scope: keyScope(k.Type), via: db.AuthSignature}, nil
}

// hashBody reads the whole body (a body over the limit is refused with 413
// before any signature is checked), hashes it and puts it back for the handler.
func hashBody(r *http.Request) ([sha256.Size]byte, error) {
	if r.Body == nil {
		return sha256.Sum256(nil), nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if web.IsTooLarge(err) {
			return [sha256.Size]byte{}, err
		}
		return [sha256.Size]byte{}, &web.APIError{Status: http.StatusBadRequest, Code: "invalid_request", Message: "The body could not be read."}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return sha256.Sum256(body), nil
}
