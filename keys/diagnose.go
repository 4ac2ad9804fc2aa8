package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SignedAttempt is what the client sent with a failed signed request, and
// what the server knew when it arrived.
type SignedAttempt struct {
	Slug, AccountName, APIKey string
	// Timestamp, Token and Version are the API-Timestamp, API-Token and
	// API-Signature-Version headers as sent.
	Timestamp, Token, Version string
	// Received is the server's clock when the request arrived.
	Received time.Time
	// Method and Target are the request's method and target (path and
	// query) as sent, and BodySum the SHA-256 of the body as received: what
	// a version 2 signature covers besides the v1 text. BodySum is nil when
	// it is not known (a request logged before keydesk kept it).
	Method, Target string
	BodySum        []byte
}

// OtherSecret is a secret a client may have used by mistake, with what to call it.
type OtherSecret struct {
	Secret string
	// Label names it in a sentence: "the secret of the test key “Website”".
	Label string
}

// Finding is one thing a diagnosis found, with a stable code.
type Finding struct {
	Code    string
	Message string
}

// The codes of a diagnosis's findings.
const (
	FindingMatches        = "signature_matches"
	FindingUnixTimestamp  = "unix_timestamp"
	FindingLocalTime      = "local_time"
	FindingClockSkew      = "clock_skew"
	FindingWrongSlug      = "wrong_slug"
	FindingUpperHex       = "uppercase_hex"
	FindingBase64         = "base64_signature"
	FindingOtherSecret    = "other_secret"
	FindingSecretSpace    = "secret_whitespace"
	FindingV1UnderV2      = "v1_under_v2"
	FindingEmptyBody      = "signed_empty_body"
	FindingTargetQuery    = "target_without_query"
	FindingTargetDecoded  = "target_decoded"
	FindingMethodCase     = "method_case"
	FindingBodyHashCase   = "body_hash_case"
	FindingTrailingLine   = "trailing_newline"
	FindingBodyChanged    = "body_changed"
	FindingUnreadableMAC  = "unreadable_signature"
	FindingMACLength      = "signature_length"
	FindingBadTimestamp   = "timestamp_format"
	FindingNoCommonReason = "no_common_mistake"
)

// SignatureDiagnosis explains a failed signature without revealing the
// secret or the MAC the server expected.
type SignatureDiagnosis struct {
	// Expected is the text the server expected to be signed.
	Expected string
	// Skew is the server's clock minus the client's timestamp, when the
	// timestamp could be read at all.
	Skew      time.Duration
	SkewKnown bool
	Findings  []Finding
}

