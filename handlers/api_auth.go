package handlers

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
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

// scopeSet is a set of OAuth scopes as bits.
type scopeSet uint8

const (
	scopeRead scopeSet = 1 << iota
	scopeWrite
)

// list is s's scopes one by one, as the API lists them; the slices are
// shared, never to be changed.
func (s scopeSet) list() []string {
	switch s {
	case scopeRead | scopeWrite:
		return scopesReadWrite
	case scopeRead:
		return scopesRead
	case scopeWrite:
		return scopesWrite
	}
	return []string{}
}

var scopesReadWrite, scopesRead, scopesWrite = []string{"read", "write"}, []string{"read"}, []string{"write"}

func (s scopeSet) String() string {
	switch s {
	case scopeRead | scopeWrite:
		return "read write"
	case scopeRead:
		return "read"
	case scopeWrite:
		return "write"
	}
	return ""
}

// parseScope reads a space-separated scope list (RFC 6749 §3.3).
func parseScope(s string) (scopeSet, bool) {
	var set scopeSet
	for _, part := range strings.Split(s, " ") {
		switch part {
		case "read":
			set |= scopeRead
		case "write":
			set |= scopeWrite
		case "":
		default:
			return 0, false
		}
	}
	return set, true
}

// keyScope is what a key's type allows.
func keyScope(t db.KeyType) scopeSet {
	if t == db.Integration {
		return scopeRead | scopeWrite
	}
	return scopeWrite
}

// apiCaller is who made an authenticated API request.
type apiCaller struct {
	live    *live.Key
	key     *db.APIKey
	account *db.Account
	scope   scopeSet
	via     string // db.AuthBearer or db.AuthSignature
}

// apiHandler is an API handler that runs only for an authenticated caller.
type apiHandler func(c echo.Context, caller *apiCaller) error

// api authenticates a request by Bearer token or signature, checks scope and
// license, records the key's use and runs fn.
func (h *Handlers) api(need scopeSet, license string, fn apiHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := h.inStep(c); err != nil {
			h.nameCaller(c)
			return err
		}
		caller, err := h.authenticate(c)
		if err != nil {
			return err
		}
		authenticated(c, caller.key, caller.via)
		h.db.TouchAPIKey(caller.key.ID, h.requestTime(c))
		h.setSunset(c, caller.key)
		if caller.scope&need != need {
			why := "which this key's type does not grant."
			if keyScope(caller.key.Type)&need == need {
				// The key may; the Bearer token was asked for with less.
				why = "which this access token was not issued with: ask for a token with scope \"" + keyScope(caller.key.Type).String() + "\"."
			}
			return bearerChallenge(c, http.StatusForbidden, "insufficient_scope", "This call needs the "+need.String()+" scope, "+why)
		}
		if license != "" && (!slices.Contains(caller.key.Licenses, license) || !caller.account.Holds(license)) {
			return &web.APIError{Status: http.StatusForbidden, Code: "missing_license_" + license,
				Message: fmt.Sprintf("This call needs the %q license, which this key does not hold.", license)}
		}
		return fn(c, caller)
	}
}

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

func (h *Handlers) authenticate(c echo.Context) (*apiCaller, error) {
	r := c.Request()
	authz := r.Header.Get(echo.HeaderAuthorization)
	sig := signatureHeaders{
		apiKey:    firstHeader(r.Header, canonicalAPIKey),
		timestamp: firstHeader(r.Header, canonicalAPITimestamp),
		token:     firstHeader(r.Header, canonicalAPIToken),
		version:   firstHeader(r.Header, canonicalAPISignatureVersion),
	}
	signed := sig.apiKey != "" || sig.timestamp != "" || sig.token != ""
	switch {
	case authz != "" && signed:
		return nil, &web.APIError{Status: http.StatusBadRequest, Code: "invalid_request",
			Message: "Authenticate with a Bearer token or with signature headers, not both."}
	case signed:
		return h.authenticateSignature(c, sig)
	case authz != "":
		return h.authenticateBearer(c, authz)
	}
	c.Response().Header().Set("WWW-Authenticate", `Bearer realm="keydesk"`)
	return nil, &web.APIError{Status: http.StatusUnauthorized, Code: "missing_credentials",
		Message: "Send Authorization: Bearer <access token>, or sign the request with API-Key, API-Timestamp and API-Token."}
}

var (
	errNotBearer      = errors.New("authorization is not a Bearer credential")
	errMalformedToken = errors.New("malformed access token")
)

