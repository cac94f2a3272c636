package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/rokflow/rokflow/steps"
)

// Host is the local machine as a steps.Host. The zero value is ready to use.
type Host struct {
	// WaitDelay bounds how long Exec waits for a command's output pipes
	// once its process group was killed; zero means 5s.
	WaitDelay time.Duration
}

var _ steps.Host = (*Host)(nil)

// New returns the local host.
func New() *Host { return &Host{} }

// Name returns "local", the name playbooks use for the machine rokflow runs on.
func (*Host) Name() string { return "local" }

// ReadFile returns the contents of path and its permission bits (including
// setuid, setgid and sticky).
func (*Host) ReadFile(ctx context.Context, path string) ([]byte, fs.FileMode, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	return data, modeBits(fi.Mode()), nil
}

// Glob returns the paths matching pattern (filepath.Match syntax), sorted.
// A pattern without wildcards matches itself only when the file exists.
func (*Host) Glob(ctx context.Context, pattern string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", pattern, err)
	}
	sort.Strings(matches)
	return matches, nil
}

// WriteFile replaces path atomically with data: it writes a temporary file in
// the same directory, syncs it, gives it the existing file's mode and owner
// (or mode when the file is new), renames it over path and syncs the
// directory, so a reader sees either the old or the new contents and a crash
// leaves no half-written file. When path is a symbolic link, the file it
// points to is replaced and the link is kept.
func (*Host) WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	target, err := resolve(path)
	if err != nil {
		return err
	}
	uid, gid := -1, -1
	if fi, err := os.Stat(target); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("write %s: not a regular file", path)
		}
		mode = modeBits(fi.Mode())
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".rokflow-tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Chmod after creation: CreateTemp's mode is filtered by the umask, the
	// existing file's mode must be kept exactly.
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if uid >= 0 {
		if err := chownIfNeeded(tmp, uid, gid); err != nil {
			return fmt.Errorf("write %s: keep owner: %w", path, err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done = true
	return syncDir(dir)
}

// resolve follows symbolic links so that writing through a link replaces the
// file it points to, as an editor would, instead of the link itself.
func resolve(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return target, nil
}

func chownIfNeeded(f *os.File, uid, gid int) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == uid && int(st.Gid) == gid {
		return nil
	}
	return f.Chown(uid, gid)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

func modeBits(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}
