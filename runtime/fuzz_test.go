package runtime_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzModule is written beside every fuzzed playbook, so that module calls
// (source = "./lib/m") reach the planner too.
const fuzzModule = `
variable "host" {
  type = string
}

variable "count" {
  type    = number
  default = 1

  validation {
    condition     = var.count > 0
    error_message = "count must be positive"
  }
}

step "say" {
  uses    = "exec"
  on      = var.host
  command = ["echo", tostring(var.count)]
}

output "said" {
  value = step.say.outputs.stdout
}
`

// FuzzPlan runs arbitrary bytes, as a one-file playbook, through the whole
// static pipeline: load, bind inputs (required ones unknown), plan. Every
// problem must come back as a diagnostic, never as a panic.
func FuzzPlan(f *testing.F) {
	dirs := []string{"testdata/errors", "testdata/fuzz/seeds", "../examples", "../playbooks", "../lang/testdata"}
	for _, dir := range dirs {
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
		mod := filepath.Join(dir, "lib", "m")
		if err := os.MkdirAll(mod, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mod, "main.hcl"), []byte(fuzzModule), 0o644); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "main.hcl")
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		planPath(t, path, nil)
	})
}