// Has reports whether the diagnosis found code.
func (d SignatureDiagnosis) Has(code string) bool {
	for _, f := range d.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

// MaxSkew is how far API-Timestamp may be from the server's clock.
const MaxSkew = 5 * time.Minute

// DiagnoseSignature finds why a signature failed by trying the common
// mistakes with the key's own secret (and others the client may have
// confused it with): each candidate signed text is MACed and compared with
// what the client sent.
func DiagnoseSignature(a SignedAttempt, secret string, others []OtherSecret) SignatureDiagnosis {
	var d SignatureDiagnosis
	at, tsMistake := readTimestamp(a.Timestamp)
	want := a.Timestamp
	if tsMistake != "" || at.IsZero() {
		want = a.Received.UTC().Format(TimestampLayout)
		if !at.IsZero() {
			want = at.UTC().Format(TimestampLayout)
		}
	}
	v2 := a.Version == "2" && len(a.BodySum) == sha256.Size
	d.Expected = a.Slug + ":" + a.APIKey + "@" + want
	if v2 {
		d.Expected = v2Text(strings.ToUpper(a.Method), a.Target, want, a.Slug, a.APIKey, hex.EncodeToString(a.BodySum))
	}
	if !at.IsZero() {
		d.Skew, d.SkewKnown = a.Received.Sub(at).Round(time.Second), true
	}

	if at.IsZero() {
		d.add(FindingBadTimestamp, badTimestamp(a.Timestamp, want))
	}
	mac, format := readMAC(a.Token)
	if format == "" {
		d.add(unreadableMAC(a.Token))
	}
	var match *candidate
	if mac != nil {
		cands := v1Candidates(a, at, secret, others)
		if v2 {
			cands = v2Candidates(a, at, secret, others)
		}
		match = firstMatch(cands, mac)
	}
	if match != nil {
		if match.message != "" {
			d.add(match.code, match.message)
		}
		switch format {
		case "upper":
			d.add(FindingUpperHex, "API-Token was sent in upper-case hex: send it in lower case.")
		case "base64":
			d.add(FindingBase64, "API-Token was sent in base64: send the MAC as 64 lower-case hex characters.")
		}
		if a.Version == "2" && !v2 {
			d.add(FindingV1UnderV2, "The request says API-Signature-Version: 2 but was signed over the version 1 text: sign the version 2 text, or leave the header out.")
		}
	}
	if tsMistake == FindingUnixTimestamp && (match == nil || match.code != FindingUnixTimestamp) {
		msg := "API-Timestamp was sent as Unix time (" + a.Timestamp + "): it must be " + want + "."
		if match != nil && match.code == "" {
			msg = "Signed over " + match.text + " — the timestamp must be " + want + " (UTC, YYYY-MM-DDTHH:MM:SSZ), in API-Timestamp and in the signed text."
		}
		d.add(FindingUnixTimestamp, msg)
	}
	if tsMistake == FindingLocalTime {
		d.add(FindingLocalTime, "API-Timestamp "+a.Timestamp+" is a local time: send UTC with a Z, e.g. "+want+".")
	}
	if d.SkewKnown && tsMistake == "" && (d.Skew > MaxSkew || d.Skew < -MaxSkew) {
		d.add(skewFinding(d.Skew))
	}
	if match != nil && len(d.Findings) == 0 {
		d.add(FindingMatches, "The signature is right for this key: the request was refused for another reason.")
	}
	switch {
	case match == nil && format != "" && v2:
		d.add(FindingBodyChanged, "The signature matches no text this request could have been signed over with this key's secret: "+
			"the method, target, timestamp, slug and key as received were tried with the body as received and with no body, and with each common mistake. "+
			"The most likely cause is a body that changed after it was signed (JSON serialised again by an HTTP library, keys reordered, spacing or a final newline added): "+
			"sign the exact bytes you send. Otherwise the client signs with a secret that is not this key's.")
	case match == nil && format != "":
		d.add(FindingNoCommonReason, "No common mistake explains the signature: the client signs with another secret or another text. The text to sign is "+d.Expected+".")
	}
	return d
}

func (d *SignatureDiagnosis) add(code, message string) {
	d.Findings = append(d.Findings, Finding{Code: code, Message: message})
}

// skewFinding tells a client clock that is off from one set to local time:
// a whole number of quarter hours (time zones) within two minutes.
func skewFinding(skew time.Duration) (string, string) {
	abs := skew.Abs()
	zone := abs.Round(15 * time.Minute)
	direction := "behind"
	if skew < 0 {
		direction = "ahead of"
	}
	if zone > 0 && zone <= 14*time.Hour && (abs-zone).Abs() <= 2*time.Minute {
		return FindingLocalTime, fmt.Sprintf("API-Timestamp is %s %s the server's clock: the client sends its local time marked as UTC; send the UTC time.", ShortDuration(zone), direction)
	}
	return FindingClockSkew, fmt.Sprintf("API-Timestamp is %s %s the server's clock (5 minutes allowed): set the client's clock by NTP.", ShortDuration(abs), direction)
}

// ShortDuration says a clock difference briefly: "5 h", "7 min 12 s".
func ShortDuration(d time.Duration) string {
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%d h %d min", h, m)
	case h > 0:
		return fmt.Sprintf("%d h", h)
	case m > 0 && s > 0:
		return fmt.Sprintf("%d min %d s", m, s)
	case m > 0:
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d s", s)
}

// readTimestamp reads an API-Timestamp, documented or not; the mistake says which.
func readTimestamp(s string) (time.Time, string) {
	if t, ok := ParseTimestamp(s); ok {
		return t, ""
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		if n > 1e12 { // milliseconds
			return time.UnixMilli(n).UTC(), FindingUnixTimestamp
		}
		return time.Unix(n, 0).UTC(), FindingUnixTimestamp
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04:05-07:00", "2006-01-02T15:04:05.000Z07:00", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), FindingLocalTime
		}
	}
	return time.Time{}, ""
}

// badTimestamp says what is wrong with an API-Timestamp that could not be
// read as a time at all; want is the server's clock in the right form.
func badTimestamp(sent, want string) string {
	if sent == "" {
		return "API-Timestamp was missing or empty: send the time of signing in UTC, e.g. " + want + ", and sign that same text."
	}
	return fmt.Sprintf("API-Timestamp %q is not a time keydesk can read: send UTC as YYYY-MM-DDTHH:MM:SSZ (e.g. %s), "+
		"exactly as in the signed text.", Clip(sent, 40), want)
}

