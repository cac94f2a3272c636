package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHookBlockCallsLoad: a module called from a caller's hook block is
// loaded, relative to the caller's directory, and a hook block naming no
// hook of the module is refused with the hooks it has.
func TestHookBlockCallsLoad(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"main.hcl": `
module "node" {
  source = "./node"
  hook "after_boot" {
    module "extra" {
      source = "./extra"
    }
  }
}
`,
		"node/main.hcl": `
hook "after_boot" {
  description = "After the BOOT swap."
}
`,
		"extra/main.hcl": `
step "s" {
  uses    = "exec"
  command = ["true"]
}
`,
	}
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pb, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	extra := pb.Root.Calls["node"].Hooks["after_boot"].Calls["extra"]
	if extra == nil || extra.Module == nil || extra.Module.Steps["s"] == nil {
		t.Fatalf("the hook block's module call was not loaded: %+v", extra)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`
module "node" {
  source = "./node"
  hook "after_bot" {
  }
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, diags := Load(dir); !diags.HasErrors() || diags[0].Summary != "Unknown hook" || !strings.Contains(diags[0].Detail, `Did you mean "after_boot"?`) {
		t.Fatalf("a misspelt hook: %v", diags)
	}
}
