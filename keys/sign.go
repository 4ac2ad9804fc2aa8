package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// TimestampLayout is the API-Timestamp header format: UTC, seconds, Z.
const TimestampLayout = "2006-01-02T15:04:05Z"

// Sign returns the PAVE-style API-Token: lower-case hex HMAC-SHA256, keyed
// with the API secret, of "<account slug>:<API key>@<API-Timestamp>".
func Sign(secret, slug, apiKey, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(slug))
	m.Write([]byte{':'})
	m.Write([]byte(apiKey))
	m.Write([]byte{'@'})
	m.Write([]byte(timestamp))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifySignature reports in constant time whether token is the signature of the request.
func VerifySignature(secret, slug, apiKey, timestamp, token string) bool {
	want := Sign(secret, slug, apiKey, timestamp)
	return hmac.Equal([]byte(want), []byte(token))
}

// ParseTimestamp reads an API-Timestamp, accepting only the documented layout.
func ParseTimestamp(s string) (time.Time, bool) {
	if len(s) != len(TimestampLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(TimestampLayout, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
