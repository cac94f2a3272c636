package ssh

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/rokflow/rokflow/steps/transport/local"
)

// specialNames are file names a shell would act on.
func specialNames(canary string) []string {
	return []string{
		"plain",
		"with space",
		"it's",
		`double"quote`,
		"$(touch " + canary + ")",
		"`touch " + canary + "`",
		"; touch " + canary,
		"new\nline",
		"star*",
		"q?mark",
		"[bracket]",
		"back\\slash",
		"-dash",
		".hidden",
		"ü ☃",
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	_, h := s.host(t, s.config())
	ctx := context.Background()
	dir := t.TempDir()
	canary, _, checkCanary := newCanary(t, dir)

	content := []byte("binary\x00\xff\r\nno trailing newline")
	for _, n := range specialNames(canary) {
		p := filepath.Join(dir, n)
		writeFile(t, p, string(content)+n, 0o640)
		data, mode, err := h.ReadFile(ctx, p)
		if err != nil {
			t.Errorf("ReadFile(%q): %v", n, err)
			continue
		}
		if !bytes.Equal(data, append(content, n...)) || mode != 0o640 {
			t.Errorf("ReadFile(%q) = %q %v", n, data, mode)
		}
	}

	empty := filepath.Join(dir, "empty")
	writeFile(t, empty, "", 0o600)
	if data, mode, err := h.ReadFile(ctx, empty); err != nil || len(data) != 0 || mode != 0o600 {
		t.Errorf("empty file: %q %v %v", data, mode, err)
	}

	suid := filepath.Join(dir, "suid")
	writeFile(t, suid, "x", 0o755)
	if err := os.Chmod(suid, 0o755|fs.ModeSetuid|fs.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if _, mode, err := h.ReadFile(ctx, suid); err != nil || mode != 0o755|fs.ModeSetuid|fs.ModeSticky {
		t.Errorf("setuid file: mode %v, err %v", mode, err)
	}

	link := filepath.Join(dir, "link")
	if err := os.Symlink("plain", link); err != nil {
		t.Fatal(err)
	}
	if data, _, err := h.ReadFile(ctx, link); err != nil || string(data) != string(content)+"plain" {
		t.Errorf("through a link: %q %v", data, err)
	}

	for _, p := range []string{filepath.Join(dir, "missing"), filepath.Join(dir, "no", "such", "file"), filepath.Join(dir, "dangling")} {
		if p == filepath.Join(dir, "dangling") {
			os.Symlink("nowhere", p)
		}
		_, _, err := h.ReadFile(ctx, p)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadFile(%s): err = %v, want fs.ErrNotExist", p, err)
		}
	}
	if _, _, err := h.ReadFile(ctx, dir); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(directory): err = %v, want a failure that is not ErrNotExist", err)
	}
	checkCanary()
}

func TestWriteFile(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	_, h := s.host(t, s.config())
	ctx := context.Background()
	canary, _, checkCanary := newCanary(t, t.TempDir())
	t.Cleanup(checkCanary) // after the parallel subtests
	const nobody = 65534
	tests := map[string]struct {
		setup     func(t *testing.T, dir string) string // returns the path to write
		mode      fs.FileMode
		wantMode  fs.FileMode
		wantOwner int // uid and gid, when not -1
		check     func(t *testing.T, dir string)
		root      bool // needs root
	}{
		"new file gets the given mode exactly": {
			setup:    func(t *testing.T, dir string) string { return filepath.Join(dir, "new") },
			mode:     0o640,
			wantMode: 0o640,
		},
		"new file with a name a shell would act on": {
			setup: func(t *testing.T, dir string) string {
				return filepath.Join(dir, "$(touch "+canary+") `touch "+canary+"` 'q' *\nz")
			},
			mode:     0o600,
			wantMode: 0o600,
		},
		"existing file keeps its mode": {
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "old")
				writeFile(t, p, "old", 0o600)
				return p
			},
			mode:     0o644,
			wantMode: 0o600,
		},
		"setuid bit is kept": {
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "suid")
				writeFile(t, p, "old", 0o755)
				if err := os.Chmod(p, 0o755|fs.ModeSetuid); err != nil {
					t.Fatal(err)
				}
				return p
			},
			mode:     0o644,
			wantMode: 0o755 | fs.ModeSetuid,
		},
		"owner is kept": {
			root: true,
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "owned")
				writeFile(t, p, "old", 0o4750)
				if err := os.Chown(p, nobody, nobody); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(p, 0o750|fs.ModeSetgid); err != nil {
					t.Fatal(err)
				}
				return p
			},
			mode:      0o644,
			wantMode:  0o750 | fs.ModeSetgid, // chown before chmod: the bit survives
			wantOwner: nobody,
		},
		"symlink is kept and its target replaced": {
			setup: func(t *testing.T, dir string) string {
				target := filepath.Join(dir, "target")
				writeFile(t, target, "old", 0o644)
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
			t.Parallel()
			if tc.root && os.Geteuid() != 0 {
				t.Skip("needs root to give a file to another user")
			}
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
			if tc.wantOwner != 0 {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				st := fi.Sys().(*syscall.Stat_t)
				if int(st.Uid) != tc.wantOwner || int(st.Gid) != tc.wantOwner {
					t.Errorf("owner = %d:%d, want %d:%d", st.Uid, st.Gid, tc.wantOwner, tc.wantOwner)
				}
			}
			if tc.check != nil {
				tc.check(t, dir)
			}
			assertNoTemporaryFiles(t, dir)
		})
	}
}

func assertNoTemporaryFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "rokflow-tmp") {
			t.Errorf("temporary file left behind: %q", e.Name())
		}
	}
}

func TestWriteFileErrors(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	_, h := s.host(t, s.config())
	ctx := context.Background()
	dir := t.TempDir()

	err := h.WriteFile(ctx, filepath.Join(dir, "no", "such", "f"), []byte("x"), 0o644)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing directory: err = %v, want fs.ErrNotExist", err)
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	err = h.WriteFile(ctx, sub, []byte("x"), 0o644)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("writing over a directory: err = %v", err)
	}
	// A failure after the temporary file was made removes it.
	ro := filepath.Join(dir, "ro")
	writeFile(t, ro, "old", 0o644)
	if err := h.WriteFile(ctx, filepath.Join(dir, "ro", "x"), nil, 0o644); err == nil {
		t.Errorf("writing under a regular file succeeded")
	}
	assertNoTemporaryFiles(t, dir)

	// Empty contents make an empty file.
	empty := filepath.Join(dir, "empty")
	if err := h.WriteFile(ctx, empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Errorf("empty file: %v %v", fi, err)
	}
}

// TestWriteFileAtomic replaces a file over and over while readers on the
// machine read it: every read must see one whole version, never a mix or a
// truncated file.
func TestWriteFileAtomic(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	_, h := s.host(t, s.config())
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "big file")
	versions := [][]byte{bytes.Repeat([]byte("A"), 1<<20), bytes.Repeat([]byte("B"), 1<<20+17)}
	if err := h.WriteFile(ctx, p, versions[0], 0o644); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var reads, bad atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				data, err := os.ReadFile(p)
				reads.Add(1)
				if err != nil || !(bytes.Equal(data, versions[0]) || bytes.Equal(data, versions[1])) {
					bad.Add(1)
				}
			}
		}()
	}
	for i := range 10 {
		if err := h.WriteFile(ctx, p, versions[i%2], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() > 0 {
		t.Errorf("%d of %d reads saw a partial or missing file", bad.Load(), reads.Load())
	}
	assertNoTemporaryFiles(t, dir)
}

// TestGlob compares the SSH transport's Glob with the local transport's on
// the same tree: same syntax, same results.
func TestGlob(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	_, h := s.host(t, s.config())
	ctx := context.Background()
	dir := t.TempDir()
	canary, _, checkCanary := newCanary(t, dir)
	for _, n := range specialNames(canary) {
		writeFile(t, filepath.Join(dir, n), "", 0o644)
	}
	for _, d := range []string{"sub one", "sub two", "$(touch " + canary + ") d"} {
		os.MkdirAll(filepath.Join(dir, d, "conf.d"), 0o755)
		writeFile(t, filepath.Join(dir, d, "conf.d", "a.conf"), "", 0o644)
		writeFile(t, filepath.Join(dir, d, "conf.d", "b.conf"), "", 0o644)
		writeFile(t, filepath.Join(dir, d, "conf.d", ".c.conf"), "", 0o644)
	}
	os.Symlink("nowhere", filepath.Join(dir, "dangling"))

	patterns := map[string]struct {
		pattern string
		wantN   int // matches expected (the local transport's result must agree)
	}{
		"everything":                      {pattern: "*", wantN: len(specialNames(canary)) + 4},
		"wildcard in a dir with a space":  {pattern: "sub one/conf.d/*.conf", wantN: 3},
		"wildcard directory":              {pattern: "sub*/conf.d/?.conf", wantN: 4},
		"wildcard in every component":     {pattern: "*/*/*.conf", wantN: 9},
		"literal that exists":             {pattern: "with space", wantN: 1},
		"literal with shell syntax":       {pattern: "; touch " + canary, wantN: 1},
		"literal that is missing":         {pattern: "missing", wantN: 0},
		"dangling symlink matches":        {pattern: "dang*", wantN: 1},
		"shell syntax in a pattern":       {pattern: "$(touch " + canary + ")*", wantN: 2},
		"backquotes in a pattern":         {pattern: "`touch " + canary + "`*", wantN: 1},
		"escaped wildcard":                {pattern: `star\*`, wantN: 1},
		"class":                           {pattern: "[a-p]*", wantN: 6},
		"negated class":                   {pattern: "[^a-z]*", wantN: 8},
		"newline in a name":               {pattern: "new?line", wantN: 1},
		"no match in a missing directory": {pattern: "nodir/*", wantN: 0},
		"no match under a file":           {pattern: "plain/*", wantN: 0},
	}
	for name, tc := range patterns {
		t.Run(name, func(t *testing.T) {
			pattern := filepath.Join(dir, tc.pattern)
			got, err := h.Glob(ctx, pattern)
			if err != nil {
				t.Fatal(err)
			}
			want, err := local.New().Glob(ctx, pattern)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Glob(%q)\n  ssh   %q\n  local %q", tc.pattern, got, want)
			}
			if len(got) != tc.wantN {
				t.Errorf("Glob(%q) = %d matches %q, want %d", tc.pattern, len(got), got, tc.wantN)
			}
		})
	}
	t.Run("bad pattern", func(t *testing.T) {
		if _, err := h.Glob(ctx, filepath.Join(dir, "[x")); err == nil {
			t.Errorf("bad pattern: no error")
		}
	})
	t.Run("relative to the login directory", func(t *testing.T) {
		home, _ := os.UserHomeDir()
		if home == "" {
			t.Skip("no home directory")
		}
		got, err := h.Glob(ctx, ".")
		if err != nil || !reflect.DeepEqual(got, []string{"."}) {
			t.Errorf("Glob(.) = %q, %v", got, err)
		}
	})
	checkCanary()
}

