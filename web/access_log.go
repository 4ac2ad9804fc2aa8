package web

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// AccessLog writes the line each request gets, in the format of the logger
// beside it (slog's text or JSON form, the same keys), straight into a
// buffer: through slog's general machinery the line cost an API call more
// than verifying its credentials did.
type AccessLog struct {
	w     io.Writer // shared with the logger, which serialises its writes
	json  bool
	level slog.Leveler
	bufs  sync.Pool
}

// NewAccessLog writes lines to w, as JSON or as slog's text form, when
// level lets a line of theirs through.
func NewAccessLog(w io.Writer, json bool, level slog.Leveler) *AccessLog {
	return &AccessLog{w: w, json: json, level: level, bufs: sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}}
}

// WithAccessLog is h with a, which observe writes request lines to.
func WithAccessLog(h slog.Handler, a *AccessLog) slog.Handler { return accessHandler{h, a} }

type accessHandler struct {
	slog.Handler
	access *AccessLog
}

func accessLogOf(log *slog.Logger) *AccessLog {
	if log == nil {
		return nil
	}
	if h, ok := log.Handler().(accessHandler); ok {
		return h.access
	}
	return nil
}

// requestLine is what one request's line says.
type requestLine struct {
	at     time.Time
	level  slog.Level
	id     string
	method string
	route  string
	status int
	took   time.Duration
	ip     string
	key    int64
	reason string
}

func (a *AccessLog) enabled(_ context.Context, level slog.Level) bool {
	return level >= a.level.Level()
}

func (a *AccessLog) write(l requestLine) {
	bp := a.bufs.Get().(*[]byte)
	b := (*bp)[:0]
	if a.json {
		b = l.appendJSON(b)
	} else {
		b = l.appendText(b)
	}
	a.w.Write(b)
	*bp = b
	a.bufs.Put(bp)
}

// appendText is slog.TextHandler's form of the line.
func (l requestLine) appendText(b []byte) []byte {
	b = append(b, "time="...)
	b = appendStamp(b, l.at)
	b = append(b, " level="...)
	b = append(b, l.level.String()...)
	b = append(b, " msg=request id="...)
	b = appendTextValue(b, l.id)
	b = append(b, " method="...)
	b = appendTextValue(b, l.method)
	b = append(b, " route="...)
	b = appendTextValue(b, l.route)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(l.status), 10)
	b = append(b, " took="...)
	b = append(b, l.took.String()...)
	b = append(b, " ip="...)
	b = appendTextValue(b, l.ip)
	if l.key != 0 {
		b = append(b, " key="...)
		b = strconv.AppendInt(b, l.key, 10)
	}
	if l.reason != "" {
		b = append(b, " reason="...)
		b = appendTextValue(b, l.reason)
	}
	return append(b, '\n')
}

// appendTextValue quotes s as slog's text form does: when it is empty or
// holds a space, '=', '"' or anything unprintable.
func appendTextValue(b []byte, s string) []byte {
	if s == "" {
		return append(b, `""`...)
	}
	for i := 0; i < len(s); i++ {
		if textQuoted[s[i]] {
			return strconv.AppendQuote(b, s)
		}
	}
	return append(b, s...)
}

// textQuoted tells the bytes that make appendTextValue quote a value: a
// space or control, '=', '"', and every byte of a non-ASCII rune (so a
// byte loop decides as a loop over runes would, without decoding them).
var textQuoted = func() (q [256]bool) {
	for c := range 256 {
		q[c] = c <= ' ' || c == '=' || c == '"' || c >= utf8.RuneSelf
	}
	return q
}()

// appendJSON is slog.JSONHandler's form of the line (took in nanoseconds).
func (l requestLine) appendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = l.at.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"`...)
	b = append(b, l.level.String()...)
	b = append(b, `","msg":"request","id":`...)
	b = appendJSONString(b, l.id)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, l.method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, l.route)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(l.status), 10)
	b = append(b, `,"took":`...)
	b = strconv.AppendInt(b, int64(l.took), 10)
	b = append(b, `,"ip":`...)
	b = appendJSONString(b, l.ip)
	if l.key != 0 {
		b = append(b, `,"key":`...)
		b = strconv.AppendInt(b, l.key, 10)
	}
	if l.reason != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, l.reason)
	}
	return append(b, "}\n"...)
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < ' ':
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// textStampLayout is slog.TextHandler's time: milliseconds and the zone.
const textStampLayout = "2006-01-02T15:04:05.000Z07:00"

// stamp is one second of textStampLayout, formatted once: the part before
// the milliseconds and the zone after them.
type stamp struct {
	sec          int64
	loc          *time.Location
	prefix, zone []byte
}

// lastStamp is the second the last line was written in; formatting the
// whole time was a tenth of an API call's own work.
var lastStamp atomic.Pointer[stamp]

// appendStamp appends t as t.AppendFormat(b, textStampLayout) does.
func appendStamp(b []byte, t time.Time) []byte {
	s := lastStamp.Load()
	if s == nil || s.sec != t.Unix() || s.loc != t.Location() {
		s = &stamp{sec: t.Unix(), loc: t.Location(),
			prefix: t.AppendFormat(nil, "2006-01-02T15:04:05."), zone: t.AppendFormat(nil, "Z07:00")}
		lastStamp.Store(s)
	}
	ms := t.Nanosecond() / 1e6
	b = append(b, s.prefix...)
	b = append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, s.zone...)
}