// unreadableMAC says what an API-Token that is no HMAC-SHA256 looks like:
// empty, hex or base64 of the wrong length (a truncated MAC, or another
// hash), or neither.
func unreadableMAC(s string) (string, string) {
	const must = "API-Token must be the HMAC-SHA256 of the signed text as 64 lower-case hex characters"
	if s == "" {
		return FindingUnreadableMAC, "API-Token was missing or empty. " + must + "."
	}
	if strings.Trim(s, "0123456789abcdefABCDEF") == "" {
		return FindingMACLength, fmt.Sprintf("%s; %d hex characters (%d bytes) were sent%s.", must, len(s), len(s)/2, otherHash(len(s)/2))
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(s) >= 8 {
			return FindingMACLength, fmt.Sprintf("%s; %d characters of base64 (%d bytes) were sent%s.", must, len(s), len(b), otherHash(len(b)))
		}
	}
	return FindingUnreadableMAC, fmt.Sprintf("%s; %d characters were sent that are neither hex nor base64.", must, len(s))
}

// otherHash names what a MAC of n bytes usually is, when it is not SHA-256's 32.
func otherHash(n int) string {
	switch n {
	case 16:
		return ": that is the length of an MD5, not SHA-256"
	case 20:
		return ": that is the length of a SHA-1, not SHA-256"
	case 48:
		return ": that is the length of a SHA-384, not SHA-256"
	case 64:
		return ": that is the length of a SHA-512, not SHA-256"
	}
	if n < 32 {
		return ": it looks cut short; send all 32 bytes"
	}
	return ""
}

