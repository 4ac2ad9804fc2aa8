package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
	"time"
)

// TimestampLayout is the API-Timestamp header format: UTC, seconds, Z.
const TimestampLayout = "2006-01-02T15:04:05Z"

// Sign returns the PAVE-style API-Token: lower-case hex HMAC-SHA256, keyed
// with the API secret, of "<account slug>:<API key>@<API-Timestamp>".
func Sign(secret, slug, apiKey, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	writeMessage(m, slug, apiKey, timestamp)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifySignature reports in constant time whether token is the signature of the request.
func VerifySignature(secret, slug, apiKey, timestamp, token string) bool {
	return NewVerifier(secret).Verify(slug, apiKey, timestamp, token)
}

// Verifier checks the signatures of one secret. It keeps keyed HMAC states
// for reuse, so a request pays for hashing its message, not for the key
// schedule, and allocates nothing. It is safe for concurrent use.
type Verifier struct {
	macs sync.Pool
}

// NewVerifier returns a Verifier for secret.
func NewVerifier(secret string) *Verifier {
	v := &Verifier{}
	v.macs.New = func() any { return hmac.New(sha256.New, []byte(secret)) }
	return v
}

// Verify reports in constant time whether token is the lower-case hex
// signature of "<slug>:<apiKey>@<timestamp>".
func (v *Verifier) Verify(slug, apiKey, timestamp, token string) bool {
	var got, sum [sha256.Size]byte
	if len(token) != 2*sha256.Size {
		return false
	}
	for i := range got {
		hi, ok1 := lowerHex(token[2*i])
		lo, ok2 := lowerHex(token[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		got[i] = hi<<4 | lo
	}
	m := v.macs.Get().(hash.Hash)
	m.Reset()
	writeMessage(m, slug, apiKey, timestamp)
	m.Sum(sum[:0])
	v.macs.Put(m)
	return hmac.Equal(sum[:], got[:])
}

func writeMessage(m hash.Hash, slug, apiKey, timestamp string) {
	var buf [256]byte
	msg := append(append(append(append(append(buf[:0], slug...), ':'), apiKey...), '@'), timestamp...)
	m.Write(msg)
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
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
