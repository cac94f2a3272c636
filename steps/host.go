package steps

import (
	"context"
	"io/fs"
)

// Host is how a kind reaches the machine a step runs on. Transports (local,
// SSH, the simulator) implement it. A Host never runs anything through a
// shell unless the caller builds the shell command itself.
type Host interface {
	// Name is the host's name as the playbook knows it.
	Name() string
	// Exec runs argv and returns its result. A non-zero exit status is
	// reported in the result, not as an error; err is for failures to run.
	Exec(ctx context.Context, cmd Command) (ExecResult, error)
	// ReadFile returns a file's contents and mode.
	ReadFile(ctx context.Context, path string) ([]byte, fs.FileMode, error)
	// WriteFile replaces a file atomically (temporary file and rename),
	// keeping the existing file's mode and owner when it exists.
	WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error
	// Glob returns the paths matching pattern, sorted.
	Glob(ctx context.Context, pattern string) ([]string, error)
}

// Command is one command to run on a host.
type Command struct {
	Argv  []string
	Env   map[string]string
	Dir   string
	Stdin []byte
	// Sudo runs the command as root through sudo -n.
	Sudo bool
	// Output, when set, receives output lines as they come.
	Output func(stream, line string)
}

// ExecResult is the outcome of a command that ran.
type ExecResult struct {
	ExitStatus int
	Stdout     []byte
	Stderr     []byte
}
