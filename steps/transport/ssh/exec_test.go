package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rokflow/rokflow/internal/waitfor"
	"github.com/rokflow/rokflow/steps"
)

// hostile are arguments a shell would act on if they were not quoted; each
// would create the canary file.
func hostile(canary string) []string {
	return []string{
		"; touch " + canary,
		"; rm -rf /tmp/x; touch " + canary,
		"$(touch " + canary + ")",
		"`touch " + canary + "`",
		"line1\ntouch " + canary + "\nline3",
		"' ; touch " + canary + " ; '",
		`"; touch ` + canary + `; "`,
		`\'; touch ` + canary + `; \'`,
		"| touch " + canary,
		"&& touch " + canary,
		"> " + canary,
		"*",
		"/*",
		"~",
		"$HOME ${PATH} $1 $@ $$",
		"{a,b}",
		"-n",
		"",
		" leading and trailing spaces ",
		"tab\there",
		"\x01\x7f\xff\xfe unicode: é ☃",
	}
}

// newCanary returns the name of a file that hostile values try to create,
// relative (file names cannot hold a slash: it lands in the remote shell's
// working directory, the login's home) or absolute in dir, and a check that
// it exists nowhere.
func newCanary(t *testing.T, dir string) (name, abs string, check func()) {
	name = fmt.Sprintf("rokflow-canary-%d", rand.Int64())
	abs = filepath.Join(dir, name)
	home, _ := os.UserHomeDir()
	wd, _ := os.Getwd()
	return name, abs, func() {
		t.Helper()
		for _, p := range []string{abs, filepath.Join(home, name), filepath.Join(wd, name), filepath.Join("/", name)} {
			if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
				os.Remove(p)
				t.Errorf("canary file %s exists: a value was interpreted by the remote shell", p)
			}
		}
	}
}

func TestExec(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	_, h := s.host(t, s.config())
	dir := filepath.Join(t.TempDir(), `it's a "dir" $(x) `+"`y`")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stdin := []byte("binary\x00stdin\r\n'$(id)'\xff")
	tests := map[string]struct {
		cmd        steps.Command
		wantOut    string
		wantErr    string
		wantStatus int // -2: any failure
	}{
		"true":                       {cmd: steps.Command{Argv: []string{"true"}}},
		"exit status is a result":    {cmd: steps.Command{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}}, wantOut: "out\n", wantStatus: 3},
		"false":                      {cmd: steps.Command{Argv: []string{"false"}}, wantStatus: 1},
		"signal is 128+n":            {cmd: steps.Command{Argv: []string{"sh", "-c", "kill -TERM $$"}}, wantStatus: 128 + 15},
		"SIGKILL is 137":             {cmd: steps.Command{Argv: []string{"sh", "-c", "kill -KILL $$"}}, wantStatus: 137},
		"SIGUSR1 is 138":             {cmd: steps.Command{Argv: []string{"sh", "-c", "kill -USR1 $$"}}, wantStatus: 128 + 10},
		"missing program is 127":     {cmd: steps.Command{Argv: []string{"rokflow-no-such-program"}}, wantStatus: 127},
		"program, not shell builtin": {cmd: steps.Command{Argv: []string{"type"}}, wantStatus: 127},
		"env is set": {
			cmd:     steps.Command{Argv: []string{"printenv", "ROKFLOW_A", "ROKFLOW_B"}, Env: map[string]string{"ROKFLOW_A": "a b '$(id)'", "ROKFLOW_B": "x=y\nz"}},
			wantOut: "a b '$(id)'\nx=y\nz\n",
		},
		"stdin is fed byte for byte": {cmd: steps.Command{Argv: []string{"cat"}, Stdin: stdin}, wantOut: string(stdin)},
		"no stdin is empty":          {cmd: steps.Command{Argv: []string{"wc", "-c"}}, wantOut: "0\n"},
		"dir is the working directory": {
			cmd:     steps.Command{Argv: []string{"pwd"}, Dir: dir},
			wantOut: dir + "\n",
		},
		"dir and env together": {
			cmd:     steps.Command{Argv: []string{"sh", "-c", `printf '%s|%s' "$PWD" "$V"`}, Dir: dir, Env: map[string]string{"V": "v"}},
			wantOut: dir + "|v",
		},
		"missing dir fails the command": {cmd: steps.Command{Argv: []string{"true"}, Dir: "/rokflow/no/such/dir"}, wantStatus: -2},
		"empty argv is an error":        {cmd: steps.Command{}, wantErr: "empty command"},
		"NUL in an argument is an error": {
			cmd: steps.Command{Argv: []string{"echo", "a\x00b"}}, wantErr: "NUL",
		},
		"option as program is an error": {cmd: steps.Command{Argv: []string{"-c", "id"}}, wantErr: "begins with '-'"},
		"bad env name is an error":      {cmd: steps.Command{Argv: []string{"true"}, Env: map[string]string{"A=B": "c"}}, wantErr: "invalid environment variable name"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, err := h.Exec(context.Background(), tc.cmd)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(res.Stdout); got != tc.wantOut {
				t.Errorf("stdout = %q, want %q", got, tc.wantOut)
			}
			if tc.wantStatus == -2 { // any failure: shells differ
				if res.ExitStatus <= 0 {
					t.Errorf("exit status = %d, want a failure", res.ExitStatus)
				}
				return
			}
			if res.ExitStatus != tc.wantStatus {
				t.Errorf("exit status = %d, want %d (stderr %q)", res.ExitStatus, tc.wantStatus, res.Stderr)
			}
		})
	}
}

