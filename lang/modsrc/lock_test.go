package modsrc_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/lang/modsrc"
)

func TestLockRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, modsrc.LockFile)
	l := &modsrc.Lock{}
	l.Set(&modsrc.LockEntry{Package: "git::https://h/z.git?ref=v1", Commit: commit, Hash: "h1:zzz="})
	l.Set(&modsrc.LockEntry{Package: "git::file:///srv/a.git?ref=" + commit, Commit: commit, Hash: "h1:aaa="})
	wrote, err := modsrc.WriteLock(p, l)
	if err != nil || !wrote {
		t.Fatalf("WriteLock = %v, %v", wrote, err)
	}
	b, _ := os.ReadFile(p)
	text := string(b)
	if !strings.HasPrefix(text, "# The commit and file hash") {
		t.Errorf("lock file has no header:\n%s", text)
	}
	wantBody := `
source "git::file:///srv/a.git?ref=0e14d56b5bab2574d09024b3e0196b16343c895c" {
  commit = "0e14d56b5bab2574d09024b3e0196b16343c895c"
  hash   = "h1:aaa="
}

source "git::https://h/z.git?ref=v1" {
  commit = "0e14d56b5bab2574d09024b3e0196b16343c895c"
  hash   = "h1:zzz="
}
`
	if !strings.HasSuffix(text, wantBody) {
		t.Errorf("lock file:\n%s\nwant it to end with:\n%s", text, wantBody)
	}
	got, err := modsrc.ReadLock(p)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Exists || len(got.Entries()) != 2 || *got.Entry("git::https://h/z.git?ref=v1") != *l.Entry("git::https://h/z.git?ref=v1") {
		t.Errorf("read back %+v", got.Entries())
	}
	if wrote, err := modsrc.WriteLock(p, got); err != nil || wrote {
		t.Errorf("writing the same lock again: wrote=%v, %v; want nothing written", wrote, err)
	}
}

func TestReadLockMissing(t *testing.T) {
	l, err := modsrc.ReadLock(filepath.Join(t.TempDir(), modsrc.LockFile))
	if err != nil || l.Exists || len(l.Entries()) != 0 {
		t.Errorf("ReadLock of no file = %+v, %v; want an empty lock", l, err)
	}
}

func TestReadLockRefuses(t *testing.T) {
	entry := func(pkg, commit, hash string) string {
		return fmt.Sprintf("source %q {\n  commit = %s\n  hash = %s\n}\n", pkg, commit, hash)
	}
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	tests := map[string]struct{ src, want string }{
		"syntax":          {`source "x" {`, "rokflow.lock.hcl:1"},
		"unknown block":   {`module "git::https://h/r.git?ref=v1" {}`, "Unsupported block type"},
		"missing hash":    {"source \"git::https://h/r.git?ref=v1\" {\n  commit = \"" + commit + "\"\n}\n", `"hash" is required`},
		"short commit":    {entry("git::https://h/r.git?ref=v1", q("0e14d56"), q("h1:x")), "full hash"},
		"not a package":   {entry("../lib", q(commit), q("h1:x")), "not a git package"},
		"with directory":  {entry("git::https://h/r.git//d?ref=v1", q(commit), q("h1:x")), "not a git package"},
		"other commit":    {entry("git::https://h/r.git?ref="+strings.Repeat("1", 40), q(commit), q("h1:x")), "differs"},
		"unknown hash":    {entry("git::https://h/r.git?ref=v1", q(commit), q("h9:x")), `"h1:"`},
		"not a string":    {entry("git::https://h/r.git?ref=v1", "1", q("h1:x")), "must be a string"},
		"duplicate entry": {entry("git::https://h/r.git?ref=v1", q(commit), q("h1:x")) + entry("git::https://h/r.git?ref=v1", q(commit), q("h1:x")), "duplicate"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), modsrc.LockFile)
			if err := os.WriteFile(p, []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := modsrc.ReadLock(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadLock = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestHashTree(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("lib/a/main.hcl", "step \"x\" {}\n")
	write("README.md", "hi\n")
	h1, err := modsrc.HashTree(dir)
	if err != nil || !strings.HasPrefix(h1, "h1:") {
		t.Fatalf("HashTree = %q, %v", h1, err)
	}
	// The go.sum hash: sha256sum $(find . -type f | sort) | sha256sum,
	// with names relative to the checkout.
	sum := func(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }
	summary := sum("hi\n") + "  README.md\n" + sum("step \"x\" {}\n") + "  lib/a/main.hcl\n"
	total := sha256.Sum256([]byte(summary))
	if want := "h1:" + base64.StdEncoding.EncodeToString(total[:]); h1 != want {
		t.Errorf("HashTree = %s, want %s", h1, want)
	}
	write(".git/HEAD", commit+"\n")
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	if h, _ := modsrc.HashTree(dir); h != h1 {
		t.Errorf("hash changed with .git or an empty directory: %s, was %s", h, h1)
	}
	write("lib/a/main.hcl", "step \"y\" {}\n")
	if h, _ := modsrc.HashTree(dir); h == h1 {
		t.Error("hash did not change with a file's contents")
	}
	write("lib/a/main.hcl", "step \"x\" {}\n")
	write("lib/a/extra.hcl", "\n")
	if h, _ := modsrc.HashTree(dir); h == h1 {
		t.Error("hash did not change with a new file")
	}
	os.Remove(filepath.Join(dir, "lib/a/extra.hcl"))
	if err := os.Symlink("../../README.md", filepath.Join(dir, "lib/a/README.md")); err != nil {
		t.Fatal(err)
	}
	if _, err := modsrc.HashTree(dir); err != nil {
		t.Errorf("a link inside the checkout: %v", err)
	}
	if err := os.Symlink("../../../outside", filepath.Join(dir, "lib/a/out")); err != nil {
		t.Fatal(err)
	}
	if _, err := modsrc.HashTree(dir); err == nil || !strings.Contains(err.Error(), "out of the repository") {
		t.Errorf("a link out of the checkout: %v", err)
	}
}
