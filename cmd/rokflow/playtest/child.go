package playtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rokflow/rokflow/internal/jsondoc"
)

// event is the part of an `apply --json` event the runner reads
// (docs/events-json.md).
type event struct {
	FormatVersion string    `json:"format_version"`
	Type          string    `json:"type"`
	Time          time.Time `json:"time"`
	Address       string    `json:"address"`
	Kind          string    `json:"kind"`
	Target        string    `json:"target"`
	Status        string    `json:"status"`
	Attempt       int       `json:"attempt"`
	Handle        string    `json:"handle"`
	Error         string    `json:"error"`
}

// Boundary is a point between steps of a run where crash testing kills
// apply: just after a step started (its intent journaled, for a once
// step) or just after it ended.
type Boundary struct {
	Type    string `json:"type"` // step_start or step_end
	Address string `json:"address"`
	Attempt int    `json:"attempt"`
}

func (b Boundary) String() string {
	what := "started"
	if b.Type == "step_end" {
		what = "ended"
	}
	if b.Attempt > 1 {
		what += fmt.Sprintf(" (attempt %d)", b.Attempt)
	}
	return b.Address + " " + what
}

// is reports whether e is the event of this boundary.
func (b Boundary) is(e event) bool {
	return e.Type == b.Type && e.Address == b.Address && e.Attempt == b.Attempt
}

// boundaries are the step boundaries of a run's events: every step start,
// and every end of a step that started.
func boundaries(events []event) []Boundary {
	var out []Boundary
	for _, e := range events {
		if e.Type == "step_start" || e.Type == "step_end" && e.Attempt > 0 && e.Status != "skipped" {
			out = append(out, Boundary{Type: e.Type, Address: e.Address, Attempt: e.Attempt})
		}
	}
	return out
}

// applied is how one apply process ended.
type applied struct {
	code   int
	events []event
	stderr string
	// killed: crash testing killed it at its boundary.
	killed bool
}

// rokflow runs a rokflow command of the case's run to its end and returns
// its exit code, standard output and standard error.
func (x *caseRun) rokflow(ctx context.Context, args ...string) (int, string, string, error) {
	cmd := x.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		return 0, "", "", err
	}
	stop := context.AfterFunc(ctx, func() { killGroup(cmd) })
	err := cmd.Wait()
	stop()
	code, err := exitCode(err)
	return code, out.String(), errb.String(), err
}

// command is rokflow with args, in a process group of its own, with the
// case's environment.
func (x *caseRun) command(args ...string) *exec.Cmd {
	cmd := exec.Command(x.r.Exe, args...)
	cmd.Env = x.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// killGroup SIGKILLs the process group of a command started by command:
// rokflow itself (the local commands it runs have groups of their own,
// which its watcher kills when it dies).
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

func exitCode(err error) (int, error) {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		if ee.ExitCode() < 0 {
			return -1, nil // killed by a signal
		}
		return ee.ExitCode(), nil
	}
	return 0, err
}

// apply runs `rokflow apply --json` of the case, following its events;
// with kill set, SIGKILLs it as soon as that boundary's event arrives.
func (x *caseRun) apply(ctx context.Context, kill *Boundary) (*applied, error) {
	args := []string{"apply", x.s.Playbook.Dir, "--state", x.state, "--auto-approve", "--json"}
	for _, f := range x.varFiles {
		args = append(args, "--var-file", f)
	}
	cmd := x.command(args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, x.c.Timeout)
	defer cancel()
	var timedOut atomic.Bool
	stop := context.AfterFunc(ctx, func() {
		timedOut.Store(ctx.Err() == context.DeadlineExceeded)
		killGroup(cmd)
	})
	defer stop()
	a := &applied{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var other strings.Builder
	var format error // an event stream of a format the runner does not read
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Type == "" {
			other.Write(sc.Bytes())
			other.WriteByte('\n')
			continue
		}
		if _, err := jsondoc.Events.CheckVersion("the output of rokflow apply --json", e.FormatVersion); err != nil {
			if format == nil {
				format = err
				killGroup(cmd)
			}
			continue
		}
		a.events = append(a.events, e)
		if kill != nil && !a.killed && kill.is(e) {
			killGroup(cmd)
			a.killed = true
		}
	}
	r.Close()
	a.code, err = exitCode(cmd.Wait())
	a.stderr = other.String() + errb.String()
	x.applies++
	if stop(); timedOut.Load() {
		return a, fmt.Errorf("apply did not end within %s (the case's timeout); it was killed", x.c.Timeout)
	}
	if format != nil {
		return a, format
	}
	return a, err
}

// showSteps returns the steps of the case's latest run, as `rokflow state
// show --json` prints them.
func (x *caseRun) showSteps(ctx context.Context) ([]shownStep, error) {
	code, out, stderr, err := x.rokflow(ctx, "state", "show", x.s.Playbook.Dir, "--state", x.state, "--json")
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, fmt.Errorf("rokflow state show exited %d: %s", code, strings.TrimSpace(stderr))
	}
	if _, err := jsondoc.StateShow.Check("the output of rokflow state show --json", []byte(out)); err != nil {
		return nil, err
	}
	var doc struct {
		Steps []shownStep `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return nil, fmt.Errorf("rokflow state show --json: %w", err)
	}
	return doc.Steps, nil
}

// resolve answers a step in doubt.
func (x *caseRun) resolve(ctx context.Context, addr string, done bool) error {
	how := "--retry"
	if done {
		how = "--done"
	}
	code, out, stderr, err := x.rokflow(ctx, "resolve", x.s.Playbook.Dir, addr, how, "--state", x.state)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("rokflow resolve %s %s exited %d: %s", addr, how, code, strings.TrimSpace(out+stderr))
	}
	return nil
}
