package local

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rokflow/rokflow/steps"
)

func TestExec(t *testing.T) {
	dir := t.TempDir()
	canary := filepath.Join(dir, "canary")
	hostile := []string{
		"; touch " + canary,
		"$(touch " + canary + ")",
		"`touch " + canary + "`",
		"line1\nline2",
		`"double" 'single' \back`,
	}
	tests := map[string]struct {
		cmd        steps.Command
		wantOut    string
		wantErr    string
		wantStatus int
	}{
		"argv is passed verbatim": {
			cmd:     steps.Command{Argv: append([]string{"printf", "%s|"}, hostile...)},
			wantOut: strings.Join(hostile, "|") + "|",
		},
		"env is added to the environment": {
			cmd:     steps.Command{Argv: []string{"printenv", "ROKFLOW_TEST"}, Env: map[string]string{"ROKFLOW_TEST": hostile[1]}},
			wantOut: hostile[1] + "\n",
		},
		"stdin is fed": {
			cmd:     steps.Command{Argv: []string{"cat"}, Stdin: []byte(hostile[0])},
			wantOut: hostile[0],
		},
		"dir is the working directory": {
			cmd:     steps.Command{Argv: []string{"pwd"}, Dir: dir},
			wantOut: dir + "\n",
		},
		"non-zero exit is a result": {
			cmd:        steps.Command{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}},
			wantOut:    "out\n",
			wantStatus: 3,
		},
		"signal gives 128+n": {
			cmd:        steps.Command{Argv: []string{"sh", "-c", "kill -TERM $$"}},
			wantStatus: 143,
		},
		"missing program is an error": {
			cmd:     steps.Command{Argv: []string{"rokflow-no-such-program"}},
			wantErr: "executable file not found",
		},
		"empty argv is an error": {
			cmd:     steps.Command{},
			wantErr: "empty command",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res, err := New().Exec(context.Background(), tc.cmd)
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
			if res.ExitStatus != tc.wantStatus {
				t.Errorf("exit status = %d, want %d", res.ExitStatus, tc.wantStatus)
			}
		})
	}
	if _, err := os.Stat(canary); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("canary file exists: an argument was interpreted by a shell")
	}
}

func TestExecStreamsLines(t *testing.T) {
	type line struct{ stream, text string }
	var mu sync.Mutex
	var got []line
	cmd := steps.Command{
		Argv: []string{"sh", "-c", `printf 'a\r\nb\n'; printf 'e1\n' >&2; printf 'tail'`},
		Output: func(stream, text string) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, line{stream, text})
		},
	}
	res, err := New().Exec(context.Background(), cmd)
	if err != nil {
		t.Fatal(err)
	}
	var stdout []string
	for _, l := range got {
		if l.stream == "stdout" {
			stdout = append(stdout, l.text)
		}
	}
	if want := []string{"a", "b", "tail"}; !reflect.DeepEqual(stdout, want) {
		t.Errorf("stdout lines = %q, want %q", stdout, want)
	}
	if !containsLine(got, line{"stderr", "e1"}) {
		t.Errorf("stderr line missing: %q", got)
	}
	if string(res.Stdout) != "a\r\nb\ntail" || string(res.Stderr) != "e1\n" {
		t.Errorf("captured stdout %q stderr %q", res.Stdout, res.Stderr)
	}
}

func containsLine[T comparable](ls []T, l T) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

// TestExecCancelKillsGroup starts a shell that leaves a background child
// holding the output pipe. Exec returns only once every holder of the pipe
// has exited (WaitDelay is set far beyond the test's life), so returning at
// all proves the whole process group was killed.
func TestExecCancelKillsGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &Host{WaitDelay: time.Hour}
	var pid string
	cmd := steps.Command{
		Argv: []string{"sh", "-c", "sleep 300 & echo $!; wait"},
		Output: func(stream, line string) {
			if stream == "stdout" && pid == "" {
				pid = line
				cancel()
			}
		},
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Exec(ctx, cmd)
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute): // a guard against hanging, not synchronisation
		t.Fatal("Exec still waiting a minute after cancellation: the background child was not killed")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := strconv.Atoi(pid); err != nil {
		t.Fatalf("background pid %q: %v", pid, err)
	}
}

