package playtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/shellwords"
	"github.com/rokflow/rokflow/steps"
)

// caseRun is one run of a case: a fresh simulator in a directory of its
// own, the case's inputs, a state directory, and what its applies showed.
type caseRun struct {
	r        *Runner
	s        *Suite
	c        *Case
	dir      string
	srv      *simProcess
	log      *syncBuffer
	before   sim.Status
	varFiles []string
	env      []string
	state    string
	// applies counts apply processes, kills those killed; done and
	// retried count the steps in doubt resolved either way.
	applies, kills, done, retried int

	kinds    map[string]string
	started  []string
	changing []string
	seen     map[string]bool
}

// syncBuffer collects the simulator's event log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newRun starts the case's simulator in a new directory under the
// runner's and writes the inputs apply is given: the simulator's var-file,
// the case's, and the simulator's secrets in the environment.
func (r *Runner) newRun(s *Suite, c *Case, label string) (*caseRun, error) {
	dir, err := os.MkdirTemp(r.TempDir, "rokflow-test-"+c.Name+"-"+label+"-")
	if err != nil {
		return nil, err
	}
	spec, err := c.Simulator.Spec()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	x := &caseRun{r: r, s: s, c: c, dir: dir, log: &syncBuffer{}, state: "file://" + filepath.Join(dir, "state"),
		kinds: map[string]string{}, seen: map[string]bool{}}
	for try := 1; ; try++ {
		x.srv, err = startSimulator(filepath.Join(dir, "sim", strconv.Itoa(try)), spec, x.log)
		// The simulator picks its etcd ports before etcd binds them, so
		// simulators starting side by side may pick the same one: the
		// loser starts afresh.
		if err == nil || try == 3 || !errors.Is(err, syscall.EADDRINUSE) && !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("the simulator refused the case's cluster: %w", err)
	}
	x.before = x.srv.Status()
	x.varFiles = []string{filepath.Join(x.srv.Dir(), sim.VarsFile)}
	if len(c.Variables) > 0 {
		f := hclwrite.NewEmptyFile()
		for _, name := range sortedKeys(c.Variables) {
			f.Body().SetAttributeValue(name, c.Variables[name])
		}
		path := filepath.Join(dir, "case.vars.hcl")
		if err := os.WriteFile(path, f.Bytes(), 0o600); err != nil {
			x.close(false)
			return nil, err
		}
		x.varFiles = append(x.varFiles, path)
	}
	secrets, err := readEnvFile(filepath.Join(x.srv.Dir(), sim.EnvFile))
	if err != nil {
		x.close(false)
		return nil, err
	}
	x.env = append(append(slices.Clone(r.env), "NO_COLOR=1"), secrets...)
	return x, nil
}

// close stops the simulator, and removes the run's directory unless keep.
func (x *caseRun) close(keep bool) error {
	err := x.srv.Close()
	if !keep {
		os.RemoveAll(x.dir)
	}
	return err
}

// readEnvFile reads the `export NAME=VALUE` lines of the simulator's
// sim.env.
func readEnvFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var env []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "export ") {
			continue
		}
		words, err := shellwords.Split(line)
		if err != nil || len(words) != 2 {
			return nil, fmt.Errorf("%s: cannot read %q", path, line)
		}
		env = append(env, shellwords.Texts(words)[1])
	}
	return env, nil
}

// note adds an apply's steps to what the run started.
func (x *caseRun) note(a *applied) {
	for _, e := range a.events {
		if e.Kind != "" && e.Address != "" {
			x.kinds[e.Address] = e.Kind
		}
		if e.Type != "step_start" || x.seen[e.Address] {
			continue
		}
		x.seen[e.Address] = true
		x.started = append(x.started, e.Address)
		if x.r.changes(e.Kind) {
			x.changing = append(x.changing, e.Address)
		}
	}
}

// changes reports whether a step of kind may change something: any kind
// but a read-only one (an unknown kind is taken to change).
func (r *Runner) changes(kind string) bool {
	if r.Registry == nil {
		return true
	}
	k, ok := r.Registry.Lookup(kind)
	return !ok || k.Schema().Effect != steps.ReadOnly
}

// finish waits for the simulator to be quiet and reads what the run
// left: the journal's steps, the outcome, and the case's checks of both.
func (x *caseRun) finish(ctx context.Context, last *applied) (*observed, sim.Status, []sim.Job, hcl.Diagnostics, error) {
	st, jobs, err := Quiet(ctx, x.srv, time.Minute)
	if err != nil {
		return nil, st, jobs, nil, err
	}
	shown, err := x.showSteps(ctx)
	if err != nil {
		return nil, st, jobs, nil, err
	}
	o := &observed{ExitCode: last.code, Steps: shown, Kinds: x.kinds, Started: x.started, Changing: x.changing,
		Stderr: last.stderr, Applies: x.applies, Kills: x.kills, Done: x.done, Retried: x.retried}
	o.Outcome = classify(last.code, x.changing)
	return o, st, jobs, x.c.check(x.s, o, st, x.before), nil
}

// classify names how a run ended from apply's exit code and whether any
// step that changes something began.
func classify(code int, changing []string) Outcome {
	switch code {
	case 0:
		if len(changing) == 0 {
			return NothingToDo
		}
		return Succeeded
	case 1:
		if len(changing) == 0 {
			return Refused
		}
		return Failed
	case 3:
		return Paused
	}
	return Errored
}

// failure is a diagnostic about a case as a whole, on its block.
func (c *Case) failure(summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: c.DeclRange.Ptr()}
}

// simulatorFailure is a diagnostic about a case's simulator.
func (c *Case) simulatorFailure(err error) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot start the simulator", Detail: err.Error() + ".",
		Subject: c.Simulator.DeclRange.Ptr()}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
