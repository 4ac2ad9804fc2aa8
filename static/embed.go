// Package static holds the embedded CSS, JavaScript, the icon and the vendored htmx
// (htmx.org 2.0.11, dist/htmx.min.js from the npm package).
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

// HTMXVersion is the vendored htmx release.
const HTMXVersion = "2.0.11"

//go:embed *.css *.js *.svg
var FS embed.FS

var versions = func() map[string]string {
	v := map[string]string{}
	entries, _ := fs.ReadDir(FS, ".")
	for _, e := range entries {
		b, _ := FS.ReadFile(e.Name())
		sum := sha256.Sum256(b)
		v[e.Name()] = hex.EncodeToString(sum[:6])
	}
	return v
}()

// Path returns the cache-busted URL of an embedded file.
func Path(name string) string { return "/static/" + name + "?v=" + versions[name] }
