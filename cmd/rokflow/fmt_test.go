package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	unformatted = "step \"x\" {\nuses=\"exec\"\n  command=[\"a\"]\n}\n"
	formatted   = "step \"x\" {\n  uses    = \"exec\"\n  command = [\"a\"]\n}\n"
)

// runStdin is run with standard input.
func runStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Environ: func() []string { return nil }})
	return code, out.String(), errb.String()
}

func TestFmtStdin(t *testing.T) {
	tests := map[string]struct {
		args       []string
		stdin      string
		code       int
		out, errIs string
	}{
		"formats":                  {[]string{"fmt", "-"}, unformatted, 0, formatted, ""},
		"formatted already":        {[]string{"fmt", "-"}, formatted, 0, formatted, ""},
		"check, unformatted":       {[]string{"fmt", "--check", "-"}, unformatted, 1, "", "standard input needs formatting"},
		"check, formatted":         {[]string{"fmt", "--check", "-"}, formatted, 0, "", ""},
		"diff":                     {[]string{"fmt", "--diff", "-"}, unformatted, 0, "--- <standard input>\n+++ <standard input>\n@@ -1,4 +1,4 @@\n", ""},
		"syntax error":             {[]string{"fmt", "-"}, "x = = 1\n", 1, "", "on <standard input> line 1"},
		"stdin and files together": {[]string{"fmt", "-", "."}, unformatted, 2, "", "fmt - formats standard input alone"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, stderr := runStdin(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, stderr)
			}
			if !strings.HasPrefix(out, tt.out) || (tt.out == "" && out != "") {
				t.Errorf("stdout:\n%s\nwant it to start with:\n%s", out, tt.out)
			}
			if tt.errIs != "" && !strings.Contains(stderr, tt.errIs) {
				t.Errorf("stderr does not hold %q:\n%s", tt.errIs, stderr)
			}
		})
	}
}

// TestFmtDiffHeaders: both headers name the file as it is reached from
// here, without git's a/ and b/.
func TestFmtDiffHeaders(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if err := os.MkdirAll("playbooks", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("playbooks/x.hcl", []byte(unformatted), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"playbooks", "playbooks/x.hcl", "./playbooks"} {
		code, out, stderr := run(t, nil, "fmt", "--diff", arg)
		if code != 0 || !strings.HasPrefix(out, "--- playbooks/x.hcl\n+++ playbooks/x.hcl\n@@ ") {
			t.Errorf("fmt --diff %s: exit %d\n%s%s", arg, code, out, stderr)
		}
	}
	abs, _ := filepath.Abs("playbooks/x.hcl")
	t.Chdir(wd)
	if code, out, _ := run(t, nil, "fmt", "--diff", abs); code != 0 || !strings.HasPrefix(out, "--- "+abs+"\n+++ "+abs+"\n") {
		t.Errorf("fmt --diff of a file outside the working directory:\n%s", out)
	}
}
