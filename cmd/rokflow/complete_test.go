package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/internal/posixsh"
)

// completionDir holds a playbook directory, a playbook file, a variable
// file, a file that is neither, and a hidden directory.
func completionDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"playbooks/rok-v0.11", ".rokflow"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"play.hcl", "prod.vars.hcl", "prod.json", "plan.out", "README.md"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// completed runs rokflow __complete and returns the values it offers.
func completed(t *testing.T, words ...string) []string {
	t.Helper()
	code, out, stderr := run(t, nil, append([]string{completeCommand}, words...)...)
	if code != 0 || stderr != "" {
		t.Fatalf("__complete %q: exit %d\n%s", words, code, stderr)
	}
	var vals []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l != "" {
			v, _, _ := strings.Cut(l, "\t")
			vals = append(vals, v)
		}
	}
	return vals
}

func TestComplete(t *testing.T) {
	dir := completionDir(t)
	tests := map[string]struct {
		words []string
		want  []string
	}{
		"a command":                   {[]string{"pl"}, []string{"plan"}},
		"every command":               {[]string{""}, []string{"validate", "plan", "apply", "completion", "help", "version"}},
		"a subcommand":                {[]string{"state", "s"}, []string{"show"}},
		"a flag":                      {[]string{"plan", "--var-f"}, []string{"--var-file"}},
		"a global flag":               {[]string{"plan", "--ch"}, []string{"--chdir"}},
		"a command to explain":        {[]string{"help", "state", ""}, []string{"list", "show"}},
		"a shell":                     {[]string{"completion", ""}, []string{"bash", "zsh", "fish"}},
		"an enum argument":            {[]string{"sim", "operator", "power-"}, []string{"power-off", "power-on"}},
		"a step kind":                 {[]string{"steps", "exe"}, []string{"exec"}},
		"a playbook path":             {[]string{"validate", dir + "/"}, []string{dir + "/play.hcl", dir + "/playbooks/"}},
		"into a directory":            {[]string{"plan", dir + "/playbooks/"}, []string{dir + "/playbooks/rok-v0.11/"}},
		"a plan file too for apply":   {[]string{"apply", dir + "/pl"}, []string{dir + "/plan.out", dir + "/play.hcl", dir + "/playbooks/"}},
		"hidden only when asked":      {[]string{"validate", dir + "/."}, []string{dir + "/.rokflow/"}},
		"a variable file":             {[]string{"plan", "x", "--var-file", dir + "/pr"}, []string{dir + "/prod.json", dir + "/prod.vars.hcl"}},
		"a variable file after =":     {[]string{"plan", "x", "--var-file=" + dir + "/pr"}, []string{"--var-file=" + dir + "/prod.json", "--var-file=" + dir + "/prod.vars.hcl"}},
		"relative to -chdir":          {[]string{"-chdir=" + dir, "validate", "p"}, []string{"play.hcl", "playbooks/"}},
		"relative to --chdir":         {[]string{"--chdir", dir, "plan", "playbooks/"}, []string{"playbooks/rok-v0.11/"}},
		"a directory for -chdir":      {[]string{"-chdir=" + dir + "/p"}, []string{"-chdir=" + dir + "/playbooks/"}},
		"nothing after the arguments": {[]string{"validate", "x", ""}, nil},
		"nothing for a free value":    {[]string{"plan", "x", "--var", ""}, nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := completed(t, tt.words...)
			if tt.want == nil {
				if len(got) != 0 {
					t.Errorf("got %q, want nothing", got)
				}
				return
			}
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("%q is not among %q", w, got)
				}
			}
			for _, g := range got {
				if strings.HasSuffix(g, "README.md") || strings.HasSuffix(g, "__complete") {
					t.Errorf("offered %q", g)
				}
			}
		})
	}
	if got := completed(t, "plan", dir+"/p"); slices.Contains(got, dir+"/plan.out") {
		t.Errorf("plan offers a file that is not HCL: %q", got)
	}
	if got := completed(t, "plan", "--var-file", dir+"/"); slices.Contains(got, dir+"/README.md") || slices.Contains(got, dir+"/plan.out") {
		t.Errorf("--var-file offers a file that is neither .hcl nor .json: %q", got)
	}
}

// TestCompletionScripts checks that each script parses in its shell, and
// runs the bash one as bash runs it at a tab: with the line, the cursor
// and the words set, rokflow (this test binary) on PATH.
func TestCompletionScripts(t *testing.T) {
	scripts := t.TempDir()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, stderr := run(t, nil, "completion", shell)
		if code != 0 || !strings.Contains(out, completeCommand) {
			t.Fatalf("completion %s: exit %d\n%s%s", shell, code, out, stderr)
		}
		path := filepath.Join(scripts, "rokflow."+shell)
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := exec.LookPath(shell); err != nil {
			t.Logf("no %s here to check its script with", shell)
			continue
		}
		if b, err := exec.Command(shell, "-n", path).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", shell, err, b)
		}
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	wrapper := "#!/bin/sh\n" + childEnv + "=1 exec " + posixsh.Word(self) + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "rokflow"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := completionDir(t)
	tests := []struct {
		line string
		want []string
	}{
		{"rokflow pl", []string{"plan"}},
		{"rokflow state ", []string{"list", "show"}},
		{"rokflow completion z", []string{"zsh"}},
		{"rokflow validate " + dir + "/play", []string{dir + "/play.hcl", dir + "/playbooks/"}},
		// bash counts the word from after the =, and so must the reply.
		{"rokflow plan x --var-file=" + dir + "/prod.v", []string{dir + "/prod.vars.hcl"}},
		{"rokflow -chdir=" + dir + " validate playbooks/", []string{"playbooks/rok-v0.11/"}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			script := `source "$1"
read -r -a COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_POINT=${#COMP_LINE}
_rokflow
printf '%s\n' "${COMPREPLY[@]}"`
			cmd := exec.Command("bash", "-c", script, "bash", filepath.Join(scripts, "rokflow.bash"))
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "COMP_LINE="+tt.line)
			b, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, b)
			}
			got := strings.Split(strings.TrimSpace(string(b)), "\n")
			if !slices.Equal(got, tt.want) {
				t.Errorf("COMPREPLY = %q, want %q", got, tt.want)
			}
		})
	}
}
