package main

import (
	"net"
	"strings"
	"testing"
)

type configCase struct {
	name    string
	env     map[string]string
	wantErr string // part of the error; "" for success
	check   func(config) bool
}

func TestConfigFromEnv(t *testing.T) {
	tests := []configCase{
		{name: "defaults", check: func(c config) bool {
			return c.Addr == "127.0.0.1:0" && c.PublicURL == "" && // serve makes it from the address bound
				c.MaxConnections == defaultMaxConnections && !c.BehindProxy && !c.Strict
		}},
		{name: "address on every interface", env: map[string]string{"KEYDESK_ADDR": ":8080"},
			check: func(c config) bool { return c.Addr == ":8080" }},
		{name: "https public URL, trailing slash dropped", env: map[string]string{"KEYDESK_PUBLIC_URL": "https://keys.example.com/"},
			check: func(c config) bool { return c.PublicURL == "https://keys.example.com" }},
		{name: "public URL with a path", env: map[string]string{"KEYDESK_PUBLIC_URL": "https://example.com/keydesk/"},
			check: func(c config) bool { return c.PublicURL == "https://example.com/keydesk" }},
		{name: "public URL relative", env: map[string]string{"KEYDESK_PUBLIC_URL": "/keydesk"}, wantErr: "KEYDESK_PUBLIC_URL"},
		{name: "public URL without scheme", env: map[string]string{"KEYDESK_PUBLIC_URL": "keys.example.com"}, wantErr: "KEYDESK_PUBLIC_URL"},
		{name: "public URL ftp", env: map[string]string{"KEYDESK_PUBLIC_URL": "ftp://keys.example.com"}, wantErr: "http:// or https://"},
		{name: "public URL with query", env: map[string]string{"KEYDESK_PUBLIC_URL": "https://keys.example.com/?a=b"}, wantErr: "no query"},
		{name: "public URL with empty query", env: map[string]string{"KEYDESK_PUBLIC_URL": "https://keys.example.com/?"}, wantErr: "no query"},
		{name: "public URL with fragment", env: map[string]string{"KEYDESK_PUBLIC_URL": "https://keys.example.com/#x"}, wantErr: "fragment"},
		{name: "public URL with password", env: map[string]string{"KEYDESK_PUBLIC_URL": "https://u:p@keys.example.com"}, wantErr: "password"},
		{name: "public URL unparsable", env: map[string]string{"KEYDESK_PUBLIC_URL": "https://[nope"}, wantErr: "KEYDESK_PUBLIC_URL"},
		{name: "address without port", env: map[string]string{"KEYDESK_ADDR": "127.0.0.1"}, wantErr: "KEYDESK_ADDR"},
		{name: "address with port out of range", env: map[string]string{"KEYDESK_ADDR": "127.0.0.1:99999"}, wantErr: "0 to 65535"},
		{name: "address with named port", env: map[string]string{"KEYDESK_ADDR": "127.0.0.1:http"}, wantErr: "KEYDESK_ADDR"},
		{name: "address that is a URL", env: map[string]string{"KEYDESK_ADDR": "http://127.0.0.1:8080"}, wantErr: "KEYDESK_ADDR"},
		{name: "max connections", env: map[string]string{"KEYDESK_MAX_CONNECTIONS": "100"},
			check: func(c config) bool { return c.MaxConnections == 100 }},
		{name: "max connections zero", env: map[string]string{"KEYDESK_MAX_CONNECTIONS": "0"}, wantErr: "KEYDESK_MAX_CONNECTIONS"},
		{name: "max connections negative", env: map[string]string{"KEYDESK_MAX_CONNECTIONS": "-5"}, wantErr: "KEYDESK_MAX_CONNECTIONS"},
		{name: "max connections not a number", env: map[string]string{"KEYDESK_MAX_CONNECTIONS": "lots"}, wantErr: "KEYDESK_MAX_CONNECTIONS"},
		{name: "strict on", env: map[string]string{"KEYDESK_STRICT": "yes"}, check: func(c config) bool { return c.Strict }},
		{name: "strict unknown", env: map[string]string{"KEYDESK_STRICT": "very"}, wantErr: "KEYDESK_STRICT"},
		{name: "every problem at once", env: map[string]string{"KEYDESK_ADDR": "nope", "KEYDESK_PUBLIC_URL": "nope", "KEYDESK_BEHIND_PROXY": "maybe"},
			wantErr: "KEYDESK_BEHIND_PROXY"},
	}
	for _, b := range []struct {
		value string
		want  bool
	}{
		{"1", true}, {"true", true}, {"TRUE", true}, {"True", true}, {"yes", true}, {"YES", true}, {"on", true}, {"On", true},
		{"0", false}, {"false", false}, {"FALSE", false}, {"no", false}, {"No", false}, {"off", false}, {"OFF", false},
	} {
		tests = append(tests, configCase{name: "behind proxy " + b.value, env: map[string]string{"KEYDESK_BEHIND_PROXY": b.value},
			check: func(c config) bool { return c.BehindProxy == b.want }})
	}
	for _, bad := range []string{"2", "y", "enabled", "truthy", "-1"} {
		tests = append(tests, configCase{name: "behind proxy " + bad, env: map[string]string{"KEYDESK_BEHIND_PROXY": bad}, wantErr: "KEYDESK_BEHIND_PROXY: \"" + bad + "\": use 1, true"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg, err := configFromEnv()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Errorf("config = %+v", cfg)
			}
		})
	}
}

func TestDefaultPublicURL(t *testing.T) {
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"10.1.2.3:9000", "http://10.1.2.3:9000"},
		{"0.0.0.0:8080", "http://localhost:8080"},
		{"[::]:8080", "http://localhost:8080"},
		{"[::1]:8080", "http://[::1]:8080"},
	}
	for _, tt := range tests {
		addr, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := defaultPublicURL(addr); got != tt.want {
			t.Errorf("defaultPublicURL(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}
