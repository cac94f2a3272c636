package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/rokflow/rokflow/sim"

	"github.com/rokflow/rokflow/internal/pki"
	"github.com/rokflow/rokflow/sim/server/etcd"
	"github.com/rokflow/rokflow/sim/server/sshd"
)

// Server is a running simulator: the cluster state, one SSH server per
// node, the etcd server, the Ganeti RAPI (platform ganeti) and the control
// API. All of it is on 127.0.0.1.
type Server struct {
	dir string
	log io.Writer

	mu      sync.Mutex
	st      *state
	changed chan struct{} // closed and replaced on every change

	lockFile *os.File
	ssh      *sshd.Server
	etcd     *etcd.Server
	rapi     *http.Server
	control  *http.Server
	token    string

	pidMu   sync.Mutex
	pids    map[int]context.CancelCauseFunc
	nextPID int
	// inFlight describes the commands of pids that reached a program.
	inFlight map[int]sim.Command

	kickJobs     chan struct{}
	kickOperator chan struct{}
	stopping     chan struct{}
	done         chan struct{}
	stopOnce     sync.Once
	wg           sync.WaitGroup
	closeErr     error
}

// Start creates the cluster described by spec in dir, or resumes the one
// already there, and serves it until Close (or a stop request through the
// control API). It returns once every listener is up.
func Start(dir string, spec sim.Spec) (*Server, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, err
	}
	s := &Server{
		dir:          abs,
		log:          spec.Log,
		changed:      make(chan struct{}),
		kickJobs:     make(chan struct{}, 1),
		kickOperator: make(chan struct{}, 1),
		stopping:     make(chan struct{}),
		done:         make(chan struct{}),
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.shutdown()
		}
	}()
	created, err := s.loadOrCreate(spec)
	if err != nil {
		return nil, err
	}
	if err := s.startServices(); err != nil {
		return nil, err
	}
	if created && s.st.Cluster.EtcdAuth && s.etcd != nil {
		// A cluster created on a release that has etcd authentication.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := s.etcd.EnableAuth(ctx, io.Discard)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("etcd: %w", err)
		}
	}
	s.mu.Lock()
	what := fmt.Sprintf("simulator serving (pid %d): control 127.0.0.1:%d", os.Getpid(), s.st.Ports.Control)
	if s.etcd != nil {
		what += ", etcd " + s.etcd.Endpoint()
	}
	if s.st.Ports.RAPI != 0 {
		what += fmt.Sprintf(", RAPI https://127.0.0.1:%d", s.st.Ports.RAPI)
	}
	s.st.event("", "%s", what)
	s.flushEvents()
	err = s.saveLocked()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := WriteVars(s.dir); err != nil {
		return nil, err
	}
	rt := sim.Runtime{PID: os.Getpid(), Control: s.controlAddr(), Token: s.token, Started: time.Now().UTC()}
	data, _ := json.MarshalIndent(rt, "", "  ")
	if err := pki.WriteFile(filepath.Join(s.dir, sim.RuntimeFile), append(data, '\n'), 0o600); err != nil {
		return nil, err
	}
	s.wg.Add(2)
	go s.runJobs()
	go s.runOperator()
	ok = true
	return s, nil
}

// Serve runs a simulator until ctx ends or a stop request arrives.
func Serve(ctx context.Context, dir string, spec sim.Spec) error {
	s, err := Start(dir, spec)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-s.Done():
	}
	return s.Close()
}

// Dir is the simulator's directory.
func (s *Server) Dir() string { return s.dir }

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// Close stops every listener and the background work, saves the state and
// releases the directory. The cluster can be resumed with Start.
func (s *Server) Close() error {
	s.stopOnce.Do(func() {
		close(s.stopping)
		s.closeErr = s.shutdown()
		close(s.done)
	})
	<-s.done
	return s.closeErr
}

// requestStop makes Close run in the background (the control API's stop).
func (s *Server) requestStop() {
	go func() { _ = s.Close() }()
}