func TestExecStderrCaptured(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	_, h := s.host(t, s.config())
	res := run(t, h, steps.Command{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 2"}})
	if string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" || res.ExitStatus != 2 {
		t.Fatalf("got stdout %q stderr %q status %d", res.Stdout, res.Stderr, res.ExitStatus)
	}
}

// TestExecInjection passes arguments, environment values and a directory
// that a shell would act on; they must come back byte for byte and the
// canary must not exist.
func TestExecInjection(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	_, h := s.host(t, s.config())
	canaryName, canary, checkCanary := newCanary(t, t.TempDir())
	args := hostile(canary)

	res := run(t, h, steps.Command{Argv: append([]string{"printf", `%s\0`}, args...)})
	want := strings.Join(args, "\x00") + "\x00"
	if string(res.Stdout) != want || res.ExitStatus != 0 {
		t.Errorf("printf output differs:\n got %q\nwant %q\nstderr %q", res.Stdout, want, res.Stderr)
	}

	for i, v := range args {
		env := map[string]string{"ROKFLOW_V": v}
		res := run(t, h, steps.Command{Argv: []string{"printenv", "ROKFLOW_V"}, Env: env})
		if string(res.Stdout) != v+"\n" {
			t.Errorf("env value %d: got %q, want %q", i, res.Stdout, v+"\n")
		}
	}

	// A program name made of shell syntax is looked up as a whole name.
	res = run(t, h, steps.Command{Argv: []string{"true; touch " + canary}})
	if res.ExitStatus != 127 {
		t.Errorf("hostile program name: status %d, want 127", res.ExitStatus)
	}

	base := t.TempDir()
	for i, name := range []string{"$(touch " + canaryName + ")", "`touch " + canaryName + "`", "a'; touch " + canaryName + "; 'b", "new\nline", "*"} {
		d := filepath.Join(base, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		res := run(t, h, steps.Command{Argv: []string{"pwd"}, Dir: d})
		if string(res.Stdout) != d+"\n" {
			t.Errorf("dir %d: pwd = %q, want %q", i, res.Stdout, d+"\n")
		}
	}
	checkCanary()
}

func TestBuildCommand(t *testing.T) {
	tests := map[string]struct {
		cmd        steps.Command
		sudo, root bool
		want       string
	}{
		"every word quoted": {
			cmd:  steps.Command{Argv: []string{"ls", "-l", "it's"}},
			want: `exec 'ls' '-l' 'it'\''s'`,
		},
		"dir, env sorted": {
			cmd:  steps.Command{Argv: []string{"make"}, Dir: "/src/a b", Env: map[string]string{"B": "2", "A": "$x"}},
			want: `cd '/src/a b' && exec env 'A=$x' 'B=2' 'make'`,
		},
		"sudo then env": {
			cmd:  steps.Command{Argv: []string{"apt-get", "install"}, Sudo: true, Env: map[string]string{"DEBIAN_FRONTEND": "noninteractive"}},
			want: `exec sudo -n -- env 'DEBIAN_FRONTEND=noninteractive' 'apt-get' 'install'`,
		},
		"config sudo": {
			cmd:  steps.Command{Argv: []string{"id"}},
			sudo: true,
			want: `exec sudo -n -- 'id'`,
		},
		"no sudo for root": {
			cmd:  steps.Command{Argv: []string{"id"}, Sudo: true},
			sudo: true, root: true,
			want: `exec 'id'`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildCommand(tc.cmd, tc.sudo, tc.root)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("buildCommand = %s\n                want %s", got, tc.want)
			}
		})
	}
}

