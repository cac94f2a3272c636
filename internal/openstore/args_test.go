package openstore

import (
	"strings"
	"testing"
)

func TestRewriteArgs(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		changes []string
	}{
		{
			name:    "bind-http",
			in:      []string{"rok-external-controller", "--bind-http", "tcp://x:1", "--verbose"},
			want:    []string{"rok-external-controller", "--controller-listen", "role=slave,http://x:1", "--verbose"},
			changes: []string{"argument 2: --bind-http = tcp://x:1 -> --controller-listen = role=slave,http://x:1"},
		},
		{
			name:    "equals form kept",
			in:      []string{"--openstore-controller=tcp://10.0.0.11:8080"},
			want:    []string{"--connect=role=slave,http://10.0.0.11:8080"},
			changes: []string{"argument 1: --openstore-controller = tcp://10.0.0.11:8080 -> --connect = role=slave,http://10.0.0.11:8080"},
		},
		{
			name: "short flags, separate and attached",
			in:   []string{"-C", "tcp://h:1", "-Ltcp://[::1]:2", "--listen", "tcp://h:3", "--controller-listen=tcp://h:4"},
			want: []string{"-C", "role=slave,http://h:1", "-Lrole=master,http://[::1]:2", "--listen", "role=master,http://h:3", "--controller-listen=role=slave,http://h:4"},
			changes: []string{
				"argument 1: -C = tcp://h:1 -> -C = role=slave,http://h:1",
				"argument 3: -L = tcp://[::1]:2 -> -L = role=master,http://[::1]:2",
				"argument 4: --listen = tcp://h:3 -> --listen = role=master,http://h:3",
				"argument 6: --controller-listen = tcp://h:4 -> --controller-listen = role=slave,http://h:4",
			},
		},
		{
			name: "the four combinations from pre-0.11 flags",
			in:   []string{"rok-openstored", "--listen", "tcp://1.2.3.4:9090", "--openstore-master-connect", "tcp://1.2.3.4:8080", "--openstore-controller=tcp://1.2.3.4:9090", "--bind-http=tcp://1.2.3.4:8080"},
			want: []string{"rok-openstored", "--listen", "role=master,http://1.2.3.4:9090", "--connect", "role=master,http://1.2.3.4:8080", "--connect=role=slave,http://1.2.3.4:9090", "--controller-listen=role=slave,http://1.2.3.4:8080"},
			changes: []string{
				"argument 2: --listen = tcp://1.2.3.4:9090 -> --listen = role=master,http://1.2.3.4:9090",
				"argument 4: --openstore-master-connect = tcp://1.2.3.4:8080 -> --connect = role=master,http://1.2.3.4:8080",
				"argument 6: --openstore-controller = tcp://1.2.3.4:9090 -> --connect = role=slave,http://1.2.3.4:9090",
				"argument 7: --bind-http = tcp://1.2.3.4:8080 -> --controller-listen = role=slave,http://1.2.3.4:8080",
			},
		},
		{
			name: "all four combinations already v0.11",
			in:   []string{"-C", "role=master,http://1.2.3.4:8080", "-C", "http://1.2.3.4:9090", "-L", "http://1.2.3.4:9090", "-L", "role=slave,http://1.2.3.4:8080"},
			want: []string{"-C", "role=master,http://1.2.3.4:8080", "-C", "http://1.2.3.4:9090", "-L", "http://1.2.3.4:9090", "-L", "role=slave,http://1.2.3.4:8080"},
		},
		{
			name: "unrelated arguments kept",
			in:   []string{"prog", "-v", "--map-version", "3", "http://x:1", "--", "-C"},
			want: []string{"prog", "-v", "--map-version", "3", "http://x:1", "--", "-C"},
		},
		{name: "empty", in: nil, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := append([]string(nil), tt.in...)
			got, changes, err := RewriteArgs(tt.in)
			if err != nil {
				t.Fatalf("RewriteArgs: %v", err)
			}
			if strings.Join(got, "\x00") != strings.Join(tt.want, "\x00") || len(got) != len(tt.want) {
				t.Fatalf("RewriteArgs = %q, want %q", got, tt.want)
			}
			if strings.Join(orig, "\x00") != strings.Join(tt.in, "\x00") {
				t.Fatalf("RewriteArgs modified its input: %q", tt.in)
			}
			checkChanges(t, changes, tt.changes)
			again, changes, err := RewriteArgs(got)
			if err != nil || strings.Join(again, "\x00") != strings.Join(got, "\x00") || len(changes) != 0 {
				t.Fatalf("not idempotent: second run gave %q, %v, %v", again, changes, err)
			}
		})
	}
}

func TestRewriteArgsRefuses(t *testing.T) {
	tests := []struct {
		name   string
		in     []string
		errors []string
		args   []int
	}{
		{name: "tcp with role", in: []string{"-C", "role=slave,tcp://h:1"}, errors: []string{"argument 2: -C: invalid OpenStore endpoint \"role=slave,tcp://h:1\": legacy tcp:// endpoints cannot carry a role"}, args: []int{2}},
		{name: "missing value", in: []string{"prog", "--bind-http"}, errors: []string{"argument 2: --bind-http needs an endpoint value"}, args: []int{2}},
		{name: "legacy flag with role", in: []string{"--bind-http=role=slave,http://h:1"}, errors: []string{"--bind-http is a pre-0.11 option and never took a role"}, args: []int{1}},
		{name: "unknown long option", in: []string{"--peer=tcp://h:1"}, errors: []string{`argument 1: option "--peer" holds a tcp:// value`}, args: []int{1}},
		{name: "unknown option value", in: []string{"--peer", "tcp://h:1"}, errors: []string{`argument 2: "tcp://h:1" mentions tcp://`}, args: []int{2}},
		{name: "embedded", in: []string{"-drive", "file=rok:tcp://h:1"}, errors: []string{"argument 2:"}, args: []int{2}},
		{name: "short unknown attached", in: []string{"-Xtcp://h:1"}, errors: []string{"argument 1:"}, args: []int{1}},
		{name: "after double dash", in: []string{"--", "tcp://h:1"}, errors: []string{"argument 2:"}, args: []int{2}},
		{name: "garbage", in: []string{"-L", "tcp://h"}, errors: []string{"missing port"}, args: []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes, err := RewriteArgs(tt.in)
			if err == nil {
				t.Fatalf("RewriteArgs accepted input, gave %q (%v)", got, changes)
			}
			if got != nil || changes != nil {
				t.Fatalf("RewriteArgs returned output with an error: %q, %v", got, changes)
			}
			joined := err.(interface{ Unwrap() []error }).Unwrap()
			if len(joined) != len(tt.errors) {
				t.Fatalf("got %d refusals (%v), want %d", len(joined), err, len(tt.errors))
			}
			for i, e := range joined {
				if !strings.Contains(e.Error(), tt.errors[i]) {
					t.Errorf("refusal %d = %q, want %q", i, e, tt.errors[i])
				}
				ae, ok := e.(*ArgError)
				if !ok || ae.Arg != tt.args[i] {
					t.Errorf("refusal %d = %#v, want *ArgError at %d", i, e, tt.args[i])
				}
			}
		})
	}
}
