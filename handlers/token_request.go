package handlers

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"keydesk/web"
)

// clientRequest is a request to the token or revocation endpoint once its
// body and Authorization header are read (RFC 6749 §2.3.1, §4.4.2; RFC 7009 §2.1).
type clientRequest struct {
	clientID     string
	clientSecret string
	grantType    string
	hasGrantType bool
	scope        string
	token        string // the token to revoke
	json         bool
}

// oauthError is an RFC 6749 §5.2 error.
type oauthError struct {
	status      int
	code        string
	description string
}

func invalidRequest(description string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", description}
}

var errInvalidClient = &oauthError{http.StatusUnauthorized, "invalid_client",
	"Client authentication failed: the API key or secret is unknown, wrong, malformed or revoked."}

// reply turns e into the JSON error, with the Basic challenge for invalid_client.
func (e *oauthError) reply(c echo.Context) error {
	if e.code == "invalid_client" {
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="keydesk"`)
	}
	return &web.APIError{Status: e.status, Code: e.code, Message: e.description}
}

var errNotBasic = errors.New("authorization is not a Basic credential")

// parseBasicAuth reads "Basic base64(id:secret)" where id and secret are
// form-urlencoded first (RFC 6749 §2.3.1).
func parseBasicAuth(header string) (id, secret string, err error) {
	scheme, encoded, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", errNotBasic
	}
	// Decoded into a buffer of the usual size on the stack, grown only for
	// longer credentials (DecodeString allocates one more): only the string
	// made of it is allocated.
	var buf [192]byte
	raw, err := base64.StdEncoding.Strict().AppendDecode(buf[:0], []byte(strings.TrimLeft(encoded, " ")))
	if err != nil {
		return "", "", errors.New("basic credentials are not base64")
	}
	rawID, rawSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", errors.New("basic credentials have no colon")
	}
	if id, err = formUnescape(rawID); err != nil {
		return "", "", errors.New("basic user is not form-urlencoded")
	}
	if secret, err = formUnescape(rawSecret); err != nil {
		return "", "", errors.New("basic password is not form-urlencoded")
	}
	if id == "" || secret == "" {
		return "", "", errors.New("basic credentials are empty")
	}
	return id, secret, nil
}

// parseTokenForm reads a form body into req as url.ParseQuery would (pairs
// split at '&', none with a ';', names and values unescaped), but without
// building a map for the five names it knows; a repeated name is refused.
func parseTokenForm(body string, req *clientRequest) *oauthError {
	var seenBuf [8]string
	seen := seenBuf[:0]
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if strings.IndexByte(pair, ';') >= 0 {
			return invalidRequest("The form body is not valid application/x-www-form-urlencoded.")
		}
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, err1 := formUnescape(name)
		value, err2 := formUnescape(value)
		if err1 != nil || err2 != nil {
			return invalidRequest("The form body is not valid application/x-www-form-urlencoded.")
		}
		if slices.Contains(seen, name) {
			return invalidRequest("The parameter " + name + " is repeated.")
		}
		seen = append(seen, name)
		switch name {
		case "client_id":
			req.clientID = value
		case "client_secret":
			req.clientSecret = value
		case "grant_type":
			req.grantType, req.hasGrantType = value, true
		case "scope":
			req.scope = value
		case "token":
			req.token = value
		}
	}
	return nil
}

// formUnescape is url.QueryUnescape, which a string with neither '%' nor
// '+' (nearly every credential) skips.
func formUnescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	return url.QueryUnescape(s)
}

var formBufs = sync.Pool{New: func() any { return new([4 << 10]byte) }}

// readClientRequest reads the body; only a body over 1 MiB is returned as a
// plain error (413), anything else wrong as an oauthError.
func readClientRequest(r *http.Request) (clientRequest, *oauthError, error) {
	var body []byte
	var err error
	if n := r.ContentLength; n >= 0 && n <= 64<<10 {
		// A form of known size: one read, into a pooled buffer when it is
		// the usual small one (free again once parsed: parseClientRequest
		// keeps no byte of it).
		if n <= 4<<10 {
			bp := formBufs.Get().(*[4 << 10]byte)
			defer formBufs.Put(bp)
			body = bp[:n]
		} else {
			body = make([]byte, n)
		}
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(r.Body)
	}
	if err != nil {
		if web.IsTooLarge(err) {
			return clientRequest{}, nil, err
		}
		return clientRequest{}, invalidRequest("The request body could not be read."), nil
	}
	req, oerr := parseClientRequest(r.Header.Get(echo.HeaderContentType), body, r.Header.Get(echo.HeaderAuthorization))
	return req, oerr, nil
}

// parseClientRequest reads a token or revocation request: a form body (or a
// JSON one), the client authenticated by Basic or by credentials in the body.
func parseClientRequest(contentType string, body []byte, authz string) (clientRequest, *oauthError) {
	var req clientRequest
	mediaType := ""
	if contentType == "application/x-www-form-urlencoded" {
		mediaType = contentType // what nearly every client sends, as is
	} else if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return req, &oauthError{http.StatusUnsupportedMediaType, "unsupported_media_type",
				"Send application/x-www-form-urlencoded (or application/json)."}
		}
		mediaType = mt
	}
	switch {
	case mediaType == "application/x-www-form-urlencoded" || mediaType == "" && len(body) == 0:
		if oerr := parseTokenForm(string(body), &req); oerr != nil {
			return req, oerr
		}
	case mediaType == "application/json":
		var in struct {
			APIKey    *string `json:"api_key"`
			APISecret *string `json:"api_secret"`
			GrantType *string `json:"grant_type"`
			Scope     *string `json:"scope"`
			Token     *string `json:"token"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return req, invalidRequest("The body is not a JSON object of strings such as {\"api_key\": \"…\", \"api_secret\": \"…\"}.")
		}
		deref := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		req.json = true
		req.clientID, req.clientSecret = deref(in.APIKey), deref(in.APISecret)
		req.hasGrantType = in.GrantType != nil
		req.grantType, req.scope, req.token = deref(in.GrantType), deref(in.Scope), deref(in.Token)
	default:
		return req, &oauthError{http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Send application/x-www-form-urlencoded (or application/json)."}
	}

	inBody := req.clientID != "" || req.clientSecret != ""
	if authz != "" {
		if inBody {
			return req, invalidRequest("Authenticate the client one way only: the Authorization header or the body.")
		}
		id, secret, err := parseBasicAuth(authz)
		if err != nil {
			return req, errInvalidClient
		}
		req.clientID, req.clientSecret = id, secret
	} else if inBody && (req.clientID == "" || req.clientSecret == "") {
		if req.json {
			return req, invalidRequest("Send both api_key and api_secret.")
		}
		return req, invalidRequest("Send both client_id and client_secret.")
	}
	return req, nil
}
