package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesWithMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.hcl")
	if err := os.WriteFile(p, []byte("old contents, longer than the new"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o600, 0o644, 0o755} {
		if err := Write(p, []byte("new"), mode); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != "new" {
			t.Errorf("contents %q, want %q", b, "new")
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("mode %v, want %v", got, mode)
		}
	}
	// Nothing is left beside the file.
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only f.hcl", names)
	}
}

func TestWriteCreates(t *testing.T) {
	p := filepath.Join(t.TempDir(), "new")
	if err := Write(p, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 0 || fi.Mode().Perm() != 0o640 {
		t.Errorf("size %d mode %v, want 0 and 0640", fi.Size(), fi.Mode().Perm())
	}
}

func TestWriteFailsInMissingDirectory(t *testing.T) {
	p := filepath.Join(t.TempDir(), "missing", "f")
	if err := Write(p, []byte("x"), 0o644); err == nil {
		t.Fatal("no error writing into a missing directory")
	}
}
