package openstore

import (
	"errors"
	"strings"
	"testing"
)

// The v0.10-era and v0.11-style daemons.conf of rok.md §7.5.
const (
	daemonsConfOld = `# /etc/rok/daemons.conf
[composerd.0]
map-version = 3
openstore-controller = tcp://10.0.0.11:8080

[hasherd.0]
openstore-controller = tcp://10.0.0.11:8080

[external-controller.0]
bind-http = tcp://10.0.0.12:9090
`
	daemonsConfNew = `# /etc/rok/daemons.conf
[composerd.0]
map-version = 3
connect = role=slave,http://10.0.0.11:8080

[hasherd.0]
connect = role=slave,http://10.0.0.11:8080

[external-controller.0]
controller-listen = role=slave,http://10.0.0.12:9090
`
)

func TestRewriteConfig(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		changes []string // Change.String() of each change
	}{
		{
			name: "rok.md example",
			in:   daemonsConfOld,
			want: daemonsConfNew,
			changes: []string{
				"line 4 [composerd.0]: openstore-controller = tcp://10.0.0.11:8080 -> connect = role=slave,http://10.0.0.11:8080",
				"line 7 [hasherd.0]: openstore-controller = tcp://10.0.0.11:8080 -> connect = role=slave,http://10.0.0.11:8080",
				"line 10 [external-controller.0]: bind-http = tcp://10.0.0.12:9090 -> controller-listen = role=slave,http://10.0.0.12:9090",
			},
		},
		{
			name: "already migrated",
			in:   daemonsConfNew,
			want: daemonsConfNew,
		},
		{
			name: "the four combinations from pre-0.11 options",
			in: "[openstored.0]\nlisten = tcp://10.0.0.11:8080\nopenstore-master-connect = tcp://10.0.0.12:9090\n" +
				"[composerd.0]\nopenstore-controller = tcp://10.0.0.11:8080\n" +
				"[external-controller.0]\nbind-http = tcp://10.0.0.12:9090\n",
			want: "[openstored.0]\nlisten = role=master,http://10.0.0.11:8080\nconnect = role=master,http://10.0.0.12:9090\n" +
				"[composerd.0]\nconnect = role=slave,http://10.0.0.11:8080\n" +
				"[external-controller.0]\ncontroller-listen = role=slave,http://10.0.0.12:9090\n",
			changes: []string{
				"line 2 [openstored.0]: listen = tcp://10.0.0.11:8080 -> listen = role=master,http://10.0.0.11:8080",
				"line 3 [openstored.0]: openstore-master-connect = tcp://10.0.0.12:9090 -> connect = role=master,http://10.0.0.12:9090",
				"line 5 [composerd.0]: openstore-controller = tcp://10.0.0.11:8080 -> connect = role=slave,http://10.0.0.11:8080",
				"line 7 [external-controller.0]: bind-http = tcp://10.0.0.12:9090 -> controller-listen = role=slave,http://10.0.0.12:9090",
			},
		},
		{
			name:    "master connect already switched to http by sed",
			in:      "[openstored.0]\nOpenStore-Master-Connect = http://h:1\n",
			want:    "[openstored.0]\nconnect = role=master,http://h:1\n",
			changes: []string{"line 2 [openstored.0]: OpenStore-Master-Connect = http://h:1 -> connect = role=master,http://h:1"},
		},
		{
			name: "all four combinations already v0.11",
			in: "[a.0]\nconnect = role=master,http://1.2.3.4:8080\n" +
				"[b.0]\nconnect = http://1.2.3.4:9090\n" +
				"[c.0]\nconnect = role=slave,http://1.2.3.4:9090\n" +
				"[d.0]\nlisten = http://1.2.3.4:9090\n" +
				"[e.0]\nlisten = role=master,http://1.2.3.4:9090\n" +
				"[f.0]\nlisten = role=slave,http://1.2.3.4:8080\n" +
				"[g.0]\ncontroller-listen = role=slave,http://1.2.3.4:8080\n",
			want: "[a.0]\nconnect = role=master,http://1.2.3.4:8080\n" +
				"[b.0]\nconnect = http://1.2.3.4:9090\n" +
				"[c.0]\nconnect = role=slave,http://1.2.3.4:9090\n" +
				"[d.0]\nlisten = http://1.2.3.4:9090\n" +
				"[e.0]\nlisten = role=master,http://1.2.3.4:9090\n" +
				"[f.0]\nlisten = role=slave,http://1.2.3.4:8080\n" +
				"[g.0]\ncontroller-listen = role=slave,http://1.2.3.4:8080\n",
		},
		{
			name: "current keys with tcp get their flag's default role written",
			in:   "[x.0]\nconnect = tcp://1.2.3.4:8080\nlisten = tcp://1.2.3.4:9090\ncontroller-listen = tcp://[::1]:9091\n",
			want: "[x.0]\nconnect = role=slave,http://1.2.3.4:8080\nlisten = role=master,http://1.2.3.4:9090\ncontroller-listen = role=slave,http://[::1]:9091\n",
			changes: []string{
				"line 2 [x.0]: connect = tcp://1.2.3.4:8080 -> connect = role=slave,http://1.2.3.4:8080",
				"line 3 [x.0]: listen = tcp://1.2.3.4:9090 -> listen = role=master,http://1.2.3.4:9090",
				"line 4 [x.0]: controller-listen = tcp://[::1]:9091 -> controller-listen = role=slave,http://[::1]:9091",
			},
		},
		{
			name: "old keys already switched to http by sed",
			in:   "[x.0]\nopenstore-controller = http://h:1\n[y.0]\nbind-http = http://h:2\n",
			want: "[x.0]\nconnect = role=slave,http://h:1\n[y.0]\ncontroller-listen = role=slave,http://h:2\n",
			changes: []string{
				"line 2 [x.0]: openstore-controller = http://h:1 -> connect = role=slave,http://h:1",
				"line 4 [y.0]: bind-http = http://h:2 -> controller-listen = role=slave,http://h:2",
			},
		},
		{
			name: "layout kept byte for byte",
			in: "; leading comment with tcp://old:1\r\n" +
				"[composerd.0]  \r\n" +
				"  OpenStore-Controller:tcp://h:8080  \r\n" +
				"map-version=3\r\n" +
				"\r\n" +
				"# trailing comment\r\n" +
				"unrelated =  keep   this  ",
			want: "; leading comment with tcp://old:1\r\n" +
				"[composerd.0]  \r\n" +
				"  connect:role=slave,http://h:8080  \r\n" +
				"map-version=3\r\n" +
				"\r\n" +
				"# trailing comment\r\n" +
				"unrelated =  keep   this  ",
			changes: []string{"line 3 [composerd.0]: OpenStore-Controller = tcp://h:8080 -> connect = role=slave,http://h:8080"},
		},
		{
			name:    "current key keeps its spelling",
			in:      "[x.0]\nConnect    =    tcp://h:1\n",
			want:    "[x.0]\nConnect    =    role=slave,http://h:1\n",
			changes: []string{"line 2 [x.0]: Connect = tcp://h:1 -> Connect = role=slave,http://h:1"},
		},
		{
			name: "options before any section and in DEFAULT",
			in:   "openstore-controller = tcp://h:1\n[DEFAULT]\nbind-http = tcp://h:2\n",
			want: "connect = role=slave,http://h:1\n[DEFAULT]\ncontroller-listen = role=slave,http://h:2\n",
			changes: []string{
				"line 1: openstore-controller = tcp://h:1 -> connect = role=slave,http://h:1",
				"line 3 [DEFAULT]: bind-http = tcp://h:2 -> controller-listen = role=slave,http://h:2",
			},
		},
		{
			name:    "same key in different sections is fine",
			in:      "[a.0]\nbind-http = tcp://h:1\n[b.0]\ncontroller-listen = role=slave,http://h:2\n",
			want:    "[a.0]\ncontroller-listen = role=slave,http://h:1\n[b.0]\ncontroller-listen = role=slave,http://h:2\n",
			changes: []string{"line 2 [a.0]: bind-http = tcp://h:1 -> controller-listen = role=slave,http://h:1"},
		},
		{
			name: "duplicates that need no change are left alone",
			in:   "[a.0]\nconnect = http://h:1\nconnect = http://h:2\n",
			want: "[a.0]\nconnect = http://h:1\nconnect = http://h:2\n",
		},
		{
			name:    "unrelated continuation lines kept",
			in:      "[a.0]\nflags = one\n  two\n\n  three\nopenstore-controller = tcp://h:1\n",
			want:    "[a.0]\nflags = one\n  two\n\n  three\nconnect = role=slave,http://h:1\n",
			changes: []string{"line 6 [a.0]: openstore-controller = tcp://h:1 -> connect = role=slave,http://h:1"},
		},
		{
			name:    "equally indented options are not continuations",
			in:      "[a.0]\n  x = 1\n  bind-http = tcp://h:1\n",
			want:    "[a.0]\n  x = 1\n  controller-listen = role=slave,http://h:1\n",
			changes: []string{"line 3 [a.0]: bind-http = tcp://h:1 -> controller-listen = role=slave,http://h:1"},
		},
		{
			name: "unrelated http endpoint untouched",
			in:   "[a.0]\netcd-endpoint = http://10.0.0.1:2379\n",
			want: "[a.0]\netcd-endpoint = http://10.0.0.1:2379\n",
		},
		{
			name: "empty",
			in:   "",
			want: "",
		},
		{
			name:    "no trailing newline",
			in:      "[a.0]\nconnect = tcp://h:1",
			want:    "[a.0]\nconnect = role=slave,http://h:1",
			changes: []string{"line 2 [a.0]: connect = tcp://h:1 -> connect = role=slave,http://h:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes, err := RewriteConfig(tt.in)
			if err != nil {
				t.Fatalf("RewriteConfig: %v", err)
			}
			if got != tt.want {
				t.Fatalf("RewriteConfig output:\n%q\nwant:\n%q", got, tt.want)
			}
			checkChanges(t, changes, tt.changes)

			again, changes, err := RewriteConfig(got)
			if err != nil || again != got || len(changes) != 0 {
				t.Fatalf("not idempotent: second run gave %q, %v, %v", again, changes, err)
			}
		})
	}
}

