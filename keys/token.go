package keys

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"sync"
	"time"
)

// Access tokens are self-validating: the token itself carries the key id,
// the key's token epoch, the expiry, the scope and a random token id, with
// an HMAC-SHA256 tag under a key derived from the master key. Any instance
// sharing the master key verifies one without a lookup, and nothing about a
// token is stored unless it is revoked on its own.
const (
	TokenPrefix  = "kdt_"
	tokenVersion = 1
	// token body: version, key id, epoch, expiry, scope, random id; then the tag.
	tokenBodyLen = 1 + 8 + 4 + 8 + 1 + TokenIDLen
	tokenTagLen  = sha256.Size
	// TokenLen is the length of an access token as sent.
	TokenLen = len(TokenPrefix) + ((tokenBodyLen+tokenTagLen)*8+5)/6
	// TokenIDLen is the size of a token's random id.
	TokenIDLen = 16
)

// TokenID is an access token's random id, what a revoked token is remembered by.
type TokenID [TokenIDLen]byte

// AccessToken is what an access token says about itself.
type AccessToken struct {
	KeyID     int64
	Epoch     uint32
	ExpiresAt time.Time
	Scope     uint8 // bits, as the API defines them
	ID        TokenID
}

// ErrBadToken is any access token that is malformed, forged or made under another master key.
var ErrBadToken = errors.New("keys: access token is malformed or forged")

// TokenMinter mints and verifies access tokens under one MAC key. It keeps
// keyed HMAC states for reuse; it is safe for concurrent use.
type TokenMinter struct {
	macs sync.Pool // *tokenMAC
}

// tokenMAC is a keyed HMAC state with room for one token: arrays on the
// stack escaped to the heap through hash.Hash, two allocations a check.
type tokenMAC struct {
	h    hash.Hash
	raw  [tokenBodyLen + tokenTagLen]byte
	want [tokenTagLen]byte
}

// NewTokenMinter returns a minter keyed with macKey (derive it from the master key).
func NewTokenMinter(macKey []byte) *TokenMinter {
	m := &TokenMinter{}
	key := append([]byte(nil), macKey...)
	m.macs.New = func() any { return &tokenMAC{h: hmac.New(sha256.New, key)} }
	return m
}

// Mint returns a new token for t; t.ID is filled with fresh random bytes.
func (m *TokenMinter) Mint(t *AccessToken) string {
	rand.Read(t.ID[:])
	s := m.macs.Get().(*tokenMAC)
	defer m.macs.Put(s)
	raw := &s.raw
	raw[0] = tokenVersion
	binary.BigEndian.PutUint64(raw[1:], uint64(t.KeyID))
	binary.BigEndian.PutUint32(raw[9:], t.Epoch)
	binary.BigEndian.PutUint64(raw[13:], uint64(t.ExpiresAt.Unix()))
	raw[21] = t.Scope
	copy(raw[22:], t.ID[:])
	s.sum(raw[tokenBodyLen:tokenBodyLen], raw[:tokenBodyLen])
	out := make([]byte, TokenLen)
	copy(out, TokenPrefix)
	base64.RawURLEncoding.Encode(out[len(TokenPrefix):], raw[:])
	return string(out)
}

// Parse checks a token's shape and tag in constant time and returns what it
// says. It does not judge expiry or the key's state: the caller does.
func (m *TokenMinter) Parse(token string) (AccessToken, error) {
	if len(token) != TokenLen || token[:len(TokenPrefix)] != TokenPrefix {
		return AccessToken{}, ErrBadToken
	}
	s := m.macs.Get().(*tokenMAC)
	defer m.macs.Put(s)
	raw := &s.raw
	n, err := base64.RawURLEncoding.Decode(raw[:], []byte(token[len(TokenPrefix):]))
	if err != nil || n != len(raw) || raw[0] != tokenVersion {
		return AccessToken{}, ErrBadToken
	}
	s.sum(s.want[:0], raw[:tokenBodyLen])
	if !hmac.Equal(s.want[:], raw[tokenBodyLen:]) {
		return AccessToken{}, ErrBadToken
	}
	t := AccessToken{
		KeyID:     int64(binary.BigEndian.Uint64(raw[1:])),
		Epoch:     binary.BigEndian.Uint32(raw[9:]),
		ExpiresAt: time.Unix(int64(binary.BigEndian.Uint64(raw[13:])), 0).UTC(),
		Scope:     raw[21],
	}
	copy(t.ID[:], raw[22:tokenBodyLen])
	return t, nil
}

func (s *tokenMAC) sum(dst, body []byte) {
	s.h.Reset()
	s.h.Write(body)
	s.h.Sum(dst)
}
