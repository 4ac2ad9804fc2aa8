package handlers

import (
	"sync"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// The API's hottest answers are appended by hand, byte for byte what
// encoding/json writes for them (json_append_test.go holds them to it):
// reflection cost a Bearer call more than checking its token.

// appendJSONString appends s as encoding/json writes a string: HTML-safe
// (<, >, & escaped), U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		// A run that needs no escaping is appended at once.
		j := i
		for j < len(s) && jsonSafe[s[j]] {
			j++
		}
		b = append(b, s[i:j]...)
		if i = j; i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c < ' ' || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// jsonSafe tells the bytes appendJSONString copies as they are: printable
// ASCII but for '"', '\\' and the HTML-sensitive '<', '>' and '&'.
var jsonSafe = func() (safe [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		safe[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return safe
}()

// appendJSONStrings appends ss as a JSON array of strings.
func appendJSONStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSON appends k as encoding/json writes it.
func (k keyInfo) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, k.Name)
	b = append(b, `,"api_key":`...)
	b = appendJSONString(b, k.APIKey)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, k.Type)
	b = append(b, `,"mode":`...)
	b = appendJSONString(b, k.Mode)
	b = append(b, `,"scope":`...)
	b = appendJSONString(b, k.Scope)
	b = append(b, `,"scopes":`...)
	b = appendJSONStrings(b, k.Scopes)
	b = append(b, `,"licenses":`...)
	b = appendJSONStrings(b, k.Licenses)
	b = append(b, `,"account":`...)
	b = appendJSONString(b, k.Account)
	b = append(b, `,"authenticated_by":`...)
	b = appendJSONString(b, k.AuthenticatedBy)
	return append(b, '}', '\n')
}

// jsonBufs are the buffers API answers are appended into; net/http copies
// what a handler writes, so a buffer is free again once written.
var jsonBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// jsonContentType is Content-Type's value for writeJSON's answers, assigned
// (not Set, which canonicalises and allocates) and shared: net/http only reads it.
var jsonContentType = []string{echo.MIMEApplicationJSON}

// writeJSON answers with status and the JSON body build appends, built in a
// pooled buffer.
func writeJSON(c echo.Context, status int, build func([]byte) []byte) error {
	bp := jsonBufs.Get().(*[]byte)
	b := build((*bp)[:0])
	r := c.Response()
	r.Header()[echo.HeaderContentType] = jsonContentType
	r.WriteHeader(status)
	_, err := r.Write(b)
	if cap(b) <= 64<<10 { // an unusually large answer is not kept
		*bp = b[:0]
		jsonBufs.Put(bp)
	}
	return err
}