func TestRewriteConfigRefuses(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		errors []string // each refusal's message, in order; matched by substring
		lines  []int    // LineError.Line of each refusal
	}{
		{
			name:   "tcp with a role",
			in:     "[a.0]\nconnect = role=slave,tcp://h:1\n",
			errors: []string{"line 2: [a.0] connect: invalid OpenStore endpoint \"role=slave,tcp://h:1\": legacy tcp:// endpoints cannot carry a role"},
			lines:  []int{2},
		},
		{
			name:   "bind-http and controller-listen in one section",
			in:     "[external-controller.0]\ncontroller-listen = role=slave,http://h:1\nbind-http = tcp://h:2\n",
			errors: []string{"line 3: [external-controller.0] bind-http (which becomes controller-listen) conflicts with controller-listen on line 2: both would set controller-listen"},
			lines:  []int{3},
		},
		{
			name:   "openstore-controller and connect in one section",
			in:     "[composerd.0]\nopenstore-controller = tcp://h:1\n\n[hasherd.0]\nconnect = http://x:1\n[composerd.0]\nconnect = tcp://h:2\n",
			errors: []string{"line 7: [composerd.0] connect conflicts with openstore-controller (which becomes connect) on line 2"},
			lines:  []int{7},
		},
		{
			name:   "two legacy options",
			in:     "[a.0]\nopenstore-controller = tcp://h:1\nopenstore-controller = tcp://h:2\n",
			errors: []string{"line 3: [a.0] openstore-controller (which becomes connect) conflicts with openstore-controller (which becomes connect) on line 2"},
			lines:  []int{3},
		},
		{
			name:   "a daemon that connects as master and as slave",
			in:     "[openstored.0]\nopenstore-controller = tcp://h:1\nopenstore-master-connect = tcp://h:2\n",
			errors: []string{"line 3: [openstored.0] openstore-master-connect (which becomes connect) conflicts with openstore-controller (which becomes connect) on line 2: both would set connect"},
			lines:  []int{3},
		},
		{
			name:   "legacy option with a role",
			in:     "[a.0]\nbind-http = role=slave,http://h:1\n",
			errors: []string{"bind-http is a pre-0.11 option and never took a role"},
			lines:  []int{2},
		},
		{
			name:   "unknown option with tcp",
			in:     "[a.0]\nstats-endpoint = tcp://h:1\n",
			errors: []string{`line 2: option "stats-endpoint" holds a tcp:// value but is not an OpenStore endpoint option (known: openstore-controller, openstore-master-connect, bind-http, connect, listen, controller-listen)`},
			lines:  []int{2},
		},
		{
			name:   "garbage endpoint",
			in:     "[a.0]\nconnect = tcp://h\n",
			errors: []string{"missing port"},
			lines:  []int{2},
		},
		{
			name:   "inline comment",
			in:     "[a.0]\nconnect = tcp://h:1 ; old\n",
			errors: []string{"whitespace"},
			lines:  []int{2},
		},
		{
			name:   "empty endpoint value",
			in:     "[a.0]\nlisten =\n",
			errors: []string{"listen: invalid OpenStore endpoint \"\": empty"},
			lines:  []int{2},
		},
		{
			name:   "multi-line endpoint",
			in:     "[a.0]\nconnect = tcp://h:1\n    tcp://h:2\n",
			errors: []string{"line 3: [a.0] the value of connect (line 2) continues on this line"},
			lines:  []int{3},
		},
		{
			name:   "continuation with tcp",
			in:     "[a.0]\nextra-args = --foo\n    --peer tcp://h:1\n",
			errors: []string{`line 3: continuation of option "extra-args" (line 2) mentions tcp://`},
			lines:  []int{3},
		},
		{
			name:   "indented option after an option is a continuation",
			in:     "[a.0]\nmap-version = 3\n\tbind-http = tcp://h:1\n",
			errors: []string{`line 3: continuation of option "map-version" (line 2) mentions tcp://`},
			lines:  []int{3},
		},
		{
			name:   "non-INI line with tcp",
			in:     "[a.0]\ntcp://h:1\n",
			errors: []string{"line 2: line mentions tcp:// but is not a key = value option"},
			lines:  []int{2},
		},
		{
			name: "every refusal reported in line order",
			in:   "[a.0]\nfoo = tcp://h:1\nconnect = http://h\n[b.0]\nbind-http = tcp://h:1\ncontroller-listen = tcp://h:2\n",
			errors: []string{
				`line 2: option "foo"`,
				"line 3: [a.0] connect: invalid OpenStore endpoint",
				"line 6: [b.0] controller-listen conflicts with bind-http (which becomes controller-listen) on line 5",
			},
			lines: []int{2, 3, 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes, err := RewriteConfig(tt.in)
			if err == nil {
				t.Fatalf("RewriteConfig accepted input, gave %q (%v)", got, changes)
			}
			if got != "" || changes != nil {
				t.Fatalf("RewriteConfig returned output with an error: %q, %v", got, changes)
			}
			checkLineErrors(t, err, tt.errors, tt.lines)
		})
	}
}

