package openstore

import (
	"testing"
)

func TestRewriteEnv(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		changes []string
	}{
		{
			name:    "plain",
			in:      "OPENSTORE_CONTROLLER=tcp://10.0.0.11:8080\n",
			want:    "OPENSTORE_CONTROLLER=http://10.0.0.11:8080\n",
			changes: []string{"line 1: OPENSTORE_CONTROLLER = tcp://10.0.0.11:8080 -> OPENSTORE_CONTROLLER = http://10.0.0.11:8080"},
		},
		{
			name:    "export and double quotes",
			in:      "export OPENSTORE_CONTROLLER=\"tcp://[::1]:8080\"\n",
			want:    "export OPENSTORE_CONTROLLER=\"http://[::1]:8080\"\n",
			changes: []string{"line 1: OPENSTORE_CONTROLLER = tcp://[::1]:8080 -> OPENSTORE_CONTROLLER = http://[::1]:8080"},
		},
		{
			name:    "single quotes, indentation, trailing comment, CRLF",
			in:      "  export\tROK_EP='tcp://rok-1.example:9090'   # set by installer tcp://x\r\n",
			want:    "  export\tROK_EP='http://rok-1.example:9090'   # set by installer tcp://x\r\n",
			changes: []string{"line 1: ROK_EP = tcp://rok-1.example:9090 -> ROK_EP = http://rok-1.example:9090"},
		},
		{
			name: "snf-image style file",
			in: "## Defaults\n#IMAGE_DIR=\"/var/lib/snf-image\"\n#ROK_ENDPOINT=\"tcp://10.0.0.11:8080\"\n\n" +
				"HELPER_SIZE=\"512\"\nROK_ENDPOINT=\"tcp://10.0.0.11:8080\"\nCURL=\"curl -k\"\n",
			want: "## Defaults\n#IMAGE_DIR=\"/var/lib/snf-image\"\n#ROK_ENDPOINT=\"tcp://10.0.0.11:8080\"\n\n" +
				"HELPER_SIZE=\"512\"\nROK_ENDPOINT=\"http://10.0.0.11:8080\"\nCURL=\"curl -k\"\n",
			changes: []string{"line 6: ROK_ENDPOINT = tcp://10.0.0.11:8080 -> ROK_ENDPOINT = http://10.0.0.11:8080"},
		},
		{
			name: "already migrated, with and without roles",
			in:   "OPENSTORE_CONTROLLER=http://10.0.0.11:8080\nA=role=master,http://h:1\nB=\"role=slave,http://h:2\"\n",
			want: "OPENSTORE_CONTROLLER=http://10.0.0.11:8080\nA=role=master,http://h:1\nB=\"role=slave,http://h:2\"\n",
		},
		{
			name: "unrelated lines kept",
			in:   "set -a\nPATH=/usr/bin:$PATH\nX=\"a $b\"\nEMPTY=\nURL=https://example.com/x\nif true; then :; fi\n",
			want: "set -a\nPATH=/usr/bin:$PATH\nX=\"a $b\"\nEMPTY=\nURL=https://example.com/x\nif true; then :; fi\n",
		},
		{
			name:    "no trailing newline",
			in:      "A=1\nB=tcp://h:2",
			want:    "A=1\nB=http://h:2",
			changes: []string{"line 2: B = tcp://h:2 -> B = http://h:2"},
		},
		{
			name: "options variable, --flag value and --flag=value in double quotes",
			in:   "ROK_DAEMON_OPTS=\"--bind-http tcp://10.0.0.12:9090 --openstore-controller=tcp://10.0.0.11:8080 -v\"\n",
			want: "ROK_DAEMON_OPTS=\"--controller-listen role=slave,http://10.0.0.12:9090 --connect=role=slave,http://10.0.0.11:8080 -v\"\n",
			changes: []string{
				"line 1 ROK_DAEMON_OPTS argument 1: --bind-http = tcp://10.0.0.12:9090 -> --controller-listen = role=slave,http://10.0.0.12:9090",
				"line 1 ROK_DAEMON_OPTS argument 3: --openstore-controller = tcp://10.0.0.11:8080 -> --connect = role=slave,http://10.0.0.11:8080",
			},
		},
		{
			name: "options variable in single quotes with export, tabs and a comment",
			in:   "export ROK_EC_OPTS='--openstore-master-connect\ttcp://h:1  -C tcp://m:2'  # local\r\n",
			want: "export ROK_EC_OPTS='--connect\trole=master,http://h:1  -C role=slave,http://m:2'  # local\r\n",
			changes: []string{
				"line 1 ROK_EC_OPTS argument 1: --openstore-master-connect = tcp://h:1 -> --connect = role=master,http://h:1",
				"line 1 ROK_EC_OPTS argument 3: -C = tcp://m:2 -> -C = role=slave,http://m:2",
			},
		},
		{
			name:    "one option, unquoted",
			in:      "EC_OPTS=--bind-http=tcp://h:1\n",
			want:    "EC_OPTS=--controller-listen=role=slave,http://h:1\n",
			changes: []string{"line 1 EC_OPTS argument 1: --bind-http = tcp://h:1 -> --controller-listen = role=slave,http://h:1"},
		},
		{
			name:    "quotes around the value only",
			in:      "EC_OPTS=--bind-http=\"tcp://[::1]:1\"\n",
			want:    "EC_OPTS=--controller-listen=\"role=slave,http://[::1]:1\"\n",
			changes: []string{"line 1 EC_OPTS argument 1: --bind-http = tcp://[::1]:1 -> --controller-listen = role=slave,http://[::1]:1"},
		},
		{
			name:    "pre-0.11 option already switched to http by sed",
			in:      "EC_OPTS=\"--bind-http http://h:1\"\n",
			want:    "EC_OPTS=\"--controller-listen role=slave,http://h:1\"\n",
			changes: []string{"line 1 EC_OPTS argument 1: --bind-http = http://h:1 -> --controller-listen = role=slave,http://h:1"},
		},
		{
			name: "options of other programs are not read",
			in:   "TAR=\"tar -C /tmp\"\nQEMU='qemu -L /usr/share/qemu'\nOPTS=\"$EXTRA -v\"\n",
			want: "TAR=\"tar -C /tmp\"\nQEMU='qemu -L /usr/share/qemu'\nOPTS=\"$EXTRA -v\"\n",
		},
		{
			name: "v0.11 options left alone",
			in:   "ROK_DAEMON_OPTS=\"--controller-listen role=slave,http://h:1 -C role=master,http://m:2\"\n",
			want: "ROK_DAEMON_OPTS=\"--controller-listen role=slave,http://h:1 -C role=master,http://m:2\"\n",
		},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes, err := RewriteEnv(tt.in)
			if err != nil {
				t.Fatalf("RewriteEnv: %v", err)
			}
			if got != tt.want {
				t.Fatalf("RewriteEnv output:\n%q\nwant:\n%q", got, tt.want)
			}
			checkChanges(t, changes, tt.changes)
			again, changes, err := RewriteEnv(got)
			if err != nil || again != got || len(changes) != 0 {
				t.Fatalf("not idempotent: second run gave %q, %v, %v", again, changes, err)
			}
		})
	}
}