func TestBuildArgv(t *testing.T) {
	tests := map[string]struct {
		cmd  steps.Command
		want []string
	}{
		"plain": {
			cmd:  steps.Command{Argv: []string{"ls", "-l"}},
			want: []string{"ls", "-l"},
		},
		"sudo": {
			cmd:  steps.Command{Argv: []string{"systemctl", "stop", "x"}, Sudo: true},
			want: []string{"sudo", "-n", "--", "systemctl", "stop", "x"},
		},
		"sudo with env, sorted": {
			cmd:  steps.Command{Argv: []string{"apt-get"}, Sudo: true, Env: map[string]string{"B": "2", "A": "1"}},
			want: []string{"sudo", "-n", "--", "env", "A=1", "B=2", "apt-get"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := BuildArgv(tc.cmd); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("BuildArgv = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	ctx := context.Background()
	h := New()
	tests := map[string]struct {
		setup    func(t *testing.T, dir string) string // returns the path to write
		mode     fs.FileMode
		wantMode fs.FileMode
		check    func(t *testing.T, dir string)
	}{
		"new file gets the given mode exactly": {
			setup:    func(t *testing.T, dir string) string { return filepath.Join(dir, "new") },
			mode:     0o640,
			wantMode: 0o640,
		},
		"existing file keeps its mode": {
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "old")
				writeTestFile(t, p, "old", 0o600)
				return p
			},
			mode:     0o644,
			wantMode: 0o600,
		},
		"setuid bit is kept": {
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "suid")
				writeTestFile(t, p, "old", 0o755)
				if err := os.Chmod(p, 0o755|fs.ModeSetuid); err != nil {
					t.Fatal(err)
				}
				return p
			},
			mode:     0o644,
			wantMode: 0o755 | fs.ModeSetuid,
		},
		"symlink is kept and its target replaced": {
			setup: func(t *testing.T, dir string) string {
				target := filepath.Join(dir, "target")
				writeTestFile(t, target, "old", 0o644)
				link := filepath.Join(dir, "link")
				if err := os.Symlink("target", link); err != nil {
					t.Fatal(err)
				}
				return link
			},
			mode:     0o600,
			wantMode: 0o644,
			check: func(t *testing.T, dir string) {
				fi, err := os.Lstat(filepath.Join(dir, "link"))
				if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
					t.Errorf("link was replaced: %v %v", fi, err)
				}
				if b, _ := os.ReadFile(filepath.Join(dir, "target")); string(b) != "new contents\n" {
					t.Errorf("target = %q", b)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := tc.setup(t, dir)
			if err := h.WriteFile(ctx, p, []byte("new contents\n"), tc.mode); err != nil {
				t.Fatal(err)
			}
			data, mode, err := h.ReadFile(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != "new contents\n" {
				t.Errorf("contents = %q", data)
			}
			if mode != tc.wantMode {
				t.Errorf("mode = %v, want %v", mode, tc.wantMode)
			}
			if tc.check != nil {
				tc.check(t, dir)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), "rokflow-tmp") {
					t.Errorf("temporary file left behind: %s", e.Name())
				}
			}
		})
	}
}

func TestWriteFileMissingDir(t *testing.T) {
	err := New().WriteFile(context.Background(), filepath.Join(t.TempDir(), "no", "such", "f"), []byte("x"), 0o644)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want not exist", err)
	}
}

func TestGlob(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"qemu-kvm", "kvm", "kvm-ifup", "other"} {
		writeTestFile(t, filepath.Join(dir, n), "", 0o644)
	}
	tests := map[string]struct {
		pattern string
		want    []string
		wantErr bool
	}{
		"wildcards, sorted":       {pattern: filepath.Join(dir, "*kvm*"), want: []string{"kvm", "kvm-ifup", "qemu-kvm"}},
		"literal that exists":     {pattern: filepath.Join(dir, "other"), want: []string{"other"}},
		"literal that is missing": {pattern: filepath.Join(dir, "missing")},
		"bad pattern":             {pattern: filepath.Join(dir, "[x"), wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := New().Glob(context.Background(), tc.pattern)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			var rel []string
			for _, p := range got {
				rel = append(rel, filepath.Base(p))
			}
			if !reflect.DeepEqual(rel, tc.want) {
				t.Errorf("Glob = %q, want %q", rel, tc.want)
			}
		})
	}
}

func writeTestFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
