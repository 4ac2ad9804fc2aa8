package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MasterKeySize is the length of the AES-256 master key in bytes.
const MasterKeySize = 32

// ErrUnseal is returned when a sealed secret does not open under the master key.
var ErrUnseal = errors.New("keys: sealed secret does not open under this master key")

// Sealer encrypts and decrypts API secrets with AES-256-GCM.
type Sealer struct {
	aead   cipher.AEAD
	master []byte
}

// NewSealer returns a Sealer for a 32-byte master key.
func NewSealer(master []byte) (*Sealer, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("keys: master key must be %d bytes, got %d", MasterKeySize, len(master))
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return &Sealer{aead: aead, master: append([]byte(nil), master...)}, nil
}

// Seal encrypts plaintext; context (the key's public id) is bound as
// additional data so a sealed secret cannot be moved to another row.
func (s *Sealer) Seal(plaintext, context string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(plaintext), []byte(context))
}

// Open decrypts what Seal produced for the same context.
func (s *Sealer) Open(sealed []byte, context string) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return "", ErrUnseal
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
	if err != nil {
		return "", ErrUnseal
	}
	return string(plain), nil
}

// Derive returns a 32-byte key for another purpose (session cookies, say),
// so the master key itself is only ever used for sealing.
func (s *Sealer) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, s.master)
	m.Write([]byte("keydesk/" + purpose))
	return m.Sum(nil)
}

// NewMasterKey returns a fresh random master key, encoded for a file or variable.
func NewMasterKey() string {
	b := make([]byte, MasterKeySize)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// DecodeMasterKey accepts a master key as base64 (standard or URL) or hex.
func DecodeMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, dec := range []func(string) ([]byte, error){
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
		hex.DecodeString,
	} {
		if b, err := dec(s); err == nil && len(b) == MasterKeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("keys: master key must be %d bytes written as base64 or hex", MasterKeySize)
}
