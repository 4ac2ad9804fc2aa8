package db

// The request log stores a route, an outcome and a way of authenticating as
// small integer codes. Each list is append-only: a code's position is what
// the database holds, so never reorder or remove an entry.

// Routes of the API that name a key.
var requestRoutes = []string{
	"",                                 // 0: unknown
	"POST /api/v1/auth/token",          // 1
	"POST /api/v1/auth/revoke",         // 2
	"GET /api/v1/key",                  // 3
	"POST /api/v1/leads",               // 4
	"GET /api/v1/leads",                // 5
	"GET /api/v1/leads/:id",            // 6
	"POST /api/v1/capture-sessions",    // 7
	"GET /api/v1/capture-sessions",     // 8
	"GET /api/v1/capture-sessions/:id", // 9
}

// RouteToken is the token endpoint's route, as the request log names it.
const RouteToken = "POST /api/v1/auth/token"

// writeRoutes are the routes that push data in; readRoutes take data out.
var (
	writeRoutes = []int{4, 7}
	readRoutes  = []int{5, 6, 8, 9}
)

// OutcomeOK is a request that succeeded.
const OutcomeOK = "ok"

// OutcomeOther is any outcome code this list does not know yet.
const OutcomeOther = "other"

// requestOutcomes are the outcome codes: "ok" or an API error code.
var requestOutcomes = []string{
	OutcomeOther,              // 0
	OutcomeOK,                 // 1
	"invalid_request",         // 2
	"invalid_client",          // 3
	"invalid_token",           // 4
	"invalid_signature",       // 5
	"invalid_timestamp",       // 6
	"stale_timestamp",         // 7
	"insufficient_scope",      // 8
	"missing_license_leads",   // 9
	"missing_license_capture", // 10
	"temporarily_unavailable", // 11
	"throttled",               // 12: too many failed client authentications (429)
	"invalid_scope",           // 13
	"unsupported_grant_type",  // 14
	"unsupported_media_type",  // 15
	"missing_credentials",     // 16
	"validation_failed",       // 17
	"invalid_json",            // 18
	"idempotency_key_reused",  // 19
	"not_found",               // 20
	"invalid_cursor",          // 21
	"server_error",            // 22
	"request_too_large",       // 23
	// The key lifecycle's codes, recorded once those checks exist.
	"key_expired",                // 24
	"key_paused",                 // 25
	"ip_not_allowed",             // 26
	"rate_limited",               // 27
	"lead_quota_exceeded",        // 28
	"signature_version_required", // 29
	"client_closed_request",      // 30: the client left before the answer (499)
}

// Ways a request authenticated.
const (
	AuthBearer    = "bearer"
	AuthSignature = "signature"
	AuthBasic     = "basic"
	AuthForm      = "form"
	AuthJSON      = "json"
)

var requestAuths = []string{"", AuthBearer, AuthSignature, AuthBasic, AuthForm, AuthJSON}

// Outcomes lists every outcome code the request log knows, for filters.
func Outcomes() []string { return append([]string(nil), requestOutcomes...) }

// KnownOutcome reports whether code is an outcome the request log records.
func KnownOutcome(code string) bool { return codeOf(requestOutcomes, code) >= 0 }

func codeOf(list []string, name string) int {
	for i, n := range list {
		if n == name {
			return i
		}
	}
	return -1
}

// nameOf is the name of a stored code; a code from a newer keydesk is "other".
func nameOf(list []string, code int) string {
	if code < 0 || code >= len(list) {
		return list[0]
	}
	return list[code]
}