func TestRewriteEnvRefuses(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		errors []string
		lines  []int
	}{
		{name: "tcp with role", in: "A=role=slave,tcp://h:1\n", errors: []string{"line 1: A: invalid OpenStore endpoint \"role=slave,tcp://h:1\": legacy tcp:// endpoints cannot carry a role"}, lines: []int{1}},
		{name: "tcp with path", in: "\nA=\"tcp://h:1/x\"\n", errors: []string{"line 2: A: invalid OpenStore endpoint"}, lines: []int{2}},
		{name: "embedded endpoint", in: "KVM_ARGS=\"-drive file=rok:tcp://h:1\"\n", errors: []string{`line 1: KVM_ARGS argument 2: "file=rok:tcp://h:1" mentions tcp:// but is not the value of an OpenStore endpoint option`}, lines: []int{1}},
		{name: "several words", in: "A=tcp://h:1 tcp://h:2\n", errors: []string{"line 1: A: the value mentions tcp:// but is not a single shell word"}, lines: []int{1}},
		{name: "expansion", in: "A=\"tcp://$HOST:1\"\n", errors: []string{"A: the value mentions tcp:// but also expands a variable"}, lines: []int{1}},
		{name: "unterminated quote", in: "A=\"tcp://h:1\n", errors: []string{"A: the value mentions tcp:// but cannot be read safely (an unterminated double quote at byte 0)"}, lines: []int{1}},
		{name: "glued comment", in: "A='tcp://h:1'#c\n", errors: []string{`A: invalid OpenStore endpoint "tcp://h:1#c"`}, lines: []int{1}},
		{name: "options variable, flag without value", in: "O=\"-v --bind-http\"\n", errors: []string{"line 1: O argument 2: --bind-http needs an endpoint value"}, lines: []int{1}},
		{name: "options variable, bad endpoint", in: "O=\"--bind-http tcp://h\"\n", errors: []string{"line 1: O argument 2: --bind-http: invalid OpenStore endpoint \"tcp://h\": missing port"}, lines: []int{1}},
		{name: "options variable with an expansion", in: "O=\"--bind-http $ADDR\"\n", errors: []string{"O: the value mentions --bind-http but also expands a variable"}, lines: []int{1}},
		{name: "options variable, unquoted", in: "O=--bind-http tcp://h:1\n", errors: []string{"O: the value mentions tcp:// but is not a single shell word"}, lines: []int{1}},
		{name: "options command line", in: "rok-ec --bind-http http://h:1\n", errors: []string{"line 1: mentions --bind-http but is not a NAME=value assignment"}, lines: []int{1}},
		{name: "options variable, two refusals", in: "O=\"--peer=tcp://h:1 --bind-http=role=slave,http://h:2\"\n", errors: []string{`line 1: O argument 1: option "--peer" holds a tcp:// value`, "line 1: O argument 2: --bind-http is a pre-0.11 option and never took a role"}, lines: []int{1, 1}},
		{name: "command line", in: "exec qemu -rok tcp://h:1\n", errors: []string{"line 1: mentions tcp:// but is not a NAME=value assignment"}, lines: []int{1}},
		{
			name:   "all refusals reported",
			in:     "A=tcp://h\nB=tcp://h:1\nrun tcp://h:1\n",
			errors: []string{"line 1: A: invalid OpenStore endpoint \"tcp://h\": missing port", "line 3: mentions tcp://"},
			lines:  []int{1, 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes, err := RewriteEnv(tt.in)
			if err == nil {
				t.Fatalf("RewriteEnv accepted input, gave %q (%v)", got, changes)
			}
			if got != "" || changes != nil {
				t.Fatalf("RewriteEnv returned output with an error: %q, %v", got, changes)
			}
			checkLineErrors(t, err, tt.errors, tt.lines)
		})
	}
}