func checkChanges(t *testing.T, got []Change, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d changes %v, want %d %q", len(got), got, len(want), want)
	}
	for i := range got {
		if s := got[i].String(); s != want[i] {
			t.Errorf("change %d = %q, want %q", i, s, want[i])
		}
	}
}

// checkLineErrors unpacks the joined refusals and matches them in order.
func checkLineErrors(t *testing.T, err error, msgs []string, lines []int) {
	t.Helper()
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %v is not a joined error", err)
	}
	errs := joined.Unwrap()
	if len(errs) != len(msgs) {
		t.Fatalf("got %d refusals:\n%v\nwant %d", len(errs), err, len(msgs))
	}
	for i, e := range errs {
		if !strings.Contains(e.Error(), msgs[i]) {
			t.Errorf("refusal %d = %q, want it to contain %q", i, e, msgs[i])
		}
		var le *LineError
		if !errors.As(e, &le) {
			t.Errorf("refusal %d (%v) is not a *LineError", i, e)
			continue
		}
		if le.Line != lines[i] {
			t.Errorf("refusal %d names line %d, want %d", i, le.Line, lines[i])
		}
	}
}

func TestMigrateOption(t *testing.T) {
	tests := []struct {
		name, key, value   string
		wantKey, wantValue string
		changed            bool
		error              string
	}{
		{name: "openstore-controller", key: "openstore-controller", value: "tcp://h:1", wantKey: "connect", wantValue: "role=slave,http://h:1", changed: true},
		{name: "openstore-master-connect", key: "openstore-master-connect", value: "tcp://h:1", wantKey: "connect", wantValue: "role=master,http://h:1", changed: true},
		{name: "master connect with role", key: "openstore-master-connect", value: "role=master,http://h:1", error: "never took a role"},
		{name: "bind-http", key: "bind-http", value: "tcp://h:1", wantKey: "controller-listen", wantValue: "role=slave,http://h:1", changed: true},
		{name: "connect tcp", key: "connect", value: "tcp://h:1", wantKey: "connect", wantValue: "role=slave,http://h:1", changed: true},
		{name: "listen tcp", key: "listen", value: "tcp://h:1", wantKey: "listen", wantValue: "role=master,http://h:1", changed: true},
		{name: "controller-listen tcp", key: "controller-listen", value: "tcp://h:1", wantKey: "controller-listen", wantValue: "role=slave,http://h:1", changed: true},
		{name: "upper-case renamed key", key: "BIND-HTTP", value: "tcp://h:1", wantKey: "controller-listen", wantValue: "role=slave,http://h:1", changed: true},
		{name: "master connect kept", key: "connect", value: "role=master,http://h:1", wantKey: "connect", wantValue: "role=master,http://h:1"},
		{name: "slave listen kept", key: "listen", value: "role=slave,http://h:1", wantKey: "listen", wantValue: "role=slave,http://h:1"},
		{name: "unknown key", key: "map-version", value: "3", wantKey: "map-version", wantValue: "3"},
		{name: "unknown key tcp", key: "peer", value: "tcp://h:1", error: `option "peer" holds a tcp:// value`},
		{name: "unknown key upper TCP", key: "peer", value: "TCP://h:1", error: `option "peer" holds a tcp:// value`},
		{name: "bad value", key: "connect", value: "http://h", error: "connect: invalid OpenStore endpoint"},
		{name: "renamed with role", key: "openstore-controller", value: "role=master,http://h:1", error: "never took a role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, v, changed, err := MigrateOption(tt.key, tt.value)
			if tt.error != "" {
				if err == nil || !strings.Contains(err.Error(), tt.error) {
					t.Fatalf("MigrateOption(%q, %q) error = %v, want %q", tt.key, tt.value, err, tt.error)
				}
				return
			}
			if err != nil || k != tt.wantKey || v != tt.wantValue || changed != tt.changed {
				t.Fatalf("MigrateOption(%q, %q) = %q, %q, %v, %v; want %q, %q, %v",
					tt.key, tt.value, k, v, changed, err, tt.wantKey, tt.wantValue, tt.changed)
			}
		})
	}
}