func TestExecStreamsLines(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	_, h := s.host(t, s.config())
	type line struct {
		stream, text string
		at           time.Time
	}
	var mu sync.Mutex
	var got []line
	cmd := steps.Command{
		Argv: []string{"sh", "-c", `printf 'a\r\nb\n'; printf 'e1\n' >&2; sleep 0.6; printf 'c\ntail'`},
		Output: func(stream, text string) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, line{stream, text, time.Now()})
		},
	}
	res := run(t, h, cmd)
	var stdout []string
	var first, last time.Time
	for _, l := range got {
		if l.stream == "stdout" {
			stdout = append(stdout, l.text)
			if l.text == "a" {
				first = l.at
			}
			if l.text == "c" {
				last = l.at
			}
		}
	}
	if want := []string{"a", "b", "c", "tail"}; !reflect.DeepEqual(stdout, want) {
		t.Errorf("stdout lines = %q, want %q", stdout, want)
	}
	if !slicesContains(got, func(l line) bool { return l.stream == "stderr" && l.text == "e1" }) {
		t.Errorf("stderr line missing: %v", got)
	}
	// Lines arrive as they are printed, not when the command ends.
	if d := last.Sub(first); d < 400*time.Millisecond {
		t.Errorf("line a came %v before line c; want the 0.6s sleep between them (not streamed?)", d)
	}
	if string(res.Stdout) != "a\r\nb\nc\ntail" || string(res.Stderr) != "e1\n" {
		t.Errorf("captured stdout %q stderr %q", res.Stdout, res.Stderr)
	}
}

func slicesContains[T any](s []T, f func(T) bool) bool {
	for _, x := range s {
		if f(x) {
			return true
		}
	}
	return false
}

// TestExecCancel cancels a long sleep: Exec returns at once with the
// context's error, the remote sleep is killed, and the connection still
// serves the next command.
func TestExecCancel(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	p, h := s.host(t, s.config())
	secs := strconv.Itoa(3000 + rand.IntN(6000)) // names this sleep among the machine's processes
	ctx, cancel := context.WithCancel(context.Background())
	var res steps.ExecResult
	var err error
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		res, err = h.Exec(ctx, steps.Command{Argv: []string{"sh", "-c", "echo started; exec sleep " + secs}, Output: func(stream, line string) {
			if line == "started" {
				cancel()
			}
		}})
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Exec still running 30s after cancellation")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res.ExitStatus != -1 || string(res.Stdout) != "started\n" {
		t.Errorf("result = %d %q, want -1 and what was captured", res.ExitStatus, res.Stdout)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Exec took %v to return after cancellation", d)
	}
	// The remote command was killed.
	waitfor.Condition(t, 10*time.Second, "the remote sleep "+secs+" to be killed", func() bool {
		out, _ := exec.Command("pgrep", "-f", "^sleep "+secs+"$").Output()
		return len(bytes.TrimSpace(out)) == 0
	})
	if res := run(t, h, steps.Command{Argv: []string{"echo", "after"}}); string(res.Stdout) != "after\n" {
		t.Errorf("after cancellation: %q", res.Stdout)
	}
	if n := p.dials.Load(); n != 1 {
		t.Errorf("dials = %d, want 1", n)
	}
}

func TestExecCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	_, h := s.host(t, s.config())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Exec(ctx, steps.Command{Argv: []string{"true"}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestSudoCommandLine(t *testing.T) {
	// As root, Sudo needs no sudo(8) on the host: the command runs as is.
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	if s.user != "root" {
		t.Skip("the test server logs in as the current user, which is not root")
	}
	cfg := s.config()
	cfg.Sudo = true
	_, h := s.host(t, cfg)
	res := run(t, h, steps.Command{Argv: []string{"id", "-u"}, Sudo: true, Env: map[string]string{"A": "1"}})
	if string(res.Stdout) != "0\n" {
		t.Fatalf("id -u = %q (stderr %q)", res.Stdout, res.Stderr)
	}
}

func ExampleConfig_String() {
	fmt.Println(Config{User: "deploy", Password: "hunter2"})
	// Output: ssh.Config{user="deploy" port=0 identity=[] known_hosts=[] insecure=false agent=false password=(set) sudo=false}
}
