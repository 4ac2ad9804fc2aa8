package web

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestPasswords(t *testing.T) {
	hash, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if cost, _ := bcrypt.Cost([]byte(hash)); cost != PasswordCost {
		t.Errorf("cost %d, want %d", cost, PasswordCost)
	}
	// The stand-in for unknown users costs what a real check costs.
	if cost, _ := bcrypt.Cost(dummyHash()); cost != PasswordCost {
		t.Errorf("dummy hash cost %d, want %d", cost, PasswordCost)
	}
	cases := []struct {
		name, hash, password string
		want                 bool
	}{
		{"right password", hash, "correct horse battery staple", true},
		{"wrong password", hash, "correct horse battery stapler", false},
		{"no such user", "", "correct horse battery staple", false},
		{"no such user, empty password", "", "", false},
	}
	for _, tc := range cases {
		if got := CheckPassword(tc.hash, tc.password); got != tc.want {
			t.Errorf("%s: CheckPassword = %v, want %v", tc.name, got, tc.want)
		}
	}
}
