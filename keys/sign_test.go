package keys

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// hmacSHA256 is HMAC written out from RFC 2104, so the test does not trust
// crypto/hmac, which Sign uses.
func hmacSHA256(key, msg []byte) []byte {
	const block = 64
	if len(key) > block {
		k := sha256.Sum256(key)
		key = k[:]
	}
	pad := make([]byte, block)
	copy(pad, key)
	inner, outer := make([]byte, block), make([]byte, block)
	for i := range pad {
		inner[i], outer[i] = pad[i]^0x36, pad[i]^0x5c
	}
	ih := sha256.Sum256(append(inner, msg...))
	oh := sha256.Sum256(append(outer, ih[:]...))
	return oh[:]
}

// documentedSignature follows the recipe of the developer docs word by word.
func documentedSignature(secret, slug, apiKey, timestamp string) string {
	return fmt.Sprintf("%x", hmacSHA256([]byte(secret), []byte(slug+":"+apiKey+"@"+timestamp)))
}

func TestSignMatchesDocumentedRecipe(t *testing.T) {
	tests := []struct{ secret, slug, key, ts string }{
		{NewSecret(Live), "acme-motors", NewAPIKey(Live), "2026-11-22T12:00:00Z"},
		{NewSecret(Test), "a", NewAPIKey(Test), "1999-01-01T00:00:00Z"},
		{strings.Repeat("s", 100), "long-secret", NewAPIKey(Live), "2030-12-31T23:59:59Z"},
	}
	for _, tt := range tests {
		want := documentedSignature(tt.secret, tt.slug, tt.key, tt.ts)
		if got := Sign(tt.secret, tt.slug, tt.key, tt.ts); got != want {
			t.Errorf("Sign = %s, want %s", got, want)
		}
		if !VerifySignature(tt.secret, tt.slug, tt.key, tt.ts, want) {
			t.Errorf("VerifySignature refused the documented signature")
		}
	}
}

func TestSignKnownAnswer(t *testing.T) {
	// RFC 4231 test case 2 pins the reference HMAC itself.
	got := fmt.Sprintf("%x", hmacSHA256([]byte("Jefe"), []byte("what do ya want for nothing?")))
	const want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Fatalf("reference HMAC is wrong: %s", got)
	}
	if Sign("Jefe", "what do ya want for nothing?", "", "")[:8] == want[:8] {
		t.Fatal("Sign ignores the ':' and '@' framing")
	}
}

func TestVerifySignatureRefuses(t *testing.T) {
	secret, key, ts := NewSecret(Live), NewAPIKey(Live), "2026-11-22T12:00:00Z"
	good := Sign(secret, "acme", key, ts)
	tests := []struct {
		name                         string
		secret, slug, key, ts, token string
	}{
		{"other secret", NewSecret(Live), "acme", key, ts, good},
		{"other slug", secret, "acme2", key, ts, good},
		{"other key", secret, "acme", NewAPIKey(Live), ts, good},
		{"other time", secret, "acme", key, "2026-11-22T12:00:01Z", good},
		{"upper-case hex", secret, "acme", key, ts, strings.ToUpper(good)},
		{"truncated", secret, "acme", key, ts, good[:63]},
		{"empty", secret, "acme", key, ts, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if VerifySignature(tt.secret, tt.slug, tt.key, tt.ts, tt.token) {
				t.Error("accepted")
			}
		})
	}
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-11-22T12:00:00Z", time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), true},
		{"2000-02-29T23:59:59Z", time.Date(2000, 2, 29, 23, 59, 59, 0, time.UTC), true},
		{"2026-11-22T12:00:00+00:00", time.Time{}, false},
		{"2026-11-22T12:00:00.000Z", time.Time{}, false},
		{"2026-11-22 12:00:00Z", time.Time{}, false},
		{"2026-11-22T12:00:00z", time.Time{}, false},
		{"2026-11-22T12:00Z", time.Time{}, false},
		{"1763812800", time.Time{}, false},
		{"Sun, 22 Nov 2026 12:00:00 GMT", time.Time{}, false},
		{"2026-13-22T12:00:00Z", time.Time{}, false},
		{"2026-02-30T12:00:00Z", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseTimestamp(tt.in)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseTimestamp(f *testing.F) {
	f.Add("2026-11-22T12:00:00Z")
	f.Add("2026-11-22T12:00:00+00:00")
	f.Add("9999-12-31T23:59:59Z")
	f.Add("")
	f.Add("2026-02-29T12:00:00Z")
	f.Add("2024-02-29T24:00:00Z")
	f.Add("2026-04-31T12:60:00Z")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseTimestamp(s)
		// It accepts what time.Parse does, at the documented length.
		ref, err := time.Parse(TimestampLayout, s)
		if want := err == nil && len(s) == len(TimestampLayout); ok != want || ok && !got.Equal(ref) {
			t.Fatalf("ParseTimestamp(%q) = %v, %v; time.Parse: %v, %v", s, got, ok, ref, err)
		}
		if !ok {
			if !got.IsZero() {
				t.Fatalf("ParseTimestamp(%q) refused but returned %v", s, got)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTimestamp(%q) not UTC: %v", s, got)
		}
		if back := got.Format(TimestampLayout); back != s {
			t.Fatalf("ParseTimestamp(%q) accepted a non-canonical form (%q)", s, back)
		}
	})
}

