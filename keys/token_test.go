package keys

import (
	"strings"
	"testing"
	"time"
)

func TestTokenRoundTripAndForgeries(t *testing.T) {
	m := NewTokenMinter([]byte("0123456789abcdef0123456789abcdef"))
	other := NewTokenMinter([]byte("another deployment's master key!"))
	want := AccessToken{KeyID: 4711, Epoch: 3, ExpiresAt: time.Unix(1_800_000_000, 0).UTC(), Scope: 3}
	token := m.Mint(&want)
	if len(token) != TokenLen || !strings.HasPrefix(token, TokenPrefix) {
		t.Fatalf("token %q: length %d, want %d with prefix %s", token, len(token), TokenLen, TokenPrefix)
	}
	got, err := m.Parse(token)
	if err != nil || got != want {
		t.Fatalf("Parse = %+v, %v; want %+v", got, err, want)
	}
	if again := m.Mint(&AccessToken{KeyID: 4711}); again == token {
		t.Fatal("two tokens are the same: the random id is missing")
	}
	flip := func(i int) string {
		b := []byte(token)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name   string
		minter *TokenMinter
		token  string
	}{
		{"empty", m, ""},
		{"old random token", m, "kdt_" + strings.Repeat("x", 43)},
		{"one character short", m, token[:len(token)-1]},
		{"one character long", m, token + "A"},
		{"wrong prefix", m, "kdx_" + token[4:]},
		{"flipped in the key id", m, flip(6)},
		{"flipped in the expiry", m, flip(24)},
		{"flipped in the tag", m, flip(len(token) - 3)},
		{"not base64url", m, token[:10] + "+" + token[11:]},
		{"another master key", other, token},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.minter.Parse(tc.token); err != ErrBadToken {
				t.Fatalf("Parse = %v, want ErrBadToken", err)
			}
		})
	}
}

func FuzzTokenParse(f *testing.F) {
	m := NewTokenMinter([]byte("0123456789abcdef0123456789abcdef"))
	f.Add(m.Mint(&AccessToken{KeyID: 1}))
	f.Add("kdt_")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := m.Parse(s); err == nil && len(s) != TokenLen {
			t.Fatalf("accepted a token of length %d", len(s))
		}
	})
}

func BenchmarkTokenParse(b *testing.B) {
	m := NewTokenMinter([]byte("0123456789abcdef0123456789abcdef"))
	token := m.Mint(&AccessToken{KeyID: 1, ExpiresAt: time.Now()})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Parse(token); err != nil {
			b.Fatal(err)
		}
	}
}
