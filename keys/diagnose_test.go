package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"
)

// integratorMAC signs as a client would, without this package's Sign.
func integratorMAC(secret, text string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(text))
	return m.Sum(nil)
}

func TestDiagnoseSignature(t *testing.T) {
	const (
		slug, name, key = "demo-dealership", "Demo Dealership", "kd_live_example"
		secret          = "kds_live_own-secret"
		testSecret      = "kds_test_sibling-secret"
	)
	now := time.Date(2026, 11, 23, 20, 6, 40, 0, time.UTC)
	iso := now.Format(TimestampLayout)
	unix := strconv.FormatInt(now.Unix(), 10)
	hexOf := func(secret, text string) string { return hex.EncodeToString(integratorMAC(secret, text)) }
	others := []OtherSecret{{Secret: testSecret, Label: "the secret of the test key “Website (test)”"}}
	tests := []struct {
		name            string
		timestamp, tok  string
		version         string
		want            string
		wantInMessage   string
		wantSkew        time.Duration
		wantExpectedEnd string
	}{
		{"unix seconds in the header and the signed text", unix, hexOf(secret, slug+":"+key+"@"+unix), "",
			FindingUnixTimestamp, "the timestamp must be " + iso, 0, "@" + iso},
		{"unix seconds in the signed text only", iso, hexOf(secret, slug+":"+key+"@"+unix), "",
			FindingUnixTimestamp, "must be " + iso + ", exactly as in API-Timestamp", 0, "@" + iso},
		{"local time marked as UTC", now.Add(-5 * time.Hour).Format(TimestampLayout),
			hexOf(secret, slug+":"+key+"@"+now.Add(-5*time.Hour).Format(TimestampLayout)), "",
			FindingLocalTime, "5 h behind", 5 * time.Hour, ""},
		{"local time without a zone", "2026-11-23T15:06:40", hexOf(secret, slug+":"+key+"@2026-11-23T15:06:40"), "",
			FindingLocalTime, "is a local time", 0, ""},
		{"a clock a few minutes off", now.Add(-7*time.Minute - 12*time.Second).Format(TimestampLayout),
			hexOf(secret, slug+":"+key+"@"+now.Add(-7*time.Minute-12*time.Second).Format(TimestampLayout)), "",
			FindingClockSkew, "7 min 12 s behind", 7*time.Minute + 12*time.Second, ""},
		{"the account's name as slug", iso, hexOf(secret, name+":"+key+"@"+iso), "",
			FindingWrongSlug, `"Demo Dealership"`, 0, ""},
		{"underscores in the slug", iso, hexOf(secret, "demo_dealership:"+key+"@"+iso), "",
			FindingWrongSlug, `"demo_dealership"`, 0, ""},
		{"no slug at all", iso, hexOf(secret, key+"@"+iso), "",
			FindingWrongSlug, "without the account slug", 0, ""},
		{"upper-case hex", iso, strings.ToUpper(hexOf(secret, slug+":"+key+"@"+iso)), "",
			FindingUpperHex, "lower case", 0, ""},
		{"base64", iso, base64.StdEncoding.EncodeToString(integratorMAC(secret, slug+":"+key+"@"+iso)), "",
			FindingBase64, "base64", 0, ""},
		{"the test key's secret", iso, hexOf(testSecret, slug+":"+key+"@"+iso), "",
			FindingOtherSecret, "test key", 0, ""},
		{"a newline after the secret", iso, hexOf(secret+"\n", slug+":"+key+"@"+iso), "",
			FindingSecretSpace, "trim the secret", 0, ""},
		{"v1 text under a v2 header", iso, hexOf(secret, slug+":"+key+"@"+iso), "2",
			FindingV1UnderV2, "version 1 text", 0, ""},
		{"another secret altogether", iso, hexOf("kds_live_someone-else", slug+":"+key+"@"+iso), "",
			FindingNoCommonReason, slug + ":" + key + "@" + iso, 0, ""},
		{"garbage", iso, "not-a-mac", "", FindingUnreadableMAC, "9 characters were sent that are neither hex nor base64", 0, ""},
		{"no API-Token", iso, "", "", FindingUnreadableMAC, "missing or empty", 0, ""},
		{"a short hex string", iso, "deadbeef", "", FindingMACLength, "8 hex characters (4 bytes) were sent: it looks cut short", 0, ""},
		{"a truncated MAC", iso, hexOf(secret, slug+":"+key+"@"+iso)[:40], "", FindingMACLength, "40 hex characters (20 bytes) were sent: that is the length of a SHA-1", 0, ""},
		{"a MAC missing its last character", iso, hexOf(secret, slug+":"+key+"@"+iso)[:63], "", FindingMACLength, "63 hex characters (31 bytes) were sent: it looks cut short", 0, ""},
		{"an HMAC-SHA512", iso, strings.Repeat("ab", 64), "", FindingMACLength, "(64 bytes) were sent: that is the length of a SHA-512", 0, ""},
		{"base64 of an MD5", iso, base64.StdEncoding.EncodeToString(make([]byte, 16)), "", FindingMACLength, "24 characters of base64 (16 bytes) were sent: that is the length of an MD5", 0, ""},
		{"a timestamp in no known form", "yesterday 5pm", hexOf(secret, slug+":"+key+"@yesterday 5pm"), "", FindingBadTimestamp, `"yesterday 5pm" is not a time keydesk can read: send UTC as YYYY-MM-DDTHH:MM:SSZ (e.g. ` + iso, 0, ""},
		{"no timestamp", "", hexOf(secret, slug+":"+key+"@"), "", FindingBadTimestamp, "missing or empty", 0, ""},
		{"a right signature", iso, hexOf(secret, slug+":"+key+"@"+iso), "", FindingMatches, "another reason", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DiagnoseSignature(SignedAttempt{Slug: slug, AccountName: name, APIKey: key,
				Timestamp: tt.timestamp, Token: tt.tok, Version: tt.version, Received: now}, secret, others)
			if !d.Has(tt.want) {
				t.Fatalf("findings %+v, want %s", d.Findings, tt.want)
			}
			found := false
			for _, f := range d.Findings {
				found = found || f.Code == tt.want && strings.Contains(f.Message, tt.wantInMessage)
				if strings.Contains(f.Message, secret) || strings.Contains(f.Message, testSecret) {
					t.Fatalf("a finding reveals a secret: %q", f.Message)
				}
			}
			if !found {
				t.Errorf("findings %+v: none says %q", d.Findings, tt.wantInMessage)
			}
			if tt.wantSkew != 0 && (!d.SkewKnown || d.Skew != tt.wantSkew) {
				t.Errorf("skew %v (known %v), want %v", d.Skew, d.SkewKnown, tt.wantSkew)
			}
			if !strings.HasPrefix(d.Expected, slug+":"+key+"@") || !strings.HasSuffix(d.Expected, tt.wantExpectedEnd) {
				t.Errorf("expected text %q", d.Expected)
			}
		})
	}
}

