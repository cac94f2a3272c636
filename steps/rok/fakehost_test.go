package rok

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/rokflow/rokflow/steps"
)

// fakeHost is a steps.Host that records the commands it is asked to run and
// answers them from canned results keyed by the joined argv; files live in a
// map.
type fakeHost struct {
	name     string
	results  map[string]steps.ExecResult
	execErr  error
	commands []steps.Command
	files    map[string]string
	modes    map[string]fs.FileMode
	writes   []string
}

var _ steps.Host = (*fakeHost)(nil)

func newFakeHost() *fakeHost {
	return &fakeHost{name: "rok1", results: map[string]steps.ExecResult{}, files: map[string]string{}, modes: map[string]fs.FileMode{}}
}

// on sets what argv prints and its exit status.
func (h *fakeHost) on(stdout string, status int, argv ...string) *fakeHost {
	h.results[strings.Join(argv, "\x00")] = steps.ExecResult{ExitStatus: status, Stdout: []byte(stdout)}
	return h
}

func (h *fakeHost) onStderr(stderr string, status int, argv ...string) *fakeHost {
	h.results[strings.Join(argv, "\x00")] = steps.ExecResult{ExitStatus: status, Stderr: []byte(stderr)}
	return h
}

func (h *fakeHost) Name() string { return h.name }

func (h *fakeHost) Exec(_ context.Context, cmd steps.Command) (steps.ExecResult, error) {
	h.commands = append(h.commands, cmd)
	if h.execErr != nil {
		return steps.ExecResult{}, h.execErr
	}
	res, ok := h.results[strings.Join(cmd.Argv, "\x00")]
	if !ok {
		return steps.ExecResult{ExitStatus: 127, Stderr: []byte(fmt.Sprintf("fake: no such command %q", cmd.Argv))}, nil
	}
	if cmd.Output != nil {
		for _, l := range strings.Split(strings.TrimRight(string(res.Stdout), "\n"), "\n") {
			cmd.Output("stdout", l)
		}
	}
	return res, nil
}

// argvs returns the argv of every command run, each joined with spaces.
func (h *fakeHost) argvs() []string {
	out := make([]string, len(h.commands))
	for i, c := range h.commands {
		out[i] = strings.Join(c.Argv, " ")
	}
	return out
}

func (h *fakeHost) ReadFile(_ context.Context, path string) ([]byte, fs.FileMode, error) {
	s, ok := h.files[path]
	if !ok {
		return nil, 0, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	mode := h.modes[path]
	if mode == 0 {
		mode = 0o644
	}
	return []byte(s), mode, nil
}

func (h *fakeHost) WriteFile(_ context.Context, path string, data []byte, mode fs.FileMode) error {
	h.files[path] = string(data)
	h.modes[path] = mode
	h.writes = append(h.writes, path)
	return nil
}

func (h *fakeHost) Glob(_ context.Context, pattern string) ([]string, error) {
	var out []string
	for p := range h.files {
		if ok, _ := path.Match(pattern, p); ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}
