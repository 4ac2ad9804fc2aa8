package web

import (
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// PasswordCost is the bcrypt cost of stored password hashes.
const PasswordCost = 12

// HashPassword returns the bcrypt hash to store for a password.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), PasswordCost)
	return string(h), err
}

// dummyHash is checked when there is no account to check against, at the
// same cost as real hashes, so an unknown email takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("keydesk-timing-equaliser"), PasswordCost)
	return h
})

// CheckPassword reports whether password matches hash; with an empty hash
// (no such user) it spends the same time and reports false.
func CheckPassword(hash, password string) bool {
	if hash == "" {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// NewPasswordProblem returns what is wrong with a password someone chose, or
// "": the one rule of the command line and the invite page.
func NewPasswordProblem(p string) string {
	switch {
	case len(p) < 12:
		return "use at least 12 characters"
	case len(p) > 72:
		return "use at most 72 bytes (bcrypt ignores the rest)"
	}
	return ""
}
