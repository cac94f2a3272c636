package ssh

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/rokflow/rokflow/internal/shscript"
	"github.com/rokflow/rokflow/steps"
)

// File operations are small sh scripts run over the host's connection, like
// any command: the fixed scripts of package shscript, which the simulator
// runs too.
const (
	notFound     = shscript.NotFound
	readScript   = shscript.Read
	writeScript  = shscript.Write
	existsScript = shscript.Exists
	listScript   = shscript.List
)

// script runs an sh script with args as its positional parameters.
func (h *host) script(ctx context.Context, name, script string, stdin []byte, args ...string) (stdout, stderr []byte, status int, err error) {
	argv := append([]string{"sh", "-c", script, name}, args...)
	line, err := buildCommand(steps.Command{Argv: argv}, h.s.sudo, h.s.user == "root")
	if err != nil {
		return nil, nil, -1, err
	}
	var out, errOut bytes.Buffer
	status, err = h.run(ctx, line, runOpts{sudo: h.s.sudo && h.s.user != "root", stdin: stdin, stdout: &out, stderr: &errOut})
	return out.Bytes(), errOut.Bytes(), status, err
}

// ReadFile returns the contents of path and its permission bits (including
// setuid, setgid and sticky), following symbolic links. A missing file is
// an error wrapping fs.ErrNotExist.
func (h *host) ReadFile(ctx context.Context, p string) ([]byte, fs.FileMode, error) {
	if err := checkNUL(p); err != nil {
		return nil, 0, h.pathError("open", p, err)
	}
	out, stderr, status, err := h.script(ctx, "rokflow-read", readScript, nil, p)
	if err != nil {
		return nil, 0, err
	}
	switch status {
	case 0:
	case notFound:
		return nil, 0, h.pathError("open", p, fs.ErrNotExist)
	default:
		return nil, 0, h.failed("read", p, status, stderr)
	}
	line, data, ok := bytes.Cut(out, []byte("\n"))
	bits, err := strconv.ParseUint(string(line), 8, 32)
	if !ok || err != nil {
		return nil, 0, fmt.Errorf("%s: read %s: unexpected output from stat: %q", h.s.target, p, line)
	}
	return data, fileMode(uint32(bits)), nil
}

// WriteFile replaces path atomically with data: it writes a temporary file
// in the same directory, gives it the existing file's owner and mode (or
// mode when the file is new), syncs it, renames it over path and syncs the
// directory, so a reader sees either the old or the new contents and a
// failure leaves no temporary file. When path is a symbolic link, the file
// it points to is replaced and the link kept. A missing directory is an
// error wrapping fs.ErrNotExist.
func (h *host) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	if err := checkNUL(p); err != nil {
		return h.pathError("write", p, err)
	}
	if data == nil {
		data = []byte{} // empty standard input, not none
	}
	_, stderr, status, err := h.script(ctx, "rokflow-write", writeScript, data, p, strconv.FormatUint(uint64(unixMode(mode)), 8), strconv.Itoa(len(data)))
	if err != nil {
		return err
	}
	switch status {
	case 0:
		return nil
	case notFound:
		return h.pathError("write", p, fs.ErrNotExist)
	}
	return h.failed("write", p, status, stderr)
}

// Glob returns the paths matching pattern, sorted, with the syntax and
// results of the local transport (path.Match; "*" matches names beginning
// with a dot too; a pattern without wildcards matches itself only when the
// file exists). The pattern never reaches a shell: directories are listed
// on the host and names matched here, one command per wildcard component.
func (h *host) Glob(ctx context.Context, pattern string) ([]string, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("glob %q: %w", pattern, err)
	}
	if err := checkNUL(pattern); err != nil {
		return nil, fmt.Errorf("glob %q: %w", pattern, err)
	}
	m, err := h.glob(ctx, pattern)
	if err != nil {
		return nil, err
	}
	sort.Strings(m)
	return m, nil
}

// glob follows filepath.Glob, with directory listings from the host.
func (h *host) glob(ctx context.Context, pattern string) ([]string, error) {
	if !hasMeta(pattern) {
		_, stderr, status, err := h.script(ctx, "rokflow-glob", existsScript, nil, pattern)
		switch {
		case err != nil:
			return nil, err
		case status == 0:
			return []string{pattern}, nil
		case status == 1:
			return nil, nil
		}
		return nil, h.failed("glob", pattern, status, stderr)
	}
	dir, file := path.Split(pattern)
	dir = cleanGlobPath(dir)
	dirs := []string{dir}
	if hasMeta(dir) {
		if dir == pattern {
			return nil, path.ErrBadPattern
		}
		var err error
		if dirs, err = h.glob(ctx, dir); err != nil || len(dirs) == 0 {
			return nil, err
		}
	}
	lists, err := h.list(ctx, dirs)
	if err != nil {
		return nil, err
	}
	var m []string
	for i, d := range dirs {
		names := lists[i]
		sort.Strings(names)
		for _, n := range names {
			if ok, _ := path.Match(file, n); ok {
				m = append(m, path.Join(d, n))
			}
		}
	}
	return m, nil
}

// list returns the names in each of dirs.
func (h *host) list(ctx context.Context, dirs []string) ([][]string, error) {
	const batch = 256 // directories per command, to keep the command line short
	var lists [][]string
	for len(dirs) > 0 {
		n := min(batch, len(dirs))
		out, stderr, status, err := h.script(ctx, "rokflow-glob", listScript, nil, dirs[:n]...)
		if err != nil {
			return nil, err
		}
		if status != 0 {
			return nil, h.failed("glob", dirs[0], status, stderr)
		}
		var cur []string
		got := 0
		for _, name := range strings.Split(string(out), "\x00") {
			switch name {
			case "":
			case "/":
				lists = append(lists, cur)
				cur = nil
				got++
			default:
				cur = append(cur, name)
			}
		}
		if got != n {
			return nil, fmt.Errorf("%s: glob: listed %d directories of %d", h.s.target, got, n)
		}
		dirs = dirs[n:]
	}
	return lists, nil
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// cleanGlobPath prepares a directory for globbing, as filepath does.
func cleanGlobPath(p string) string {
	switch p {
	case "":
		return "."
	case "/":
		return p
	}
	return p[:len(p)-1] // chop off the trailing separator
}

func checkNUL(p string) error {
	if strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("path contains a NUL byte")
	}
	return nil
}

func (h *host) pathError(op, p string, err error) error {
	return fmt.Errorf("%s: %w", h.s.target, &fs.PathError{Op: op, Path: p, Err: err})
}

func (h *host) failed(op, p string, status int, stderr []byte) error {
	msg := strings.TrimSpace(string(stderr))
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", status)
	}
	return fmt.Errorf("%s: %s %s: %s", h.s.target, op, p, msg)
}

// fileMode converts Unix permission bits to an fs.FileMode.
func fileMode(bits uint32) fs.FileMode {
	m := fs.FileMode(bits & 0o777)
	if bits&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if bits&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if bits&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// unixMode converts an fs.FileMode's permission bits to Unix ones.
func unixMode(m fs.FileMode) uint32 {
	bits := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		bits |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		bits |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	return bits
}
