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
	m.Write(appendMessage(nil, slug, apiKey, timestamp))
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
	macs sync.Pool // *macState
}

// macState is a keyed HMAC with room for a message and a sum, so nothing
// handed to the hash escapes to the heap.
type macState struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

// NewVerifier returns a Verifier for secret.
func NewVerifier(secret string) *Verifier {
	v := &Verifier{}
	v.macs.New = func() any { return &macState{h: hmac.New(sha256.New, []byte(secret)), buf: make([]byte, 0, 512)} }
	return v
}

// Verify reports in constant time whether token is the lower-case hex
// signature of "<slug>:<apiKey>@<timestamp>".
func (v *Verifier) Verify(slug, apiKey, timestamp, token string) bool {
	m := v.macs.Get().(*macState)
	m.buf = appendMessage(m.buf[:0], slug, apiKey, timestamp)
	return v.verify(m, token)
}

// VerifyV2 reports in constant time whether token is the lower-case hex
// version 2 signature of a request (see CanonicalV2).
func (v *Verifier) VerifyV2(method, target, timestamp, slug, apiKey string, bodySum [sha256.Size]byte, token string) bool {
	m := v.macs.Get().(*macState)
	m.buf = appendCanonicalV2(m.buf[:0], method, target, timestamp, slug, apiKey, bodySum)
	return v.verify(m, token)
}

// verify checks token against the MAC of the message in m.buf and puts m back.
func (v *Verifier) verify(m *macState, token string) bool {
	defer v.macs.Put(m)
	var got [sha256.Size]byte
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
	m.h.Reset()
	m.h.Write(m.buf)
	m.h.Sum(m.sum[:0])
	return hmac.Equal(m.sum[:], got[:])
}

// CanonicalV2 is the text a version 2 signature covers: six lines joined by
// "\n" with no trailing newline — "2", the method in upper case, the request
// target exactly as sent (path and query), the API-Timestamp value,
// "<account slug>:<API key>", and the lower-case hex SHA-256 of the body as
// received (of the empty string when there is none). It binds a signature
// to one method, path, query and body, so a captured header set cannot be
// replayed as another request.
func CanonicalV2(method, target, timestamp, slug, apiKey string, bodySum [sha256.Size]byte) string {
	return string(appendCanonicalV2(nil, method, target, timestamp, slug, apiKey, bodySum))
}

func appendCanonicalV2(msg []byte, method, target, timestamp, slug, apiKey string, bodySum [sha256.Size]byte) []byte {
	msg = append(msg, "2\n"...)
	for i := 0; i < len(method); i++ {
		c := method[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		msg = append(msg, c)
	}
	msg = append(append(msg, '\n'), target...)
	msg = append(append(msg, '\n'), timestamp...)
	msg = append(append(append(append(msg, '\n'), slug...), ':'), apiKey...)
	msg = append(msg, '\n')
	return hex.AppendEncode(msg, bodySum[:])
}

// SignV2 returns the version 2 API-Token of a request with this body.
func SignV2(secret, method, target, timestamp, slug, apiKey string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(appendCanonicalV2(nil, method, target, timestamp, slug, apiKey, sha256.Sum256(body)))
	return hex.EncodeToString(m.Sum(nil))
}

func appendMessage(msg []byte, slug, apiKey, timestamp string) []byte {
	return append(append(append(append(append(msg, slug...), ':'), apiKey...), '@'), timestamp...)
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

// ParseTimestamp reads an API-Timestamp, accepting only the documented
// layout: what time.Parse(TimestampLayout, s) accepts, read by hand (it is
// on every signed request, and time.Parse's general reader cost a quarter
// of checking the signature).
func ParseTimestamp(s string) (time.Time, bool) {
	// 2006-01-02T15:04:05Z
	// 01234567890123456789
	if len(s) != len(TimestampLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return time.Time{}, false
	}
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, second := num(11, 13), num(14, 16), num(17, 19)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || second < 0 || second > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, 0, time.UTC)
	if t.Day() != day { // the 31st of a 30-day month, the 29th of February in most years
		return time.Time{}, false
	}
	return t, true
}
