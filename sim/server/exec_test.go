package server

import (
	"strings"
	"testing"

	"github.com/rokflow/rokflow/sim"
)

func TestCommandLines(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	tests := map[string]struct {
		line   string
		code   int
		stdout string
		stderr string
	}{
		"transport form":    {line: pidReport + `exec 'rok-config' 'get' 'cluster.name'`, stdout: "sim\n"},
		"plain words":       {line: `rok-config get cluster.name`, stdout: "sim\n"},
		"double quotes":     {line: `echo "a  b" c`, stdout: "a  b c\n"},
		"cd and exec":       {line: `cd '/etc/rok' && exec 'cat' 'daemons.conf'`, stdout: "# /etc/rok/daemons.conf"},
		"cd missing":        {line: `cd '/nope' && exec 'true'`, code: 2, stderr: "cd: can't cd to /nope"},
		"sudo":              {line: `exec sudo -n -- 'hostname'`, stdout: "rok2\n"},
		"env prefix":        {line: `exec 'env' 'A=1' 'B=two words' 'env'`, stdout: "B=two words\n"},
		"sudo env":          {line: `exec sudo -n -- env 'DEBIAN_FRONTEND=noninteractive' 'printf' '%s-%s\n' 'a' 'b'`, stdout: "a-b\n"},
		"env chdir":         {line: `env -C /etc/rok cat daemons.conf`, stdout: "[composerd.0]"},
		"unquoted assign":   {line: `A=1 env`, stdout: "A=1\n"},
		"quoted assign":     {line: `'A=1' env`, code: 127, stderr: "A=1: not found"},
		"semicolon":         {line: `true; reboot`, code: 127, stderr: "unquoted ';'"},
		"command subst":     {line: `echo $(reboot)`, code: 127, stderr: "command substitution"},
		"backquotes":        {line: "echo `reboot`", code: 127, stderr: "backquote"},
		"pipe":              {line: `cat /etc/passwd | sh`, code: 127, stderr: "pipe"},
		"redirect":          {line: `echo x > /etc/passwd`, code: 127, stderr: "redirection"},
		"or list":           {line: `false || reboot`, code: 127, stderr: "unquoted '|'"},
		"and without cd":    {line: `true && reboot`, code: 127, stderr: "only `cd DIR && COMMAND`"},
		"unknown program":   {line: `exec 'reboot'`, code: 127, stderr: "sh: 1: exec: reboot: not found"},
		"path outside bins": {line: `/tmp/evil`, code: 127, stderr: "not found"},
		"abs path":          {line: `/usr/bin/rok-config get cluster.name`, stdout: "sim\n"},
		"sh script refused": {line: `sh -c 'reboot'`, code: 127, stderr: "refusing to run a script"},
		"sh file refused":   {line: `sh /tmp/x`, code: 127, stderr: "only `sh -c SCRIPT"},
		"empty":             {line: ``, code: 127, stderr: "an interactive shell is not available"},
		"printf":            {line: `printf '%s=%d\n' a 1 b 2`, stdout: "a=1\nb=2\n"},
		"dpkg-query":        {line: `dpkg-query -W rok-base`, stdout: "rok-base\t0.10.2-1\n"},
		"dpkg-query none":   {line: `dpkg-query -W nope`, code: 1, stderr: "no packages found matching nope"},
		"test dir":          {line: `test -d /run/systemd/system`},
		"test missing":      {line: `[ -e /nope ]`, code: 1},
		"systemctl unknown": {line: `systemctl stop nope`, code: 5, stderr: "Unit nope.service not found."},
		"is-active unknown": {line: `systemctl is-active nope`, code: 3, stdout: "inactive\n"},
		"stat":              {line: `stat -L -c %a:%U -- /etc/rok/daemons.conf`, stdout: "644:root\n"},
		"stat missing":      {line: `stat -c %a /nope`, code: 1, stderr: "stat: cannot statx '/nope': No such file or directory"},
		"cat missing":       {line: `cat -- /nope`, code: 1, stderr: "cat: /nope: No such file or directory"},
		"member-list bad":   {line: `rok-cluster-ctl member-list --output yaml`, code: 2, stderr: "invalid choice: 'yaml'"},
		"apt on appliance":  {line: `apt-get install -y rok-base`, code: 100, stderr: "Read-only file system"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := runLine(t, s, "rok2.sim", tc.line, "")
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stdout %q stderr %q", r.code, tc.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tc.stdout) {
				t.Errorf("stdout %q, want it to contain %q", r.stdout, tc.stdout)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr %q, want it to contain %q", r.stderr, tc.stderr)
			}
		})
	}
}

func TestFilePrimitives(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	n := "rok1.sim"
	tmp := strings.TrimSpace(must(t, s, n, "mktemp", "/etc/rok/.daemons.conf.rokflow-tmp-XXXXXXXX"))
	if !strings.HasPrefix(tmp, "/etc/rok/.daemons.conf.rokflow-tmp-") {
		t.Fatalf("mktemp made %q", tmp)
	}
	if got := must(t, s, n, "stat", "-c", "%a", tmp); got != "600\n" {
		t.Errorf("mktemp mode %q", got)
	}
	runLine(t, s, n, "exec 'tee' "+tmp, "hello\n")
	must(t, s, n, "chown", "--", "rok:rok", tmp)
	must(t, s, n, "chmod", "--", "640", tmp)
	must(t, s, n, "sync", "--", tmp)
	must(t, s, n, "mv", "-f", "--", tmp, "/etc/rok/new.conf")
	if got := must(t, s, n, "stat", "-c", "%a %U:%G %s", "/etc/rok/new.conf"); got != "640 rok:rok 6\n" {
		t.Errorf("after mv: %q", got)
	}
	if got := must(t, s, n, "cat", "/etc/rok/new.conf"); got != "hello\n" {
		t.Errorf("content %q", got)
	}
	must(t, s, n, "chmod", "u+x,g-r", "/etc/rok/new.conf")
	if got := must(t, s, n, "stat", "-c", "%A", "/etc/rok/new.conf"); got != "-rwx------\n" {
		t.Errorf("symbolic chmod gave %q", got)
	}
	refused(t, s, n, "chown: invalid user: 'bob'", "chown", "bob", "/etc/rok/new.conf")
	must(t, s, n, "rm", "-f", "--", "/etc/rok/new.conf", "/etc/rok/none")
	refused(t, s, n, "rm: cannot remove '/etc/rok/new.conf': No such file or directory", "rm", "/etc/rok/new.conf")
	// Nothing leaves the node's root.
	r := run(t, s, n, "cat", "../../../../../../../../etc/hostname")
	if r.code != 0 || r.stdout != "rok1\n" {
		t.Errorf("a relative escape read %q (exit %d)", r.stdout, r.code)
	}
}
