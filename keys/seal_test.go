package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"testing"
)

func testSealer(t *testing.T, b byte) *Sealer {
	t.Helper()
	s, err := NewSealer(bytes.Repeat([]byte{b}, MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealOpen(t *testing.T) {
	s := testSealer(t, 1)
	public, secret := NewAPIKey(Live), NewSecret(Live)
	sealed := s.Seal(secret, public)
	if bytes.Contains(sealed, []byte(secret)) {
		t.Fatal("sealed secret contains the plain text")
	}
	if again := s.Seal(secret, public); bytes.Equal(again, sealed) {
		t.Fatal("two seals of one secret are equal: the nonce is not fresh")
	}
	got, err := s.Open(sealed, public)
	if err != nil || got != secret {
		t.Fatalf("Open = %q, %v; want %q", got, err, secret)
	}
}

func TestOpenRefuses(t *testing.T) {
	s := testSealer(t, 1)
	public := NewAPIKey(Live)
	sealed := s.Seal(NewSecret(Live), public)
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name    string
		sealer  *Sealer
		sealed  []byte
		context string
	}{
		{"other key's row", s, sealed, NewAPIKey(Live)},
		{"tampered", s, tampered, public},
		{"truncated", s, sealed[:10], public},
		{"empty", s, nil, public},
		{"other master key", testSealer(t, 2), sealed, public},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.sealer.Open(tt.sealed, tt.context); err != ErrUnseal || got != "" {
				t.Errorf("Open = %q, %v; want ErrUnseal", got, err)
			}
		})
	}
}

func TestNewSealerKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer accepted a %d-byte key", n)
		}
	}
}

func TestDecodeMasterKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, MasterKeySize)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"std base64", base64.StdEncoding.EncodeToString(raw), true},
		{"raw std base64", base64.RawStdEncoding.EncodeToString(raw), true},
		{"url base64", base64.URLEncoding.EncodeToString(raw), true},
		{"raw url base64", base64.RawURLEncoding.EncodeToString(raw), true},
		{"hex", hex.EncodeToString(raw), true},
		{"surrounding space", " " + hex.EncodeToString(raw) + "\n", true},
		{"fresh", NewMasterKey(), true},
		{"too short", base64.StdEncoding.EncodeToString(raw[:16]), false},
		{"garbage", "not a key", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeMasterKey(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("DecodeMasterKey(%q) error %v, want ok=%v", tt.in, err, tt.ok)
			}
			if tt.ok && len(got) != MasterKeySize {
				t.Fatalf("got %d bytes", len(got))
			}
			if tt.ok && tt.name != "fresh" && !bytes.Equal(got, raw) {
				t.Fatalf("got %x, want %x", got, raw)
			}
		})
	}
}

func TestDerive(t *testing.T) {
	s := testSealer(t, 1)
	a, b := s.Derive("cookie-hash"), s.Derive("cookie-block")
	if len(a) != 32 || bytes.Equal(a, b) {
		t.Fatalf("Derive: %x %x", a, b)
	}
	if !bytes.Equal(a, s.Derive("cookie-hash")) {
		t.Fatal("Derive is not deterministic")
	}
	if bytes.Equal(a, testSealer(t, 2).Derive("cookie-hash")) {
		t.Fatal("Derive ignores the master key")
	}
}
