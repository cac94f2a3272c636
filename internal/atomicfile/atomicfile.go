package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces the file at path with data and the permission bits of
// mode. The data goes to a temporary file beside path, which is synced and
// renamed over path, so path holds either its old contents or data. The
// temporary file is removed when anything fails.
func Write(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	// Chmod after creation: CreateTemp's mode is 0600 whatever is asked.
	if err := tmp.Chmod(mode.Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
