package runtime_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzPlan runs arbitrary bytes, as a one-file playbook, through the whole
// static pipeline: load, bind inputs (required ones unknown), plan. Every
// problem must come back as a diagnostic, never as a panic.
func FuzzPlan(f *testing.F) {
	for _, dir := range []string{"testdata/errors", "../examples", "../playbooks"} {
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
			f.Add(src)
			return nil
		})
		if err != nil {
			f.Fatalf("reading fuzz seeds: %v", err)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "main.hcl")
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		planPath(t, path, nil)
	})
}

func TestZZProbe(t *testing.T) {
	src := os.Getenv("PROBE")
	if src == "" {
		t.Skip()
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "main.hcl")
	os.WriteFile(path, []byte(src), 0o644)
	p, diags := planPath(t, path, nil)
	for _, d := range diags {
		t.Logf("%s: %s", d.Summary, d.Detail)
	}
	if p != nil {
		for _, in := range p.Instances {
			t.Logf("instance %+v", in.Address)
		}
	}
}
