package handlers

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"time"

	"keydesk/keys"
)

// publicIDEncoding is base32 with an alphabet in ASCII order, so ids sort as their bytes do.
var publicIDEncoding = base32.NewEncoding("234567abcdefghijklmnopqrstuvwxyz").WithPadding(base32.NoPadding)

// newPublicID returns a public id such as ld_… or ld_test_… for prefix "ld":
// the time in milliseconds, so ids (and their index) grow in order, then 80
// random bits so they cannot be guessed.
func newPublicID(prefix string, m keys.Mode, now time.Time) string {
	var b [15]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:])
	if m == keys.Test {
		prefix += "_test"
	}
	return prefix + "_" + publicIDEncoding.EncodeToString(b[:])
}
