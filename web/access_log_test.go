package web

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// An access line reads exactly as slog's own handlers would write it.
func TestAccessLineMatchesSlog(t *testing.T) {
	at := time.Date(2026, 11, 24, 1, 51, 5, 123456789, time.UTC)
	lines := []requestLine{
		{at: at, level: slog.LevelInfo, id: "a1b2c3-1", method: "GET", route: "GET /api/v1/key", status: 200, took: 873 * time.Microsecond, ip: "127.0.0.1", key: 7},
		{at: at, level: slog.LevelInfo, id: "proxy.id_9", method: "POST", route: "POST /api/v1/auth/token", status: 401, took: 2 * time.Millisecond, ip: "2001:db8::1", reason: "invalid_client"},
		{at: at, level: slog.LevelDebug, id: "x", method: "GET", route: "/healthz", status: 503, took: 0, ip: ""},
		{at: at.In(time.FixedZone("CET", 3600)), level: slog.LevelInfo, id: "q\"=\x01é", method: "GET", route: "/", status: 302, took: time.Second, ip: "10.0.0.1"},
	}
	for _, json := range []bool{false, true} {
		for _, l := range lines {
			var want bytes.Buffer
			opts := &slog.HandlerOptions{Level: slog.LevelDebug}
			var h slog.Handler = slog.NewTextHandler(&want, opts)
			if json {
				h = slog.NewJSONHandler(&want, opts)
			}
			r := slog.NewRecord(l.at, l.level, "request", 0)
			r.AddAttrs(slog.String("id", l.id), slog.String("method", l.method), slog.String("route", l.route),
				slog.Int("status", l.status), slog.Duration("took", l.took), slog.String("ip", l.ip))
			if l.key != 0 {
				r.AddAttrs(slog.Int64("key", l.key))
			}
			if l.reason != "" {
				r.AddAttrs(slog.String("reason", l.reason))
			}
			if err := h.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			NewAccessLog(&got, json, slog.LevelDebug).write(l)
			if got.String() != want.String() {
				t.Errorf("json=%v\n got %s\nwant %s", json, got.String(), want.String())
			}
		}
	}
}

func TestAccessLogLevel(t *testing.T) {
	a := NewAccessLog(&bytes.Buffer{}, false, slog.LevelWarn)
	if a.enabled(context.Background(), slog.LevelInfo) || !a.enabled(context.Background(), slog.LevelError) {
		t.Error("the access log does not follow its level")
	}
	log := slog.New(WithAccessLog(slog.DiscardHandler, a))
	if accessLogOf(log) != a || accessLogOf(slog.New(slog.DiscardHandler)) != nil {
		t.Error("observe does not find the access log beside the logger")
	}
}

// appendStamp writes what AppendFormat does, whichever second and zone the
// line before it was in.
func TestAppendStampMatchesFormat(t *testing.T) {
	cet, ny := time.FixedZone("CET", 3600), time.FixedZone("", -4*3600-30*60)
	base := time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
	times := []time.Time{
		base, base, base.Add(time.Nanosecond), base.In(cet), base, base.In(ny),
		base.Add(-999 * time.Millisecond), base.Add(-time.Second), time.Unix(0, 0).UTC(),
		time.Unix(-1, 500_000_000).UTC(), time.Unix(-1, 0).In(cet), time.Date(1969, 12, 31, 23, 59, 59, 1_000_000, ny),
		time.Now(), time.Now().UTC(), time.Date(9999, 12, 31, 23, 59, 59, 42_000_000, time.UTC),
	}
	for i, at := range times {
		got := string(appendStamp([]byte("x"), at))
		if want := "x" + at.Format(textStampLayout); got != want {
			t.Errorf("time %d (%v): got %q, want %q", i, at, got, want)
		}
	}
}

// A value is quoted exactly when slog's text handler quotes it (for ASCII;
// beyond it the line quotes every non-ASCII value, which slog may not), and
// a quoted value reads back as the value.
func FuzzAppendTextValue(f *testing.F) {
	for _, s := range []string{"", "a1b2c3-1", "GET /api/v1/key", "2001:db8::1", "a=b", `q"`, "tab\there", "\x7f", "é", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := string(appendTextValue(nil, s))
		ascii := true
		for i := 0; i < len(s); i++ {
			ascii = ascii && s[i] < 0x80
		}
		if ascii {
			var want bytes.Buffer
			slog.New(slog.NewTextHandler(&want, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey {
					return slog.Attr{}
				}
				return a
			}})).Info("", "v", s)
			if w := strings.TrimSuffix(strings.TrimPrefix(want.String(), "v="), "\n"); got != w {
				t.Fatalf("appendTextValue(%q) = %s, slog writes %s", s, got, w)
			}
		}
		if got != s {
			if back, err := strconv.Unquote(got); err != nil || back != s && utf8.ValidString(s) {
				t.Fatalf("appendTextValue(%q) = %s: does not read back (%v)", s, got, err)
			}
		}
	})
}
