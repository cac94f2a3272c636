package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// run runs rokflow in-process with a clean environment and returns its
// exit code and output.
func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return env[k] }
	environ := func() []string {
		var kv []string
		for k, v := range env {
			kv = append(kv, k+"="+v)
		}
		return kv
	}
	code := Main(args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: getenv, Environ: environ})
	return code, out.String(), errb.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/rokflow -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", name, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + w + "\n  got: " + g
		}
	}
	return ""
}

func TestMain(m *testing.M) {
	Version = "test"
	os.Exit(m.Run())
}

func TestExitCodes(t *testing.T) {
	tests := map[string]struct {
		args []string
		code int
		err  string
	}{
		"version":          {[]string{"version"}, 0, ""},
		"help":             {[]string{"--help"}, 0, ""},
		"unknown command":  {[]string{"frobnicate"}, 2, "unexpected argument"},
		"unknown flag":     {[]string{"plan", "--frob", "../../examples/01-variables"}, 2, "unknown flag"},
		"missing argument": {[]string{"plan"}, 2, "expected"},
		"missing path":     {[]string{"validate", "does-not-exist"}, 1, "Cannot read playbook"},
		"bad playbook":     {[]string{"validate", "../../runtime/testdata/errors/cycle.hcl"}, 1, "Dependency cycle"},
		"bad var":          {[]string{"plan", "../../examples/01-variables", "--var", "environment=moon"}, 1, "The environment must be production or staging."},
		"undeclared var":   {[]string{"plan", "../../examples/01-variables", "--var", "enviroment=staging"}, 1, `Did you mean "environment"?`},
		"malformed var":    {[]string{"plan", "../../examples/01-variables", "--var", "nonsense"}, 1, "NAME=VALUE"},
		"unknown kind doc": {[]string{"steps", "exce"}, 1, `Did you mean "exec"?`},
		"valid example":    {[]string{"validate", "../../examples/02-rolling"}, 0, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := run(t, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if tc.err != "" && !strings.Contains(stderr, tc.err) {
				t.Errorf("stderr does not mention %q:\n%s", tc.err, stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic:") {
				t.Errorf("stderr shows a Go stack trace:\n%s", stderr)
			}
		})
	}
}

func TestPlanGoldenExamples(t *testing.T) {
	examples, _ := filepath.Glob("../../examples/0*")
	if len(examples) < 4 {
		t.Fatalf("want at least four examples, found %d", len(examples))
	}
	for _, ex := range examples {
		name := filepath.Base(ex)
		t.Run(name, func(t *testing.T) {
			code, out, stderr := run(t, nil, "plan", ex)
			if code != 0 {
				t.Fatalf("plan exited %d:\n%s", code, stderr)
			}
			golden(t, "plan-"+name+".txt", out)
		})
	}
}

func TestPlanJSON(t *testing.T) {
	code, out, stderr := run(t, nil, "plan", "--json", "../../examples/02-rolling")
	if code != 0 {
		t.Fatalf("plan --json exited %d:\n%s", code, stderr)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
		Instances     []map[string]any
		Groups        []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not one JSON document: %v", err)
	}
	if doc.FormatVersion != "1.0" || len(doc.Instances) != 21 || len(doc.Groups) != 1 {
		t.Fatalf("format %q, %d instances, %d groups", doc.FormatVersion, len(doc.Instances), len(doc.Groups))
	}
	for _, inst := range doc.Instances {
		for _, field := range []string{"address", "kind", "target", "depends_on", "read_only", "once", "args"} {
			if _, ok := inst[field]; !ok {
				t.Errorf("instance %v has no %q", inst["address"], field)
			}
		}
	}
	golden(t, "plan-02-rolling.json", out)
}

func TestSensitiveNeverShown(t *testing.T) {
	const secret = "s3cr3t-canary-4711"
	env := map[string]string{"ROKFLOW_VAR_api_token": secret}
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	for _, args := range [][]string{
		{"plan", "../../examples/01-variables"},
		{"plan", "--json", "../../examples/01-variables"},
		{"plan", "--out", planFile, "../../examples/01-variables"},
		{"graph", "../../examples/01-variables"},
	} {
		code, out, stderr := run(t, env, args...)
		if code != 0 {
			t.Fatalf("%v exited %d:\n%s", args, code, stderr)
		}
		if strings.Contains(out+stderr, secret) {
			t.Errorf("%v shows the secret", args)
		}
	}
	b, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(secret)) {
		t.Error("the saved plan holds the secret")
	}
	if !bytes.Contains(b, []byte("(sensitive)")) {
		t.Error("the saved plan does not show the masked argument")
	}
}

func TestNoColorWhenPiped(t *testing.T) {
	_, out, _ := run(t, nil, "plan", "../../examples/04-gates")
	if strings.Contains(out, "\x1b[") {
		t.Error("plan output to a pipe has color escapes")
	}
}

func TestStepsDocs(t *testing.T) {
	code, out, _ := run(t, nil, "steps")
	if code != 0 || !strings.Contains(out, "file.replace") {
		t.Fatalf("steps listing: %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "steps", "exec")
	if code != 0 || !strings.Contains(out, "command") || !strings.Contains(out, "Outputs") {
		t.Fatalf("steps exec: %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "steps", "--json")
	var doc struct {
		Kinds []struct {
			Name string
			Args struct {
				Attributes map[string]struct{ Description string }
			}
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Kinds) < 10 {
		t.Fatalf("steps --json: %d, %d kinds", code, len(doc.Kinds))
	}
	for _, k := range doc.Kinds {
		for name, a := range k.Args.Attributes {
			if a.Description == "" {
				t.Errorf("%s.%s has no description", k.Name, name)
			}
		}
	}
}

func TestFmt(t *testing.T) {
	dir := t.TempDir()
	messy := "step \"a\" {\nuses=\"exec\"\n    command = [\"true\"]\n}\n"
	path := filepath.Join(dir, "main.hcl")
	if err := os.WriteFile(path, []byte(messy), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run(t, nil, "fmt", "--check", dir); code != 1 || !strings.Contains(out, "main.hcl") {
		t.Fatalf("fmt --check on a messy file: exit %d, %q", code, out)
	}
	if code, _, stderr := run(t, nil, "fmt", dir); code != 0 {
		t.Fatalf("fmt: exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(path)
	want := "step \"a\" {\n  uses    = \"exec\"\n  command = [\"true\"]\n}\n"
	if string(got) != want {
		t.Fatalf("formatted:\n%s\nwant:\n%s", got, want)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("fmt changed the file mode to %v", info.Mode().Perm())
	}
	if code, _, _ := run(t, nil, "fmt", "--check", dir); code != 0 {
		t.Fatalf("fmt --check after fmt: exit %d", code)
	}
	if code, _, _ := run(t, nil, "fmt", "--check", "../../examples", "../../playbooks"); code != 0 {
		t.Errorf("the shipped playbooks and examples are not formatted")
	}
}

func TestGraph(t *testing.T) {
	code, out, _ := run(t, nil, "graph", "../../examples/02-rolling")
	if code != 0 || !strings.HasPrefix(out, "digraph ") || !strings.Contains(out, `"step.preflight[\"node1\"]" -> "group.upgrade[\"node1\"].step.drain"`) {
		t.Fatalf("graph: %d\n%s", code, out)
	}
}
