package connect

import (
	"errors"
	"testing"
)

func TestThisMachine(t *testing.T) {
	tests := map[string]bool{
		"local":       true,
		"LOCAL":       true,
		"localhost":   true,
		"127.0.0.1":   true,
		"127.1.2.3":   true,
		"::1":         true,
		"[::1]":       true,
		"":            false,
		"rok1.prod":   false,
		"10.0.0.1":    false,
		"localhost2":  false,
		"local.prod":  false,
		"::2":         false,
		"128.0.0.1":   false,
		"0.0.0.0":     false,
		"[127.0.0.1]": true,
	}
	for target, want := range tests {
		t.Run(target, func(t *testing.T) {
			if got := ThisMachine(target); got != want {
				t.Errorf("ThisMachine(%q) = %t, want %t", target, got, want)
			}
		})
	}
}

func TestRoute(t *testing.T) {
	tests := map[string]struct {
		target    string
		transport Transport
		want      Transport
		problem   Problem
	}{
		"no on, no connection":           {"local", "", Local, 0},
		"localhost, no connection":       {"localhost", "", Local, 0},
		"loopback, local transport":      {"127.0.0.1", Local, Local, 0},
		"remote over ssh":                {"rok1.prod", SSH, SSH, 0},
		"this machine over ssh":          {"localhost", SSH, SSH, 0},
		"loopback over ssh":              {"127.0.0.1", SSH, SSH, 0},
		"remote without a connection":    {"rok1.prod", "", "", NoConnection},
		"remote with a local connection": {"rok1.prod", Local, "", LocalTransport},
		"ssh to local":                   {"local", SSH, "", NoHost},
		"ssh to nothing":                 {"", SSH, "", NoHost},
		"unknown transport":              {"rok1.prod", "telnet", "", BadTransport},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Route(tc.target, tc.transport)
			if got != tc.want {
				t.Errorf("Route(%q, %q) = %q, want %q", tc.target, tc.transport, got, tc.want)
			}
			var re *RouteError
			switch {
			case tc.problem == 0 && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.problem != 0 && (!errors.As(err, &re) || re.Problem != tc.problem):
				t.Errorf("error %v, want problem %d", err, tc.problem)
			case tc.problem != 0 && (re.Summary() == "" || re.Detail() == ""):
				t.Errorf("problem %d has no summary or detail", tc.problem)
			}
		})
	}
}
