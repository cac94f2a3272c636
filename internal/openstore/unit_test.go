package openstore

import (
	"strings"
	"testing"
)

func TestRewriteUnit(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		changes []string
	}{
		{
			name: "drop-in of the External Controller",
			in: "# Local override\n[Service]\nExecStart=\n" +
				"ExecStart=/usr/bin/rok-external-controller --bind-http tcp://10.0.0.12:9090 $ROK_EXTERNAL_CONTROLLER_OPTS\n",
			want: "# Local override\n[Service]\nExecStart=\n" +
				"ExecStart=/usr/bin/rok-external-controller --controller-listen role=slave,http://10.0.0.12:9090 $ROK_EXTERNAL_CONTROLLER_OPTS\n",
			changes: []string{"line 4 [Service] ExecStart argument 2: --bind-http = tcp://10.0.0.12:9090 -> --controller-listen = role=slave,http://10.0.0.12:9090"},
		},
		{
			name: "unit file, equals form in quotes, continuation lines, CRLF",
			in: "[Unit]\r\nDescription=Rok OpenStore (tcp endpoints before v0.11)\r\n\r\n[Service]\r\nEnvironmentFile=-/etc/default/rok\r\n" +
				"ExecStart=-/usr/bin/rok-openstored \\\r\n    --listen 'tcp://[::1]:8080' \\\r\n    \"--openstore-master-connect=tcp://10.0.0.12:9090\" ${EXTRA}\r\n" +
				"Restart=always\r\n",
			want: "[Unit]\r\nDescription=Rok OpenStore (tcp endpoints before v0.11)\r\n\r\n[Service]\r\nEnvironmentFile=-/etc/default/rok\r\n" +
				"ExecStart=-/usr/bin/rok-openstored \\\r\n    --listen 'role=master,http://[::1]:8080' \\\r\n    \"--connect=role=master,http://10.0.0.12:9090\" ${EXTRA}\r\n" +
				"Restart=always\r\n",
			changes: []string{
				"line 6 [Service] ExecStart argument 2: --listen = tcp://[::1]:8080 -> --listen = role=master,http://[::1]:8080",
				"line 6 [Service] ExecStart argument 4: --openstore-master-connect = tcp://10.0.0.12:9090 -> --connect = role=master,http://10.0.0.12:9090",
			},
		},
		{
			name: "mixed quoting kept, short flags attached",
			in:   "[Service]\nExecStartPre=/usr/bin/rok-check -Ctcp://m:1 --bind-http=\"tcp://h:2\"\nExecStart=/usr/bin/rok-composerd --openstore-controller=tcp://m:1\n",
			want: "[Service]\nExecStartPre=/usr/bin/rok-check -Crole=slave,http://m:1 --controller-listen=\"role=slave,http://h:2\"\nExecStart=/usr/bin/rok-composerd --connect=role=slave,http://m:1\n",
			changes: []string{
				"line 2 [Service] ExecStartPre argument 2: -C = tcp://m:1 -> -C = role=slave,http://m:1",
				"line 2 [Service] ExecStartPre argument 3: --bind-http = tcp://h:2 -> --controller-listen = role=slave,http://h:2",
				"line 3 [Service] ExecStart argument 2: --openstore-controller = tcp://m:1 -> --connect = role=slave,http://m:1",
			},
		},
		{
			name: "Environment= endpoint and options",
			in:   "[Service]\nEnvironment=OPENSTORE_CONTROLLER=tcp://m:8080 \"ROK_DAEMON_OPTS=--bind-http tcp://h:9090 -v\" LANG=C\n",
			want: "[Service]\nEnvironment=OPENSTORE_CONTROLLER=http://m:8080 \"ROK_DAEMON_OPTS=--controller-listen role=slave,http://h:9090 -v\" LANG=C\n",
			changes: []string{
				"line 2 [Service] Environment: OPENSTORE_CONTROLLER = tcp://m:8080 -> OPENSTORE_CONTROLLER = http://m:8080",
				"line 2 [Service] ROK_DAEMON_OPTS argument 1: --bind-http = tcp://h:9090 -> --controller-listen = role=slave,http://h:9090",
			},
		},
		{
			name: "already v0.11, and lines that are not ours",
			in: "[Service]\nExecStart=/usr/bin/rok-external-controller --controller-listen role=slave,http://h:9090 -C role=master,http://m:1\n" +
				"ExecStartPre=/bin/tar -C /var/lib/rok -xf /x.tar\nExecStop=/bin/kill $MAINPID\n# ExecStart=/usr/bin/x --bind-http tcp://old:1\n" +
				"Environment=OPENSTORE_CONTROLLER=http://m:8080\n",
			want: "[Service]\nExecStart=/usr/bin/rok-external-controller --controller-listen role=slave,http://h:9090 -C role=master,http://m:1\n" +
				"ExecStartPre=/bin/tar -C /var/lib/rok -xf /x.tar\nExecStop=/bin/kill $MAINPID\n# ExecStart=/usr/bin/x --bind-http tcp://old:1\n" +
				"Environment=OPENSTORE_CONTROLLER=http://m:8080\n",
		},
		{
			name:    "a word that cannot change in place is written again",
			in:      "[Service]\nExecStart=/x --bind\\-http 'tcp://h:1'\n",
			want:    "[Service]\nExecStart=/x --controller-listen 'role=slave,http://h:1'\n",
			changes: []string{"line 2 [Service] ExecStart argument 2: --bind-http = tcp://h:1 -> --controller-listen = role=slave,http://h:1"},
		},
		{name: "empty", in: "", want: ""},
		{
			name:    "no trailing newline",
			in:      "[Service]\nExecStart=/usr/bin/x --bind-http tcp://h:1",
			want:    "[Service]\nExecStart=/usr/bin/x --controller-listen role=slave,http://h:1",
			changes: []string{"line 2 [Service] ExecStart argument 2: --bind-http = tcp://h:1 -> --controller-listen = role=slave,http://h:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes, err := RewriteUnit(tt.in)
			if err != nil {
				t.Fatalf("RewriteUnit: %v", err)
			}
			if got != tt.want {
				t.Fatalf("RewriteUnit output:\n%q\nwant:\n%q", got, tt.want)
			}
			checkChanges(t, changes, tt.changes)
			again, changes, err := RewriteUnit(got)
			if err != nil || again != got || len(changes) != 0 {
				t.Fatalf("not idempotent: second run gave %q, %v, %v", again, changes, err)
			}
		})
	}
}

