package modsrc

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/dirhash"
)

// HashTree is the content hash of a checkout, the one go.sum uses for a
// module ("h1:", dirhash.Hash1): SHA-256 over the sorted list of each
// file's SHA-256 and slash-separated path. The checkout's .git is left
// out, and so are empty directories and file modes. A symbolic link
// counts as its target's text, as git stores it; one that leads out of
// the checkout is an error, since a module could read through it what
// the lock never hashed.
func HashTree(root string) (string, error) {
	var files []string
	links := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
			return nil
		case rel == ".git":
			return filepath.SkipDir
		case d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			t := filepath.ToSlash(target)
			if path.IsAbs(t) || strings.HasPrefix(path.Join(path.Dir(rel), t), "../") || path.Join(path.Dir(rel), t) == ".." {
				return fmt.Errorf("%s is a symbolic link out of the repository (to %s)", rel, target)
			}
			links[rel] = t
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file", rel)
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		return "", err
	}
	return dirhash.Hash1(files, func(name string) (io.ReadCloser, error) {
		if t, ok := links[name]; ok {
			return io.NopCloser(strings.NewReader("symlink\x00" + t)), nil
		}
		return os.Open(filepath.Join(root, filepath.FromSlash(name)))
	})
}