// Clip shortens what a client or a person sent to n characters, for a message.
func Clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// readMAC reads API-Token as lower-case hex, other hex or base64.
func readMAC(s string) ([]byte, string) {
	if len(s) == 2*sha256.Size {
		if b, err := hex.DecodeString(s); err == nil {
			if s == strings.ToLower(s) {
				return b, "lower"
			}
			return b, "upper"
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == sha256.Size {
			return b, "base64"
		}
	}
	return nil, ""
}

// candidate is a signed text and secret a client may have used, and the
// mistake it stands for.
type candidate struct {
	secret, text  string
	code, message string
}

// firstMatch returns the first candidate whose MAC is what the client sent.
func firstMatch(cands []candidate, mac []byte) *candidate {
	for i := range cands {
		m := hmac.New(sha256.New, []byte(cands[i].secret))
		m.Write([]byte(cands[i].text))
		if hmac.Equal(m.Sum(nil), mac) {
			return &cands[i]
		}
	}
	return nil
}

// v1Candidates are the correct version 1 text and each common mistake.
func v1Candidates(a SignedAttempt, at time.Time, secret string, others []OtherSecret) []candidate {
	ts := a.Timestamp
	text := func(slug, ts string) string { return slug + ":" + a.APIKey + "@" + ts }
	cands := []candidate{{secret: secret, text: text(a.Slug, ts)}}
	if !at.IsZero() {
		iso := at.UTC().Format(TimestampLayout)
		unix := strconv.FormatInt(at.Unix(), 10)
		cands = append(cands,
			candidate{secret, text(a.Slug, unix), FindingUnixTimestamp, "Signed over " + text(a.Slug, unix) + ": the timestamp in the signed text must be " + iso + ", exactly as in API-Timestamp."},
			candidate{secret, text(a.Slug, iso), FindingUnixTimestamp, "Signed over " + text(a.Slug, iso) + " but API-Timestamp was sent as " + ts + ": send " + iso + " in the header too."},
		)
	}
	for _, slug := range slugMistakes(a.Slug, a.AccountName) {
		cands = append(cands, candidate{secret, text(slug, ts), FindingWrongSlug, wrongSlug(slug, a.Slug)})
	}
	cands = append(cands, candidate{secret, a.APIKey + "@" + ts, FindingWrongSlug,
		"Signed over " + a.APIKey + "@" + ts + ", without the account slug: sign " + text(a.Slug, ts) + "."})
	return append(cands, secretMistakes(text(a.Slug, ts), secret, others)...)
}

func wrongSlug(used, slug string) string {
	return fmt.Sprintf("Signed with the account slug %q: this key's account slug is %q.", used, slug)
}

// secretMistakes are text signed with a secret other than the key's own.
func secretMistakes(text, secret string, others []OtherSecret) []candidate {
	var cands []candidate
	for _, pad := range []string{"\n", "\r\n", " "} {
		cands = append(cands, candidate{secret + pad, text, FindingSecretSpace,
			"Signed with the secret followed by whitespace (a newline from a file or a copy): trim the secret."})
	}
	for _, o := range others {
		cands = append(cands, candidate{o.Secret, text, FindingOtherSecret, "Signed with " + o.Label + ", not this key's secret."})
	}
	return cands
}

// v2Text is the version 2 signed text, built as a client would, so that a
// mistake (a method in lower case, a body hash in upper case) can be made.
func v2Text(method, target, ts, slug, apiKey, bodyHex string) string {
	return "2\n" + method + "\n" + target + "\n" + ts + "\n" + slug + ":" + apiKey + "\n" + bodyHex
}

// emptyBodyHex is the SHA-256 of no body at all.
var emptyBodyHex = hex.EncodeToString(func() []byte { s := sha256.Sum256(nil); return s[:] }())

// v2Candidates are the correct version 2 text, each common mistake in it,
// and the version 1 text (a client that sends the version 2 header but
// signs as before).
func v2Candidates(a SignedAttempt, at time.Time, secret string, others []OtherSecret) []candidate {
	method, ts, body := strings.ToUpper(a.Method), a.Timestamp, hex.EncodeToString(a.BodySum)
	text := func(method, target, ts, slug, body string) string {
		return v2Text(method, target, ts, slug, a.APIKey, body)
	}
	right := text(method, a.Target, ts, a.Slug, body)
	cands := []candidate{{secret: secret, text: right}}
	if body != emptyBodyHex {
		cands = append(cands, candidate{secret, text(method, a.Target, ts, a.Slug, emptyBodyHex), FindingEmptyBody,
			"Signed over no body (the SHA-256 of nothing, " + emptyBodyHex[:12] + "…) but the request carried one, whose SHA-256 is " + body +
				": hash the body after it is serialised, exactly the bytes sent."})
	}
	if path, _, ok := strings.Cut(a.Target, "?"); ok {
		cands = append(cands, candidate{secret, text(method, path, ts, a.Slug, body), FindingTargetQuery,
			"Signed the path " + path + " without its query: sign the request target exactly as sent, " + a.Target + "."})
	}
	if decoded, err := url.PathUnescape(a.Target); err == nil && decoded != a.Target {
		cands = append(cands, candidate{secret, text(method, decoded, ts, a.Slug, body), FindingTargetDecoded,
			"Signed the target decoded (" + decoded + "): sign it exactly as sent, percent-encoding included: " + a.Target + "."})
	}
	if lower := strings.ToLower(method); lower != method {
		cands = append(cands, candidate{secret, text(lower, a.Target, ts, a.Slug, body), FindingMethodCase,
			"Signed the method as " + lower + ": the signed text has it in upper case, " + method + "."})
	}
	cands = append(cands,
		candidate{secret, text(method, a.Target, ts, a.Slug, strings.ToUpper(body)), FindingBodyHashCase,
			"Signed the body's SHA-256 in upper-case hex: write it in lower case."},
		candidate{secret, right + "\n", FindingTrailingLine,
			"The signed text ended with a newline: join the six lines with \\n and add none after the last."})
	if !at.IsZero() {
		iso := at.UTC().Format(TimestampLayout)
		unix := strconv.FormatInt(at.Unix(), 10)
		cands = append(cands,
			candidate{secret, text(method, a.Target, unix, a.Slug, body), FindingUnixTimestamp, "Signed with the timestamp " + unix + ": the signed text must carry " + iso + ", exactly as in API-Timestamp."},
			candidate{secret, text(method, a.Target, iso, a.Slug, body), FindingUnixTimestamp, "Signed with " + iso + " but API-Timestamp was sent as " + ts + ": send " + iso + " in the header too."},
		)
	}
	for _, slug := range slugMistakes(a.Slug, a.AccountName) {
		cands = append(cands, candidate{secret, text(method, a.Target, ts, slug, body), FindingWrongSlug, wrongSlug(slug, a.Slug)})
	}
	cands = append(cands, secretMistakes(right, secret, others)...)
	v1 := a.Slug + ":" + a.APIKey + "@" + ts
	return append(cands, candidate{secret, v1, FindingV1UnderV2,
		"The request says API-Signature-Version: 2 but was signed over the version 1 text " + v1 + ": sign the version 2 text, or leave the header out."})
}

// slugMistakes are the slugs clients sign with by mistake: the account's
// name, its slug in another case or with other separators.
func slugMistakes(slug, name string) []string {
	seen := map[string]bool{slug: true}
	var out []string
	for _, s := range []string{name, strings.ToLower(name), strings.ToUpper(slug),
		strings.ReplaceAll(slug, "-", "_"), strings.ReplaceAll(slug, "-", ""),
		strings.ReplaceAll(strings.ToLower(name), " ", "-"), ""} {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// SecretPrint is a short keyed fingerprint of a secret a client sent, so a
// failed token request can later be matched against the account's secrets
// without storing what was sent. key comes from the master key.
func SecretPrint(key []byte, secret string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(secret))
	return m.Sum(nil)[:8]
}
