package playtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/rokflow/rokflow/sim"
)

// Cluster is what Quiet reads of a running simulator: a case's
// rokflow-sim process, or a simulator a test runs in its own process.
type Cluster interface {
	Status() sim.Status
	Jobs() []sim.Job
	InFlight() []sim.Command
}

// simProcess is the rokflow-sim process serving a case's cluster, read
// through its control API.
type simProcess struct {
	dir    string
	cl     *sim.Client
	proc   *os.Process
	exited chan error

	mu  sync.Mutex
	err error // the first error reading the simulator
}

// startSimulator runs rokflow-sim serving spec's cluster in dir, its
// output to log, and returns once it is ready.
func startSimulator(dir string, spec sim.Spec, log io.Writer) (*simProcess, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	cmd, err := sim.ServeCommand(abs, spec)
	if err != nil {
		return nil, err
	}
	out := &tailBuffer{}
	w := io.MultiWriter(log, out)
	cmd.Stdout, cmd.Stderr = w, w
	// Its own process group: a Ctrl-C of rokflow test reaches rokflow,
	// which stops the simulator.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start the simulator: %w", err)
	}
	p := &simProcess{dir: abs, proc: cmd.Process, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()
	if err := sim.WaitReady(context.Background(), abs, cmd.Process.Pid, p.exited, 90*time.Second); err != nil {
		var ended *sim.ExitError
		if !errors.As(err, &ended) {
			_ = cmd.Process.Kill()
			<-p.exited
		}
		return nil, fmt.Errorf("%w: %s", err, bytes.TrimSpace(out.Bytes()))
	}
	if p.cl, err = sim.Dial(abs); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Dir is the simulator's directory.
func (p *simProcess) Dir() string { return p.dir }

func (p *simProcess) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
}

// Err is the first error reading the simulator, nil when none.
func (p *simProcess) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *simProcess) Status() sim.Status {
	st, err := p.cl.Status(context.Background())
	if err != nil {
		p.fail(err)
		return sim.Status{}
	}
	return *st
}

func (p *simProcess) Jobs() []sim.Job {
	jobs, err := p.cl.Jobs(context.Background())
	if err != nil {
		p.fail(err)
	}
	return jobs
}

func (p *simProcess) InFlight() []sim.Command {
	cmds, err := p.cl.InFlight(context.Background())
	if err != nil {
		p.fail(err)
	}
	return cmds
}

// Close stops the simulator and waits for its process to end.
func (p *simProcess) Close() error {
	if p.cl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = p.cl.Stop(ctx)
		cancel()
	}
	select {
	case err := <-p.exited:
		return err
	case <-time.After(20 * time.Second):
		_ = p.proc.Kill()
		<-p.exited
		return fmt.Errorf("the simulator in %s did not stop and was killed", p.dir)
	}
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.b...)
}
