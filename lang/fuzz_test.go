package lang_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/lang"
)

// seedDirs hold the playbooks whose files seed the fuzz corpora: every
// error fixture, example and shipped playbook, and this package's fixtures.
var seedDirs = []string{"../runtime/testdata/errors", "../examples", "../playbooks", "testdata"}

// seedFiles returns the contents of every .hcl file under seedDirs (variable
// files included: they are HCL too).
func seedFiles(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, dir := range seedDirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".hcl") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out = append(out, src)
			return nil
		})
		if err != nil {
			tb.Fatalf("reading fuzz seeds: %v", err)
		}
	}
	if len(out) == 0 {
		tb.Fatal("no fuzz seeds found")
	}
	return out
}

// FuzzLoad loads arbitrary bytes as a one-file playbook. Load must report
// problems as diagnostics and never panic.
func FuzzLoad(f *testing.F) {
	for _, src := range seedFiles(f) {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		pb, diags := lang.Load(dir)
		if pb == nil {
			t.Fatal("Load returned a nil playbook")
		}
		if !diags.HasErrors() {
			// Defaults and their validations run here.
			lang.BindInputs(pb.Root, lang.NewInputSet(), true)
		}
	})
}

// FuzzLoadJSON loads arbitrary bytes as a one-file playbook in HCL's JSON
// syntax.
func FuzzLoadJSON(f *testing.F) {
	seeds := []string{
		`{}`,
		`{"playbook": {"name": "x"}}`,
		`{"variable": {"v": {"type": "string", "default": "a"}}}`,
		`{"variable": {"v": {"type": "list(string)", "validation": {"condition": "${length(var.v) > 0}", "error_message": "empty"}}}}`,
		`{"step": {"a": {"uses": "exec", "command": ["true"]}, "b": {"uses": "exec", "depends_on": ["step.a"]}}}`,
		`{"group": {"g": {"for_each": "${[1,2]}", "rolling": {"batch": 1}, "step": {"s": {"uses": "exec"}}}}}`,
		`{"module": {"m": {"source": "./", "x": 1}}}`,
		`{"locals": {"a": "${local.b}", "b": 1}, "output": {"o": {"value": "${local.a}"}}}`,
		`[{"step": {"a": {"uses": "exec"}}}, {"step": {"a": {"uses": "exec"}}}]`,
	}
	for _, s := range seeds {
		if !json.Valid([]byte(s)) {
			f.Fatalf("seed is not JSON: %s", s)
		}
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl.json"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		pb, _ := lang.Load(dir)
		if pb == nil {
			t.Fatal("Load returned a nil playbook")
		}
	})
}