func TestSecretPrintIsKeyed(t *testing.T) {
	a, b := SecretPrint([]byte("k1"), "kds_live_x"), SecretPrint([]byte("k2"), "kds_live_x")
	if len(a) != 8 || hmac.Equal(a, b) || !hmac.Equal(a, SecretPrint([]byte("k1"), "kds_live_x")) {
		t.Fatalf("prints %x %x", a, b)
	}
}

// integratorV2 signs a version 2 request as the Developer docs tell a
// client to, without this package's code: six lines joined by \n.
func integratorV2(secret, method, target, ts, slugAndKey, bodyHex string) string {
	text := strings.Join([]string{"2", method, target, ts, slugAndKey, bodyHex}, "\n")
	return hex.EncodeToString(integratorMAC(secret, text))
}

func TestDiagnoseSignatureV2(t *testing.T) {
	const (
		slug, name, key = "demo-dealership", "Demo Dealership", "kd_live_example"
		secret          = "kds_live_own-secret"
		testSecret      = "kds_test_sibling-secret"
		target          = "/api/v1/leads?source=web%20form&limit=10"
	)
	now := time.Date(2026, 11, 23, 20, 6, 40, 0, time.UTC)
	iso := now.Format(TimestampLayout)
	body := []byte(`{"contact":{"first_name":"Ann"}}`)
	sum := sha256.Sum256(body)
	bodyHex := hex.EncodeToString(sum[:])
	pretty := sha256.Sum256([]byte("{\n  \"contact\": {\n    \"first_name\": \"Ann\"\n  }\n}"))
	empty := sha256.Sum256(nil)
	others := []OtherSecret{{Secret: testSecret, Label: "the secret of the test key “Website (test)”"}}
	sk := slug + ":" + key
	tests := []struct {
		name, tok, want, wantInMessage string
	}{
		{"a right signature", integratorV2(secret, "POST", target, iso, sk, bodyHex), FindingMatches, "another reason"},
		{"signed before the body was attached", integratorV2(secret, "POST", target, iso, sk, hex.EncodeToString(empty[:])),
			FindingEmptyBody, "SHA-256 is " + bodyHex},
		{"the body changed after signing", integratorV2(secret, "POST", target, iso, sk, hex.EncodeToString(pretty[:])),
			FindingBodyChanged, "body that changed after it was signed"},
		{"the path without its query", integratorV2(secret, "POST", "/api/v1/leads", iso, sk, bodyHex),
			FindingTargetQuery, "exactly as sent, " + target},
		{"the target decoded", integratorV2(secret, "POST", "/api/v1/leads?source=web form&limit=10", iso, sk, bodyHex),
			FindingTargetDecoded, "percent-encoding included"},
		{"the method in lower case", integratorV2(secret, "post", target, iso, sk, bodyHex), FindingMethodCase, "upper case, POST"},
		{"the body hash in upper case", integratorV2(secret, "POST", target, iso, sk, strings.ToUpper(bodyHex)), FindingBodyHashCase, "lower case"},
		{"a newline after the last line", hex.EncodeToString(integratorMAC(secret,
			strings.Join([]string{"2", "POST", target, iso, sk, bodyHex}, "\n")+"\n")), FindingTrailingLine, "add none after the last"},
		{"unix seconds in the signed text", integratorV2(secret, "POST", target, strconv.FormatInt(now.Unix(), 10), sk, bodyHex),
			FindingUnixTimestamp, "must carry " + iso},
		{"the account's name as slug", integratorV2(secret, "POST", target, iso, name+":"+key, bodyHex), FindingWrongSlug, `"Demo Dealership"`},
		{"the test key's secret", integratorV2(testSecret, "POST", target, iso, sk, bodyHex), FindingOtherSecret, "test key"},
		{"the v1 text under the v2 header", hex.EncodeToString(integratorMAC(secret, sk+"@"+iso)), FindingV1UnderV2, sk + "@" + iso},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DiagnoseSignature(SignedAttempt{Slug: slug, AccountName: name, APIKey: key, Timestamp: iso, Token: tt.tok,
				Version: "2", Received: now, Method: "POST", Target: target, BodySum: sum[:]}, secret, others)
			if len(d.Findings) != 1 || d.Findings[0].Code != tt.want || !strings.Contains(d.Findings[0].Message, tt.wantInMessage) {
				t.Fatalf("findings %+v, want only %s saying %q", d.Findings, tt.want, tt.wantInMessage)
			}
			if strings.Contains(d.Findings[0].Message, secret) || strings.Contains(d.Findings[0].Message, testSecret) {
				t.Fatalf("a finding reveals a secret: %q", d.Findings[0].Message)
			}
			if want := CanonicalV2("POST", target, iso, slug, key, sum); d.Expected != want {
				t.Errorf("expected text %q, want %q", d.Expected, want)
			}
		})
	}
}