func TestVerifierAgreesWithSign(t *testing.T) {
	secret := NewSecret(Live)
	v := NewVerifier(secret)
	key := NewAPIKey(Live)
	good := Sign(secret, "demo-dealership", key, "2026-11-22T12:00:00Z")
	cases := []struct {
		name, slug, ts, token string
		want                  bool
	}{
		{"the signature", "demo-dealership", "2026-11-22T12:00:00Z", good, true},
		{"upper-case hex", "demo-dealership", "2026-11-22T12:00:00Z", strings.ToUpper(good), false},
		{"another slug", "other", "2026-11-22T12:00:00Z", good, false},
		{"another second", "demo-dealership", "2026-11-22T12:00:01Z", good, false},
		{"one digit changed", "demo-dealership", "2026-11-22T12:00:00Z", good[:63] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", good[63])+1)%16]), false},
		{"too short", "demo-dealership", "2026-11-22T12:00:00Z", good[:62], false},
		{"not hex", "demo-dealership", "2026-11-22T12:00:00Z", "zz" + good[2:], false},
		{"empty", "demo-dealership", "2026-11-22T12:00:00Z", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Twice: the second call reuses a pooled HMAC state.
			for range 2 {
				if got := v.Verify(tc.slug, key, tc.ts, tc.token); got != tc.want {
					t.Fatalf("Verify = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestVerifierIsSafeForConcurrentUse(t *testing.T) {
	secret := NewSecret(Test)
	v := NewVerifier(secret)
	key := NewAPIKey(Test)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				ts := fmt.Sprintf("2026-11-22T12:%02d:%02dZ", i, j%60)
				if !v.Verify("slug", key, ts, Sign(secret, "slug", key, ts)) {
					t.Errorf("signature %d/%d refused", i, j)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestVerifierAllocatesNothing(t *testing.T) {
	v := NewVerifier("kds_live_secret")
	ts := "2026-11-23T20:06:40Z"
	v1 := Sign("kds_live_secret", "acme", "kd_live_x", ts)
	sum := sha256.Sum256([]byte(`{"a":1}`))
	v2 := SignV2("kds_live_secret", "POST", "/api/v1/leads", ts, "acme", "kd_live_x", []byte(`{"a":1}`))
	if n := testing.AllocsPerRun(100, func() {
		if !v.Verify("acme", "kd_live_x", ts, v1) || !v.VerifyV2("post", "/api/v1/leads", ts, "acme", "kd_live_x", sum, v2) {
			t.Fatal("a good signature was refused")
		}
	}); n != 0 {
		t.Errorf("%v allocations per verification, want 0", n)
	}
}

// TestSignV2FollowsTheRecipe signs the way the Developer docs tell a client
// to, with nothing from this package but the secret, and checks the result.
func TestSignV2FollowsTheRecipe(t *testing.T) {
	secret, ts, body := "kds_live_s3cret", "2026-11-23T20:06:40Z", []byte(`{"first_name":"Ann"}`)
	bodyHash := sha256.Sum256(body)
	text := strings.Join([]string{"2", "POST", "/api/v1/leads?dry=1", ts, "demo:kd_live_abc", hex.EncodeToString(bodyHash[:])}, "\n")
	want := hex.EncodeToString(hmacSHA256([]byte(secret), []byte(text)))
	if got := SignV2(secret, "POST", "/api/v1/leads?dry=1", ts, "demo", "kd_live_abc", body); got != want {
		t.Fatalf("SignV2 = %s, want %s", got, want)
	}
	if got := CanonicalV2("post", "/api/v1/leads?dry=1", ts, "demo", "kd_live_abc", bodyHash); got != text {
		t.Fatalf("CanonicalV2 = %q, want %q", got, text)
	}
	v := NewVerifier(secret)
	for name, tc := range map[string]struct {
		method, target string
		body           []byte
	}{
		"another method": {"GET", "/api/v1/leads?dry=1", body},
		"another path":   {"POST", "/api/v1/capture-sessions?dry=1", body},
		"another query":  {"POST", "/api/v1/leads", body},
		"another body":   {"POST", "/api/v1/leads?dry=1", []byte(`{"first_name":"Bob"}`)},
	} {
		if v.VerifyV2(tc.method, tc.target, ts, "demo", "kd_live_abc", sha256.Sum256(tc.body), want) {
			t.Errorf("%s: a replayed signature was accepted", name)
		}
	}
}
