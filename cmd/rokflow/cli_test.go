package main

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFlag(t *testing.T) {
	code, flag, stderr := run(t, nil, "--version")
	if code != 0 {
		t.Fatalf("--version: exit %d\n%s", code, stderr)
	}
	_, cmd, _ := run(t, nil, "version")
	if flag != cmd || !strings.HasPrefix(flag, "rokflow test (") {
		t.Errorf("--version printed %q, version %q; want the same line, of version %q", flag, cmd, Version)
	}
}

func TestBuildVersion(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	tests := map[string]struct {
		info *debug.BuildInfo
		want string
	}{
		"go install of a tag":              {&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		"go build in a clean checkout":     {&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("false")}, devVersion + "+0123456789ab"},
		"go build in a changed checkout":   {&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("true")}, devVersion + "+0123456789ab-dirty"},
		"go build without VCS":             {&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, devVersion},
		"a commit no tag precedes":         {&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260102030405-0123456789ab"}}, devVersion + "+0123456789ab"},
		"a changed commit no tag precedes": {&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260102030405-0123456789ab+dirty"}}, devVersion + "+0123456789ab-dirty"},
		"a commit after a tag":             {&debug.BuildInfo{Main: debug.Module{Version: "v1.2.4-0.20260102030405-0123456789ab"}}, "v1.2.4-0.20260102030405-0123456789ab"},
		"no build information":             {nil, devVersion},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := buildVersion(func() (*debug.BuildInfo, bool) { return tt.info, tt.info != nil })
			if got != tt.want {
				t.Errorf("buildVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRequiresRokflowWithBuildVersion: a binary that go install built
// from a tag checks requires_rokflow against that tag.
func TestRequiresRokflowWithBuildVersion(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })
	Version = buildVersion(func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true
	})
	step := "step \"s\" {\n  uses    = \"exec\"\n  command = [\"true\"]\n}\n"
	ok := writePlaybook(t, "playbook {\n  name = \"p\"\n  requires_rokflow = \">= 1.2\"\n}\n"+step)
	if code, _, stderr := run(t, nil, "validate", ok); code != 0 {
		t.Errorf("validate with requires_rokflow >= 1.2 on v1.2.3: exit %d\n%s", code, stderr)
	}
	tooOld := writePlaybook(t, "playbook {\n  name = \"p\"\n  requires_rokflow = \">= 2.0\"\n}\n"+step)
	code, _, stderr := run(t, nil, "validate", tooOld)
	if code != 1 || !strings.Contains(stderr, "this is rokflow v1.2.3") {
		t.Errorf("validate with requires_rokflow >= 2.0 on v1.2.3: exit %d, want 1 naming v1.2.3\n%s", code, stderr)
	}
}

func TestHelpCommand(t *testing.T) {
	for _, args := range [][]string{{}, {"plan"}, {"state", "show"}, {"sim", "start"}} {
		name := strings.Join(append([]string{"help"}, args...), " ")
		t.Run(name, func(t *testing.T) {
			code, got, stderr := run(t, nil, append([]string{"help"}, args...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			_, want, _ := run(t, nil, append(args, "--help")...)
			if got != want {
				t.Errorf("%s differs from %s --help:\n%s", name, strings.Join(args, " "), firstDiff(want, got))
			}
		})
	}
	code, _, stderr := run(t, nil, "help", "state", "frob")
	if code != 2 || !strings.Contains(stderr, `no command "state frob"`) {
		t.Errorf("help state frob: exit %d, want 2 and the command named\n%s", code, stderr)
	}
	_, top, _ := run(t, nil, "--help")
	for _, want := range []string{"help", "completion", "--chdir=DIR", "--version", "ROKFLOW_LOG=debug", "ROKFLOW_LOG_PATH"} {
		if !strings.Contains(top, want) {
			t.Errorf("rokflow --help does not show %s:\n%s", want, top)
		}
	}
}

// TestChdir runs commands with every spelling of -chdir: paths, those
// of flags included, are then relative to that directory.
func TestChdir(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(wd) // restores the directory when the test ends
	examples := filepath.Join(wd, "../../examples")
	for _, args := range [][]string{
		{"-chdir=" + examples, "validate", "01-variables"},
		{"--chdir=" + examples, "validate", "01-variables"},
		{"--chdir", examples, "validate", "01-variables"},
		{"validate", "--chdir", examples, "01-variables"},
	} {
		if err := os.Chdir(wd); err != nil {
			t.Fatal(err)
		}
		code, out, stderr := run(t, nil, args...)
		if code != 0 || !strings.Contains(out, "is valid") {
			t.Errorf("%q: exit %d\n%s%s", args, code, out, stderr)
		}
	}

	dir := writePlaybook(t, "step \"s\" {\n  uses    = \"exec\"\n  command = [\"true\"]\n}\n")
	if err := os.Chdir(wd); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, nil, "plan", ".", "--out", "saved.plan", "-chdir="+dir); code != 0 {
		t.Fatalf("plan --out with -chdir after it: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "saved.plan")); err != nil {
		t.Errorf("--out is not relative to -chdir's directory: %v", err)
	}

	for _, tt := range []struct {
		args []string
		err  string
	}{
		{[]string{"-chdir=/does/not/exist", "validate", "."}, "-chdir=/does/not/exist: no such file or directory"},
		{[]string{"-chdir=" + filepath.Join(dir, "main.hcl"), "validate", "."}, "not a directory"},
		{[]string{"validate", ".", "--chdir"}, "--chdir needs a directory"},
		{[]string{"-chdir=", "validate", "."}, "-chdir needs a directory"},
	} {
		if err := os.Chdir(wd); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := run(t, nil, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.err) {
			t.Errorf("%q: exit %d, want 2 and %q:\n%s", tt.args, code, tt.err, stderr)
		}
		if now, _ := os.Getwd(); now != wd {
			t.Errorf("%q changed directory to %s though it failed", tt.args, now)
		}
	}
}

// TestNotAPlaybook: a file that is no playbook is refused as one, with
// what a playbook is, and never read as HCL.
func TestNotAPlaybook(t *testing.T) {
	binary := filepath.Join(t.TempDir(), "rokflow")
	if err := os.WriteFile(binary, []byte("\x7fELF\x02\x01\x01\x00\x00"), 0o755); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notes, []byte("step one: drain\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const what = "a playbook is a directory of .hcl and .hcl.json files, or one such file"
	for _, path := range []string{"../../README.md", notes, binary} {
		for _, cmd := range []string{"validate", "plan", "graph", "apply"} {
			code, _, stderr := run(t, nil, cmd, path)
			if flat := strings.Join(strings.Fields(stderr), " "); code != 1 || !strings.Contains(strings.ToLower(flat), what) {
				t.Errorf("%s %s: exit %d, want 1 saying %q:\n%s", cmd, path, code, what, stderr)
			}
			if strings.Contains(stderr, "Invalid character") || strings.Contains(stderr, "looking for beginning of value") {
				t.Errorf("%s %s read the file as HCL or JSON:\n%s", cmd, path, stderr)
			}
		}
	}
}