func TestRewriteUnitRefuses(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		errors []string
		lines  []int
	}{
		{
			name:   "endpoint from a variable",
			in:     "[Service]\nExecStart=/usr/bin/x --bind-http $ADDR\n",
			errors: []string{`line 2: [Service] ExecStart argument 3: --bind-http: invalid OpenStore endpoint "$ADDR": missing scheme (want http://HOST:PORT) (it comes from a variable, which rokflow cannot see through)`},
			lines:  []int{2},
		},
		{
			name:   "shell syntax",
			in:     "[Service]\nExecStart=/bin/sh -c \"rok --bind-http $(cat /etc/ep)\"\n",
			errors: []string{"line 2: [Service] ExecStart mentions --bind-http but cannot be read safely ('$' in double quotes (command substitution) at byte"},
			lines:  []int{2},
		},
		{
			name:   "endpoint inside a script",
			in:     "[Service]\nExecStart=/bin/sh -c 'exec rok-ec --bind-http tcp://h:1'\n",
			errors: []string{`line 2: [Service] ExecStart argument 3: "exec rok-ec --bind-http tcp://h:1" mentions tcp:// but is not the value of an OpenStore endpoint option`},
			lines:  []int{2},
		},
		{
			name:   "an endpoint continued over a line break",
			in:     "[Service]\nExecStart=/usr/bin/x --bind-http \"tcp://h:1\\\n\"\n",
			errors: []string{`line 2: [Service] ExecStart argument 3: --bind-http: invalid OpenStore endpoint "tcp://h:1  ": contains whitespace`},
			lines:  []int{2},
		},
		{
			name:   "tcp elsewhere",
			in:     "[Unit]\nDescription=x\n[Service]\nPIDFile=/run/x\nX-Endpoint=tcp://h:1\n",
			errors: []string{"line 5: [Service] mentions tcp:// but is not an ExecStart= (or other Exec…=) or Environment= line"},
			lines:  []int{5},
		},
		{
			name:   "Environment= with a bad endpoint and a bad option",
			in:     "[Service]\nEnvironment=A=tcp://h \"O=--bind-http\"\n",
			errors: []string{`line 2: [Service] Environment A: invalid OpenStore endpoint "tcp://h": missing port`, "line 2: [Service] Environment O argument 1: --bind-http needs an endpoint value"},
			lines:  []int{2, 2},
		},
		{
			name:   "every refusal, in line order",
			in:     "[Service]\nExecStart=/usr/bin/x --bind-http\nExecStartPost=/usr/bin/y --openstore-controller=role=slave,http://h:1\n",
			errors: []string{"line 2: [Service] ExecStart argument 2: --bind-http needs an endpoint value", "line 3: [Service] ExecStartPost argument 2: --openstore-controller is a pre-0.11 option and never took a role"},
			lines:  []int{2, 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes, err := RewriteUnit(tt.in)
			if err == nil {
				t.Fatalf("RewriteUnit accepted input, gave %q (%v)", got, changes)
			}
			if got != "" || changes != nil {
				t.Fatalf("RewriteUnit returned output with an error: %q, %v", got, changes)
			}
			checkLineErrors(t, err, tt.errors, tt.lines)
		})
	}
}

// FuzzRewriteUnit checks idempotency and that a rewrite changes only the
// lines it reports.
func FuzzRewriteUnit(f *testing.F) {
	f.Add("[Service]\nExecStart=/usr/bin/x \\\n --bind-http 'tcp://h:1' -Ctcp://m:2\nEnvironment=\"O=--openstore-master-connect tcp://[::1]:3\"\n")
	f.Add("[Service]\r\nExecStart=\r\nExecStart=/x --listen=\"tcp://h:1\" $O\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		out, changes, err := RewriteUnit(in)
		if err != nil {
			return
		}
		again, more, err := RewriteUnit(out)
		if err != nil || again != out || len(more) != 0 {
			t.Fatalf("not idempotent on %q: %q, %v, %v", in, again, more, err)
		}
		if len(changes) == 0 && out != in {
			t.Fatalf("unreported change: %q -> %q", in, out)
		}
		if strings.Count(in, "\n") != strings.Count(out, "\n") {
			t.Fatalf("line count changed: %q -> %q", in, out)
		}
	})
}
