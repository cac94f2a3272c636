package lang_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/modsrc"
	"github.com/rokflow/rokflow/lang/modsrc/modsrctest"
)

// A library repository as playbooks share one: a module that calls
// another of the same repository by a relative source.
var libFiles = map[string]string{
	"lib/node-upgrade/main.hcl": `
variable "node" {}

module "common" {
  source = "../common"
}

step "upgrade" {
  uses = "exec"
  on   = var.node
}
`,
	"lib/common/main.hcl": `
step "hello" {
  uses = "exec"
}
`,
}

// getModules loads the playbook as "rokflow modules get" does, fetching
// its git sources, and writes the lock.
func getModules(t *testing.T, path string) {
	t.Helper()
	dir, err := modsrc.PlaybookDir(path)
	if err != nil {
		t.Fatal(err)
	}
	in := &modsrc.Installer{Ctx: context.Background(), Dir: dir, Arg: path, Env: modsrctest.Env()}
	if _, diags := lang.LoadWith(path, lang.LoadOptions{Modules: in}); diags.HasErrors() {
		t.Fatalf("modules get:\n%s", diagText(diags))
	}
	if _, err := in.WriteLock(true); err != nil {
		t.Fatal(err)
	}
}

func TestLoadGitModule(t *testing.T) {
	t.Parallel()
	repo := modsrctest.NewRepo(t)
	repo.Tag("v0.11.0", repo.Commit(libFiles))
	pbDir := t.TempDir()
	writeFile(t, pbDir, "main.hcl", `
module "node" {
  source = "git::`+repo.URL()+`//lib/node-upgrade?ref=v0.11.0"
  node   = "rok1"
}
`)
	// Before modules get: the source is not locked, on its own line.
	_, diags := lang.Load(pbDir)
	d := findDiag(t, diags, "Git module not locked")
	if d.Subject == nil || d.Subject.Start.Line != 3 || !strings.Contains(d.Detail, `"rokflow modules get `+pbDir+`"`) {
		t.Errorf("diagnostic at %v: %s", d.Subject, d.Detail)
	}

	getModules(t, pbDir)
	if _, err := os.Stat(filepath.Join(pbDir, modsrc.LockFile)); err != nil {
		t.Fatal(err)
	}
	pb := mustLoad(t, pbDir) // the lock beside main.hcl is not playbook code
	node := pb.Root.Calls["node"].Module
	if node == nil || node.Steps["upgrade"] == nil || node.Calls["common"].Module.Steps["hello"] == nil {
		t.Fatalf("modules from git not loaded: %+v", node)
	}
	if !strings.Contains(filepath.ToSlash(node.Dir), "/.rokflow/modules/") {
		t.Errorf("module loaded from %s, want the cache", node.Dir)
	}

	// A file changed in the cache is reported on the source that uses it.
	root := filepath.Dir(filepath.Dir(node.Dir))
	writeFile(t, filepath.Join(root, "lib", "common"), "main.hcl", "# changed\n")
	_, diags = lang.Load(pbDir)
	d = findDiag(t, diags, "Git module changed since it was fetched")
	if d.Subject == nil || d.Subject.Start.Line != 3 {
		t.Errorf("diagnostic at %v", d.Subject)
	}
}

// TestLoadGitModuleNested resolves a git module's own git source into
// the same cache, and pins it in the same lock.
func TestLoadGitModuleNested(t *testing.T) {
	t.Parallel()
	inner := modsrctest.NewRepo(t)
	inner.Tag("v1", inner.Commit(libFiles))
	outer := modsrctest.NewRepo(t)
	outer.Tag("v2", outer.Commit(map[string]string{"main.hcl": `
module "inner" {
  source = "git::` + inner.URL() + `//lib/common?ref=v1"
}
`}))
	pbDir := t.TempDir()
	writeFile(t, pbDir, "main.hcl", `
module "outer" {
  source = "git::`+outer.URL()+`?ref=v2"
}
`)
	getModules(t, pbDir)
	pb := mustLoad(t, pbDir)
	if pb.Root.Calls["outer"].Module.Calls["inner"].Module.Steps["hello"] == nil {
		t.Fatal("the nested git module is not loaded")
	}
	lock, err := modsrc.ReadLock(filepath.Join(pbDir, modsrc.LockFile))
	if err != nil || len(lock.Entries()) != 2 {
		t.Fatalf("lock: %v, %v; want both repositories", lock.Entries(), err)
	}
}

func TestLoadGitModuleRefuses(t *testing.T) {
	t.Parallel()
	repo := modsrctest.NewRepo(t)
	repo.Tag("v1", repo.Commit(map[string]string{"lib/a/main.hcl": `
module "out" {
  source = "../../../../elsewhere"
}
`}))
	pbDir := t.TempDir()
	os.Mkdir(filepath.Join(pbDir, "elsewhere"), 0o755)
	writeFile(t, filepath.Join(pbDir, "elsewhere"), "main.hcl", "")
	writeFile(t, pbDir, "main.hcl", `
module "a" {
  source = "git::`+repo.URL()+`//lib/a?ref=v1"
}
`)
	dir, _ := modsrc.PlaybookDir(pbDir)
	in := &modsrc.Installer{Ctx: context.Background(), Dir: dir, Arg: pbDir, Env: modsrctest.Env()}
	_, diags := lang.LoadWith(pbDir, lang.LoadOptions{Modules: in})
	d := findDiag(t, diags, "Module source leaves its repository")
	if d.Subject == nil || !strings.Contains(d.Subject.Filename, ".rokflow/modules/") {
		t.Errorf("diagnostic at %v", d.Subject)
	}
}

func TestLoadGitSourceSyntax(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", `
module "a" {
  source = "git::https://alice:s3cr3t@git.example.com/ops/lib.git?ref=v1"
}

module "b" {
  source = "git::https://git.example.com/ops/lib.git"
}

module "c" {
  source = "https://git.example.com/ops/lib.git"
}
`)
	_, diags := lang.Load(dir)
	if got := errorSummaries(diags); strings.Join(got, "; ") != "Credentials in a module source; Unpinned git module source; Unsupported module source" {
		t.Fatalf("errors: %v", got)
	}
	cred := diags[0]
	if cred.Subject != nil || strings.Contains(cred.Detail, "s3cr3t") || !strings.Contains(cred.Detail, "main.hcl line 3") {
		t.Errorf("credentials diagnostic shows its line or the secret: %v %s", cred.Subject, cred.Detail)
	}
	if d := diags[2]; !strings.Contains(d.Detail, "git::https://HOST/PATH.git//DIR?ref=TAG") {
		t.Errorf("no git:: advice: %s", d.Detail)
	}
}
