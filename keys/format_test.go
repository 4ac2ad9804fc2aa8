package keys

import (
	"hash/crc32"
	"strings"
	"testing"
)

func TestNewKeysParse(t *testing.T) {
	for _, m := range []Mode{Live, Test} {
		public, secret := NewAPIKey(m), NewSecret(m)
		if !strings.HasPrefix(public, "kd_"+string(m)+"_") || !strings.HasPrefix(secret, "kds_"+string(m)+"_") {
			t.Fatalf("prefixes: %q %q", public, secret)
		}
		if got, err := ParseAPIKey(public); err != nil || got != m {
			t.Errorf("ParseAPIKey(%q) = %q, %v; want %q", public, got, err, m)
		}
		if got, err := ParseSecret(secret); err != nil || got != m {
			t.Errorf("ParseSecret(%q) = %q, %v; want %q", secret, got, err, m)
		}
		if _, err := ParseAPIKey(secret); err == nil {
			t.Errorf("a secret parsed as an API key: %q", secret)
		}
		if _, err := ParseSecret(public); err == nil {
			t.Errorf("an API key parsed as a secret: %q", public)
		}
	}
}

func TestNewKeysDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k := NewAPIKey(Live)
		if seen[k] {
			t.Fatalf("duplicate key %q", k)
		}
		seen[k] = true
	}
}

func TestParseAPIKeyRefuses(t *testing.T) {
	good := NewAPIKey(Live)
	body := good[len("kd_live_"):]
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"prefix only", "kd_live_"},
		{"wrong kind", "kx_live_" + body},
		{"wrong mode", "kd_prod_" + body},
		{"mode change breaks checksum", "kd_test_" + body},
		{"too short", good[:len(good)-1]},
		{"too long", good + "A"},
		{"typo in body", flip(good, len("kd_live_")+3)},
		{"typo in checksum", flip(good, len(good)-1)},
		{"bad character", good[:10] + "-" + good[11:]},
		{"upper-case prefix", strings.ToUpper(good[:3]) + good[3:]},
		{"leading space", " " + good},
		{"non-ASCII", good[:10] + "é" + good[12:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, err := ParseAPIKey(tt.in); err != ErrMalformed {
				t.Errorf("ParseAPIKey(%q) = %q, %v; want ErrMalformed", tt.in, m, err)
			}
		})
	}
}

func TestLast4(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", ""},
		{"abcd", "abcd"},
		{"kds_live_xyz1234", "1234"},
	}
	for _, tt := range tests {
		if got := Last4(tt.in); got != tt.want {
			t.Errorf("Last4(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseAPIKey(f *testing.F) {
	f.Add(NewAPIKey(Live))
	f.Add(NewAPIKey(Test))
	f.Add(NewSecret(Live))
	f.Add("kd_live_")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseAPIKey(s)
		if err != nil {
			if err != ErrMalformed || m != "" {
				t.Fatalf("ParseAPIKey(%q) = %q, %v", s, m, err)
			}
			return
		}
		if m != Live && m != Test {
			t.Fatalf("ParseAPIKey(%q) mode %q", s, m)
		}
		if len(s) != len("kd_live_")+publicBodyLen+checksumLen || !strings.HasPrefix(s, "kd_"+string(m)+"_") {
			t.Fatalf("ParseAPIKey accepted %q", s)
		}
		if checksum(s[:len(s)-checksumLen]) != s[len(s)-checksumLen:] {
			t.Fatalf("ParseAPIKey accepted a bad checksum: %q", s)
		}
	})
}

// The checksum's CRC-32, computed by table over the string, is the standard one.
func FuzzChecksumIsCRC32(f *testing.F) {
	for _, s := range []string{"", "a", "kd_live_S9bae48JdbTW5ogjctPFXL1zv0wK", strings.Repeat("é\x00\xff", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := uint64(crc32.ChecksumIEEE([]byte(s)))
		var want [checksumLen]byte
		for i := checksumLen - 1; i >= 0; i-- {
			want[i] = alphabet[c%62]
			c /= 62
		}
		if got := checksumOf(s); got != want {
			t.Errorf("checksumOf(%q) = %s, want %s", s, got[:], want[:])
		}
	})
}