func TestConfigRules(t *testing.T) {
	rules := ConfigRules()
	rules[0].NewKey = "mutated"
	if ConfigRules()[0].NewKey != "connect" {
		t.Fatal("ConfigRules returned the internal slice")
	}
	for _, r := range ConfigRules() {
		t.Run(r.Key, func(t *testing.T) {
			if !r.Role.Valid() {
				t.Errorf("invalid role %q", r.Role)
			}
			if r.Direction != Connect && r.Direction != Listen {
				t.Errorf("invalid direction %v", r.Direction)
			}
			if _, known := lookupRule(r.NewKey, false); !known {
				t.Errorf("new key %q is not itself a known option (idempotency would break)", r.NewKey)
			}
		})
	}
}

// FuzzRewriteConfig checks, for any input RewriteConfig accepts, that the
// output is a fixed point, that only the reported lines changed, and that
// every changed line is a v0.11 endpoint option.
func FuzzRewriteConfig(f *testing.F) {
	f.Add(daemonsConfOld)
	f.Add(daemonsConfNew)
	f.Add("[a]\r\nconnect:tcp://[::1]:1\r\n  x\r\nlisten = tcp://h:2")
	f.Add("[a]\nflags = x\n\ty\nbind-http=http://h:3\n")
	f.Fuzz(func(t *testing.T, in string) {
		out, changes, err := RewriteConfig(in)
		if err != nil {
			return
		}
		again, more, err := RewriteConfig(out)
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
			if e, err := Parse(c.New); err != nil || e.IsLegacy() || !e.RoleExplicit {
				t.Fatalf("change %v wrote %q: %v", c, c.New, err)
			}
		}
		for i := range inLines {
			if !changed[i+1] && inLines[i] != outLines[i] {
				t.Fatalf("unreported change on line %d: %q -> %q", i+1, inLines[i], outLines[i])
			}
		}
	})
}