// parseBearer reads "Bearer <token>" (RFC 6750 §2.1) and checks the token's length.
func parseBearer(header string) (string, error) {
	scheme, token, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errNotBearer
	}
	token = strings.TrimLeft(token, " ")
	if len(token) != keys.TokenLen || !strings.HasPrefix(token, keys.TokenPrefix) {
		return "", errMalformedToken
	}
	return token, nil
}

func (h *Handlers) authenticateBearer(c echo.Context, header string) (*apiCaller, error) {
	token, err := parseBearer(header)
	if errors.Is(err, errNotBearer) {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="keydesk"`)
		return nil, &web.APIError{Status: http.StatusUnauthorized, Code: "missing_credentials",
			Message: "The Authorization header must be \"Bearer <access token>\"."}
	}
	if err != nil {
		return nil, bearerChallenge(c, http.StatusUnauthorized, "invalid_token", "The access token is malformed.")
	}
	k, t, err := h.live.Token(token, c.RealIP())
	if r, ok := err.(*live.Refusal); ok {
		if r.Status != 0 {
			return nil, refusal(c, r)
		}
		return nil, bearerChallenge(c, http.StatusUnauthorized, r.Code, r.Message)
	}
	if err != nil {
		return nil, err
	}
	if k == nil {
		noteOf(c).namedByToken(h.live, token)
		return nil, bearerChallenge(c, http.StatusUnauthorized, "invalid_token", "The access token is unknown, expired or revoked.")
	}
	return &apiCaller{live: k, key: &k.APIKey, account: k.Account, scope: scopeSet(t.Scope) & keyScope(k.Type), via: db.AuthBearer}, nil
}

// setSunset announces when a key stops working (RFC 8594): a retiring key's
// deadline, or an expiry that is near.
func (h *Handlers) setSunset(c echo.Context, k *db.APIKey) {
	if t := h.live.Sunset(k); !t.IsZero() {
		c.Response().Header().Set("Sunset", t.UTC().Format(http.TimeFormat))
	}
}

// refusal is the API error of a key refused by the live state, with the
// Retry-After and RateLimit headers of a limit's refusal.
func refusal(c echo.Context, r *live.Refusal) error {
	for _, h := range r.Headers() {
		c.Response().Header().Set(h[0], h[1])
	}
	status := r.Status
	if status == 0 {
		status = http.StatusUnauthorized
	}
	return &web.APIError{Status: status, Code: r.Code, Message: r.Message}
}

// bearerChallenge is an RFC 6750 §3 error: the WWW-Authenticate header and the same in the JSON body.
func bearerChallenge(c echo.Context, status int, code, description string) error {
	quoted := strings.NewReplacer(`"`, "'", `\`, "/").Replace(description) // RFC 6750 §3: no quote or backslash
	c.Response().Header().Set("WWW-Authenticate",
		`Bearer realm="keydesk", error="`+code+`", error_description="`+quoted+`"`)
	return &web.APIError{Status: status, Code: code, Message: description}
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

var errBadSignature = &web.APIError{Status: http.StatusUnauthorized, Code: "invalid_signature",
	Message: "The signature does not match: check the API key, the secret, the account slug and the signed text."}

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

// inStep refuses API calls while this instance is behind the change log: a
// revoke it has not applied yet may already have been answered elsewhere.
func (h *Handlers) inStep(c echo.Context) error {
	if h.live.InSync() {
		return nil
	}
	c.Response().Header().Set("Retry-After", "2")
	return &web.APIError{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
		Message: "This keydesk instance cannot confirm which keys are valid right now; try again in a few seconds."}
}

// apiNotFound answers unknown API paths in JSON, keeping them out of the
// dashboard's sign-in redirect: 405 when the path exists for another method.
func (h *Handlers) apiNotFound(c echo.Context) error {
	var allow []string
	for _, r := range c.Echo().Routes() {
		if r.Method != c.Request().Method && r.Method != echo.RouteNotFound && !strings.HasSuffix(r.Path, "*") &&
			strings.HasPrefix(r.Path, "/api/") && routeMatches(r.Path, c.Request().URL.Path) {
			allow = append(allow, r.Method)
		}
	}
	if len(allow) > 0 {
		c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
		return &web.APIError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
			Message: "This endpoint does not take " + c.Request().Method + " requests."}
	}
	return &web.APIError{Status: http.StatusNotFound, Code: "not_found",
		Message: "There is no such API endpoint; see /api/v1/openapi.json."}
}

// routeMatches reports whether path fits an Echo route pattern with :params.
func routeMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if !strings.HasPrefix(ps[i], ":") && ps[i] != xs[i] || strings.HasPrefix(ps[i], ":") && xs[i] == "" {
			return false
		}
	}
	return true
}