func (s *Server) shutdown() error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.control != nil {
		errs = append(errs, ignoreClosed(s.control.Shutdown(ctx)))
	}
	if s.rapi != nil {
		errs = append(errs, ignoreClosed(s.rapi.Shutdown(ctx)))
	}
	if s.ssh != nil {
		s.ssh.Close()
	}
	select {
	case <-s.stopping:
	default:
		close(s.stopping)
	}
	s.wg.Wait()
	if s.etcd != nil {
		s.etcd.Close()
	}
	if s.st != nil {
		s.mu.Lock()
		errs = append(errs, s.saveLocked())
		s.mu.Unlock()
	}
	_ = os.Remove(filepath.Join(s.dir, sim.RuntimeFile))
	if s.lockFile != nil {
		_ = syscall.Flock(int(s.lockFile.Fd()), syscall.LOCK_UN)
		errs = append(errs, s.lockFile.Close())
		s.lockFile = nil
	}
	return errors.Join(errs...)
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// lock takes DIR/sim.lock so that two simulators never share a directory.
func (s *Server) lock() error {
	f, err := os.OpenFile(filepath.Join(s.dir, "sim.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("another simulator is running in %s (its lock is held): %w", s.dir, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	s.lockFile = f
	return nil
}

// loadOrCreate resumes the state in dir or creates a new cluster, and says
// which it did.
func (s *Server) loadOrCreate(spec sim.Spec) (created bool, err error) {
	st, err := loadState(s.dir)
	switch {
	case err == nil:
		// Run-time knobs given now override the persisted ones.
		if spec.AutoOperator {
			st.Spec.AutoOperator = true
		}
		if spec.OperatorDelay != 0 {
			st.Spec.OperatorDelay = spec.OperatorDelay
		}
		if spec.JobDelay != 0 {
			st.Spec.JobDelay = spec.JobDelay
		}
		if spec.WaitTimeout != 0 {
			st.Spec.WaitTimeout = spec.WaitTimeout
		}
		for i := range st.Events {
			st.Events[i].logged = true // written by the run that had them
		}
		s.st = st
		st.event("", "simulator resumed from %s", s.dir)
		return false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return false, err
	}
	full, err := spec.WithDefaults()
	if err != nil {
		return false, err
	}
	st = newState(full)
	for _, n := range st.Nodes {
		if err := writeNodeFiles(s.dir, st, n); err != nil {
			return false, err
		}
	}
	s.st = st
	return true, s.checkStartingConfig()
}

func (s *Server) startServices() error {
	var err error
	if err := s.startSSH(); err != nil {
		return err
	}
	if !s.st.Spec.NoEtcd {
		if s.etcd, err = etcd.Start(s.dir, &s.st.Ports.Etcd, &s.st.Ports.EtcdPeer); err != nil {
			return err
		}
	}
	if s.st.Spec.Platform == sim.PlatformGaneti {
		if err := s.startRAPI(); err != nil {
			return err
		}
	}
	return s.startControl()
}

// saveLocked writes the state and wakes everything waiting for a change.
// The caller holds s.mu.
func (s *Server) saveLocked() error {
	err := saveState(s.dir, s.st)
	if s.etcd != nil {
		s.etcd.Publish(s.st.snapshot())
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return err
}

// changes returns a channel closed at the next change. The caller holds s.mu.
func (s *Server) changesLocked() <-chan struct{} { return s.changed }

// update runs f on the state under the lock and saves the result.
func (s *Server) update(f func(st *state) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ferr := f(s.st)
	s.flushEvents()
	if err := s.saveLocked(); err != nil {
		return errors.Join(ferr, err)
	}
	return ferr
}

// flushEvents writes new events to the log writer. The caller holds s.mu.
func (s *Server) flushEvents() {
	if s.log == nil {
		return
	}
	for i := range s.st.Events {
		e := &s.st.Events[i]
		if e.logged {
			continue
		}
		e.logged = true
		who := ""
		if e.Node != "" {
			who = e.Node + ": "
		}
		fmt.Fprintf(s.log, "%s %s%s\n", e.Time.Local().Format("15:04:05.000"), who, e.Text)
	}
}

// sleep waits for d unless the server stops first; false when stopping.
func (s *Server) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stopping:
		return false
	}
}

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// listen listens on the recorded port, or a new one when it is 0.
func listen(port *int, what string) (net.Listener, error) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		if *port != 0 {
			return nil, fmt.Errorf("%s: port %d, recorded in the state, is not free (is another program using it?): %w", what, *port, err)
		}
		return nil, err
	}
	*port = l.Addr().(*net.TCPAddr).Port
	return l, nil
}
