package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// The simulator's server runs as its own program, rokflow-sim
// (cmd/rokflow-sim), so that rokflow itself links no etcd server.
const (
	// Program is the simulator's program name.
	Program = "rokflow-sim"
	// ProgramEnv names the environment variable that says where the
	// program is, before the directory of the running program and PATH.
	ProgramEnv = "ROKFLOW_SIM"
	// SpecEnv carries the cluster to create, a Spec in JSON, from rokflow
	// to rokflow-sim: the environment, unlike the command line, is not
	// readable by other users of the machine, and a Spec may hold the
	// cluster's passwords.
	SpecEnv = "ROKFLOW_SIM_SPEC"
)

// FindProgram returns the path of rokflow-sim: $ROKFLOW_SIM when set, the
// rokflow-sim beside the running program, or the one in PATH.
func FindProgram() (string, error) {
	if p := os.Getenv(ProgramEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", ProgramEnv, p, err)
		}
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), Program)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(Program); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("cannot find %s, the simulator's program: it is not beside this rokflow nor in PATH, and %s is not set; "+
		"build it with make build (bin/%s, beside bin/rokflow) or go install github.com/rokflow/rokflow/cmd/%s, or set %s to its path",
		Program, ProgramEnv, Program, Program, ProgramEnv)
}

// ServeCommand returns the command that runs rokflow-sim serving dir,
// creating spec's cluster there unless one exists (spec travels in the
// command's environment, SpecEnv); its Stdout, Stderr and SysProcAttr are
// the caller's to set.
func ServeCommand(dir string, spec Spec) (*exec.Cmd, error) {
	prog, err := FindProgram()
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(prog, "serve", "--dir", dir)
	cmd.Env = append(os.Environ(), SpecEnv+"="+string(data))
	return cmd, nil
}

// ErrNotReady says a simulator did not become ready in time.
var ErrNotReady = errors.New("the simulator was not ready in time")

// WaitReady waits until the simulator process pid, started in dir, answers
// on its control API. It returns the error exited delivers when the
// process ends first (wrapped in an error saying so), ErrNotReady after
// timeout, or ctx's error.
func WaitReady(ctx context.Context, dir string, pid int, exited <-chan error, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return &ExitError{Err: err}
		case <-deadline.C:
			return ErrNotReady
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if rt, err := ReadRuntime(dir); err == nil && rt.PID == pid {
				if cl, err := Dial(dir); err == nil {
					if _, err := cl.Status(ctx); err == nil {
						return nil
					}
				}
			}
		}
	}
}

// ExitError says the simulator process ended while it was starting.
type ExitError struct{ Err error }

func (e *ExitError) Error() string {
	return fmt.Sprintf("the simulator exited while starting (%v)", e.Err)
}

func (e *ExitError) Unwrap() error { return e.Err }

// StatusOnDisk asks rokflow-sim for the status of the cluster in dir when
// no simulator serves it: only the simulator reads its state file.
func StatusOnDisk(dir string) (*Status, error) {
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err != nil {
		return nil, err
	}
	prog, err := FindProgram()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(prog, "status", "--dir", dir)
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s status: %v: %s", Program, err, stderr.String())
	}
	var st Status
	if err := json.Unmarshal(out, &st); err != nil {
		return nil, fmt.Errorf("%s status: %w", Program, err)
	}
	return &st, nil
}

// limitedBuffer keeps the first 4 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if n := 4096 - len(l.b); n > 0 {
		l.b = append(l.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
