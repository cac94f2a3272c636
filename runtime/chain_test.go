package runtime_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
)

func catalogue(t *testing.T, hops ...[2]string) string {
	t.Helper()
	dir := t.TempDir()
	for i, h := range hops {
		sub := filepath.Join(dir, "p"+string(rune('a'+i)))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		src := "playbook {\n  name = \"to-" + h[1] + "\"\n  from = \"" + h[0] + "\"\n  to = \"" + h[1] + "\"\n}\nstep \"s\" {\n  uses = \"exec\"\n  command = [\"true\"]\n}\n"
		if err := os.WriteFile(filepath.Join(sub, "main.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A module directory is not a playbook of the catalogue.
	if err := os.MkdirAll(filepath.Join(dir, "lib", "m"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestChain(t *testing.T) {
	dir := catalogue(t, [2]string{"0.10", "0.11.0"}, [2]string{"0.11", "0.12.0"}, [2]string{"0.12", "0.13.0"}, [2]string{"0.9", "0.10.0"})
	if !runtime.IsCatalogue(dir) || runtime.IsCatalogue(filepath.Join(dir, "pa")) {
		t.Fatal("a catalogue is a directory of playbook directories, and a playbook is not one")
	}
	pbs, _, diags := runtime.LoadCatalogue(dir)
	if diags.HasErrors() || len(pbs) != 4 {
		t.Fatalf("%d playbooks: %v", len(pbs), diags)
	}
	names := func(chain []*lang.Playbook) string {
		var out []string
		for _, pb := range chain {
			out = append(out, pb.Meta.Name)
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct{ current, target, want, err string }{
		{"0.10.2", "0.12.0", "to-0.11.0 to-0.12.0", ""},
		{"0.9.4", "0.11.0", "to-0.10.0 to-0.11.0", ""},
		{"0.11.0", "0.13.0", "to-0.12.0 to-0.13.0", ""},
		{"0.11.0", "0.11.0", "", ""},
		{"0.12.0", "0.11.0", "", ""},
		{"0.8.1", "0.12.0", "", "no playbook upgrades from 0.8.1 towards 0.12.0 (the cluster runs 0.8.1); the catalogue knows: to-0.10.0 (0.9 → 0.10.0)"},
		{"0.10.2", "0.12.5", "", "no playbook upgrades from 0.12.0 towards 0.12.5 (the chain reaches 0.12.0)"},
		{"0.10.2", "latest", "", "give a release"},
	} {
		chain, err := runtime.Chain(pbs, c.current, c.target)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s → %s: error %v, want %q", c.current, c.target, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%s → %s: %v", c.current, c.target, err)
		case c.err == "" && names(chain) != c.want:
			t.Errorf("%s → %s: chain %q, want %q", c.current, c.target, names(chain), c.want)
		}
	}
}
