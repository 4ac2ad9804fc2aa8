package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/keys/live"
	"keydesk/web"
)

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

var errBadSignature = &web.APIError{Status: http.StatusUnauthorized, Code: "invalid_signature",
	Message: "The signature does not match: check the API key, the secret, the account slug and the signed text."}

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
