// Package keys holds the parts of an API key that are neither HTTP nor SQL:
// the public key and secret formats, sealing secrets under the master key,
// and the PAVE-style request signature.
package keys

import (
	"crypto/rand"
	"errors"
	"hash/crc32"
	"strings"
	"unsafe"
)

// Mode is whether a key touches live or test data.
type Mode string

// The two modes of a key.
const (
	Live Mode = "live"
	Test Mode = "test"
)

const (
	alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// 22 base62 characters carry 130 bits, 43 carry 256 bits.
	publicBodyLen = 22
	secretBodyLen = 43
	checksumLen   = 6
)

// ErrMalformed is returned for a key or secret whose shape or checksum is wrong.
var ErrMalformed = errors.New("keys: malformed key")

// NewAPIKey returns a fresh public API key such as kd_live_….
func NewAPIKey(m Mode) string { return generate("kd_"+string(m)+"_", publicBodyLen) }

// NewSecret returns a fresh API secret such as kds_live_….
func NewSecret(m Mode) string { return generate("kds_"+string(m)+"_", secretBodyLen) }

// ParseAPIKey checks an API key's shape and checksum offline and returns its mode.
func ParseAPIKey(s string) (Mode, error) { return parse(s, "kd_", publicBodyLen) }

// ParseSecret checks a secret's shape and checksum offline and returns its mode.
func ParseSecret(s string) (Mode, error) { return parse(s, "kds_", secretBodyLen) }

func generate(prefix string, n int) string {
	body := make([]byte, 0, n)
	var buf [64]byte
	for len(body) < n {
		rand.Read(buf[:]) // never returns an error (crypto/rand, Go 1.24+)
		for _, b := range buf {
			// 248 = 4*62: rejecting the rest keeps every character equally likely.
			if b < 248 && len(body) < n {
				body = append(body, alphabet[b%62])
			}
		}
	}
	s := prefix + string(body)
	return s + checksum(s)
}

func parse(s, kind string, n int) (Mode, error) {
	rest, ok := strings.CutPrefix(s, kind)
	if !ok {
		return "", ErrMalformed
	}
	var m Mode
	switch {
	case strings.HasPrefix(rest, "live_"):
		m = Live
	case strings.HasPrefix(rest, "test_"):
		m = Test
	default:
		return "", ErrMalformed
	}
	body := rest[len("live_"):]
	if len(body) != n+checksumLen {
		return "", ErrMalformed
	}
	for i := 0; i < len(body); i++ {
		if !inAlphabet[body[i]] {
			return "", ErrMalformed
		}
	}
	cut := len(s) - checksumLen
	if sum := checksumOf(s[:cut]); string(sum[:]) != s[cut:] {
		return "", ErrMalformed
	}
	return m, nil
}

// inAlphabet tells the bytes of alphabet.
var inAlphabet = func() (in [256]bool) {
	for i := range len(alphabet) {
		in[alphabet[i]] = true
	}
	return in
}()

// checksum encodes the CRC-32 of s as six base62 characters.
func checksum(s string) string {
	sum := checksumOf(s)
	return string(sum[:])
}

func checksumOf(s string) [checksumLen]byte {
	// The string's bytes are read in place: crc32.ChecksumIEEE([]byte(s))
	// was an allocation per check for a key or secret over 32 bytes, and a
	// byte-at-a-time table loop over the string took twice as long as the
	// package's own (slicing-by-8) loop. ChecksumIEEE only reads its input.
	c := uint64(crc32.ChecksumIEEE(unsafe.Slice(unsafe.StringData(s), len(s))))
	var out [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = alphabet[c%62]
		c /= 62
	}
	return out
}

// Last4 is the tail of a secret shown beside its mask.
func Last4(secret string) string {
	if len(secret) < 4 {
		return ""
	}
	return secret[len(secret)-4:]
}
