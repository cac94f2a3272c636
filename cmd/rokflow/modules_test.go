package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/lang/modsrc"
	"github.com/rokflow/rokflow/lang/modsrc/modsrctest"
)

// gitEnv is the environment rokflow runs git in for these tests.
func gitEnv() map[string]string {
	env := map[string]string{}
	for _, kv := range modsrctest.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	env["NO_COLOR"] = "1"
	return env
}

// TestModulesGet is the life of a playbook whose module comes from git:
// refused until fetched, fetched and pinned, applied, tampered with,
// and upgraded when its tag moves.
func TestModulesGet(t *testing.T) {
	repo := modsrctest.NewRepo(t)
	first := repo.Commit(map[string]string{
		"lib/greet/main.hcl": `
variable "who" {}

step "hello" {
  uses    = "exec"
  command = ["echo", "hello", var.who]
}
`,
	})
	repo.Tag("v1", first)
	pb := t.TempDir()
	src := "git::" + repo.URL() + "//lib/greet?ref=v1"
	if err := os.WriteFile(filepath.Join(pb, "main.hcl"), []byte(`
module "greet" {
  source = "`+src+`"
  who    = "world"
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := gitEnv()
	pkg := "git::" + repo.URL() + "?ref=v1"
	lockName := filepath.Join(pb, modsrc.LockFile)

	code, _, stderr := run(t, env, "validate", pb)
	stderr = strings.Join(strings.Fields(stderr), " ")
	if code != exitFailed || !strings.Contains(stderr, "Git module not locked") ||
		!strings.Contains(stderr, "main.hcl line 3") || !strings.Contains(stderr, "rokflow modules get "+pb) {
		t.Fatalf("validate before modules get: exit %d\n%s", code, stderr)
	}

	code, out, stderr := run(t, env, "modules", "get", pb)
	parsed, err := modsrc.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	checkout := filepath.Join(pb, ".rokflow", "modules", modsrc.CheckoutName(parsed))
	want := pkg + ": fetched " + first[:12] + " into " + checkout + "\nWrote " + lockName + ": 1 repository pinned.\n"
	if code != exitOK || out != want {
		t.Fatalf("modules get: exit %d\n%s\nwant:\n%s\n%s", code, out, want, stderr)
	}
	if code, out, stderr := run(t, env, "validate", pb); code != exitOK {
		t.Fatalf("validate after modules get: exit %d\n%s%s", code, out, stderr)
	}
	// The journal shares .rokflow with the cache.
	if code, out, stderr := run(t, env, "apply", pb, "--auto-approve"); code != exitOK || !strings.Contains(out, "1 succeeded") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = run(t, env, "modules", "get", pb)
	if want := pkg + ": up to date at " + first[:12] + "\n" + lockName + " is up to date: 1 repository pinned.\n"; code != exitOK || out != want {
		t.Errorf("second modules get: exit %d\n%s\nwant:\n%s", code, out, want)
	}
	if _, err := os.Stat(filepath.Join(pb, ".rokflow", "journal.jsonl")); err != nil {
		t.Errorf("the journal is gone after modules get: %v", err)
	}

	// An edit in the cache.
	if err := os.WriteFile(filepath.Join(checkout, "lib", "greet", "main.hcl"), []byte("# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = run(t, env, "plan", pb)
	if code != exitFailed || !strings.Contains(stderr, "Git module changed since it was fetched") {
		t.Errorf("plan of an edited module: exit %d\n%s", code, stderr)
	}
	code, out, _ = run(t, env, "modules", "get", pb)
	if code != exitOK || !strings.Contains(out, ": restored "+first[:12]+" (the checkout had changed)\n") {
		t.Errorf("modules get after an edit: exit %d\n%s", code, out)
	}

	// The tag moves: modules get refuses it until told.
	second := repo.Commit(map[string]string{"lib/greet/main.hcl": "variable \"who\" {}\n"})
	repo.Tag("v1", second)
	os.RemoveAll(checkout)
	lockBefore, _ := os.ReadFile(lockName)
	code, out, stderr = run(t, env, "modules", "get", pb)
	stderr = strings.Join(strings.Fields(stderr), " ") // unwrapped
	if code != exitFailed || out != "" || !strings.Contains(stderr, "Git tag moved") ||
		!strings.Contains(stderr, "rokflow modules get --upgrade "+pb) || !strings.Contains(stderr, "left as it was") {
		t.Errorf("modules get after the tag moved: exit %d\n%s%s", code, out, stderr)
	}
	if lockAfter, _ := os.ReadFile(lockName); string(lockAfter) != string(lockBefore) {
		t.Error("a refused modules get changed the lock")
	}
	code, out, stderr = run(t, env, "modules", "get", "--upgrade", pb)
	if want := pkg + ": upgraded from " + first[:12] + " to " + second[:12] + " (the tag moved)\nWrote " + lockName + ": 1 repository pinned.\n"; code != exitOK || out != want {
		t.Errorf("modules get --upgrade: exit %d\n%s%s\nwant:\n%s", code, out, stderr, want)
	}
	if code, out, stderr := run(t, env, "validate", pb); code != exitOK {
		t.Errorf("validate after the upgrade: exit %d\n%s%s", code, out, stderr)
	}
}

func TestModulesGetExitCodes(t *testing.T) {
	env := gitEnv()
	local := t.TempDir()
	os.WriteFile(filepath.Join(local, "main.hcl"), []byte("step \"a\" {\n  uses    = \"exec\"\n  command = [\"true\"]\n}\n"), 0o644)
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "main.hcl"), []byte(`
module "m" {
  source = "git::https://git.example.com/ops/lib.git//x?ref=main"
  oops = 
}
`), 0o644)
	noRepo := t.TempDir()
	os.WriteFile(filepath.Join(noRepo, "main.hcl"), []byte(`
module "m" {
  source = "git::file://`+filepath.ToSlash(t.TempDir())+`/none.git?ref=v1"
}
`), 0o644)
	tests := map[string]struct {
		args       []string
		code       int
		out, inErr string
	}{
		"no git sources": {[]string{"modules", "get", local}, exitOK, "names no git module sources", ""},
		"syntax error":   {[]string{"modules", "get", broken}, exitFailed, "", "left as it was"},
		"no repository":  {[]string{"modules", "get", noRepo}, exitFailed, "", "Cannot fetch git module"},
		"no playbook":    {[]string{"modules", "get", filepath.Join(local, "nope")}, exitFailed, "", "cannot read playbook"},
		"two paths":      {[]string{"modules", "get", local, local}, exitUsage, "", "unexpected argument"},
		"no subcommand":  {[]string{"modules"}, exitUsage, "", "expected"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, stderr := run(t, env, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(stderr, tt.inErr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(local, modsrc.LockFile)); err == nil {
		t.Error("a playbook without git sources got a lock file")
	}
}