// FuzzRewriteEnv checks idempotency and that only reported lines change.
func FuzzRewriteEnv(f *testing.F) {
	f.Add("export OPENSTORE_CONTROLLER=\"tcp://[::1]:8080\" # c\r\nA=1\n")
	f.Add("#X=tcp://h:1\nX='tcp://h:1'\nY=http://h:2")
	f.Add("O=\"--bind-http tcp://h:1 -Ctcp://m:2\"\nP=--openstore-master-connect='tcp://[::1]:3'\n")
	f.Fuzz(func(t *testing.T, in string) {
		out, changes, err := RewriteEnv(in)
		if err != nil {
			return
		}
		again, more, err := RewriteEnv(out)
		if err != nil || again != out || len(more) != 0 {
			t.Fatalf("not idempotent on %q: %q, %v, %v", in, again, more, err)
		}
		inLines, outLines := splitLines(in), splitLines(out)
		if len(inLines) != len(outLines) {
			t.Fatalf("line count changed: %d -> %d", len(inLines), len(outLines))
		}
		changed := map[int]bool{}
		for _, c := range changes {
			changed[c.Line] = true
		}
		for i := range inLines {
			if !changed[i+1] && inLines[i] != outLines[i] {
				t.Fatalf("unreported change on line %d: %q -> %q", i+1, inLines[i], outLines[i])
			}
		}
	})
}