// TestWriteScriptRefusesShortInput runs the write script with real sh as a
// dropped connection would leave it: its input ends before all the bytes
// the transport sent arrived. The file must stay as it was, and no
// temporary file may remain.
func TestWriteScriptRefusesShortInput(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "daemons.conf")
	if err := os.WriteFile(p, []byte("connect = tcp://10.0.0.1:8080\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		data string
		size int
		ok   bool
	}{
		{"connect = role=slave,http", 41, false},
		{"", 41, false},
		{"connect = role=slave,http://10.0.0.1:8080\n", 42, true},
	} {
		cmd := exec.Command("sh", "-c", writeScript, "rokflow-write", p, "644", strconv.Itoa(c.size))
		cmd.Stdin = strings.NewReader(c.data)
		out, err := cmd.CombinedOutput()
		got, _ := os.ReadFile(p)
		switch {
		case c.ok && err != nil:
			t.Fatalf("a whole write failed: %v: %s", err, out)
		case c.ok && string(got) != c.data:
			t.Fatalf("the file is %q after a whole write", got)
		case !c.ok && err == nil:
			t.Fatalf("%d of %d bytes replaced the file: %q", len(c.data), c.size, got)
		case !c.ok && string(got) != "connect = tcp://10.0.0.1:8080\n":
			t.Fatalf("a short write changed the file to %q", got)
		case !c.ok && !strings.Contains(string(out), "bytes arrived; the file is left as it was"):
			t.Fatalf("the refusal does not say why: %s", out)
		}
		assertNoTemporaryFiles(t, dir)
	}
}
