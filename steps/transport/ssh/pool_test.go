package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rokflow/rokflow/internal/waitfor"
	"github.com/rokflow/rokflow/steps"
)

// TestPoolReusesOneConnection runs 100 sequential commands, 30 concurrent
// ones (more than the server's MaxSessions of 10) and file operations, from
// two Host values for the same target: sshd must accept one TCP connection.
func TestPoolReusesOneConnection(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	before := s.connections()
	p, h := s.host(t, s.config())
	h2, err := p.Host(context.Background(), "web1", s.config())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		res := run(t, h, steps.Command{Argv: []string{"echo", fmt.Sprint(i)}})
		if string(res.Stdout) != fmt.Sprintf("%d\n", i) {
			t.Fatalf("command %d: %q", i, res.Stdout)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := h2.Exec(context.Background(), steps.Command{Argv: []string{"sh", "-c", "sleep 0.2; echo $1", "x", fmt.Sprint(i)}})
			if err == nil && string(res.Stdout) != fmt.Sprintf("%d\n", i) {
				err = fmt.Errorf("command %d: stdout %q stderr %q", i, res.Stdout, res.Stderr)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	f := filepath.Join(t.TempDir(), "f")
	if err := h.WriteFile(context.Background(), f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h2.ReadFile(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	if n := p.dials.Load(); n != 1 {
		t.Errorf("pool dialled %d connections, want 1", n)
	}
	// sshd's own count, from its log, once the connection's line is in.
	waitfor.Condition(t, 10*time.Second, "sshd to log the connection", func() bool { return s.connections() > before })
	if n := s.connections() - before; n != 1 {
		t.Errorf("sshd accepted %d connections, want 1", n)
	}
}

// TestPoolRedialsAfterConnectionDies closes the TCP connection under the
// pool (from the client side): the next command dials again and runs.
func TestPoolRedialsAfterConnectionDies(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	p := NewPool()
	t.Cleanup(func() { p.Close() })
	var mu sync.Mutex
	var conns []net.Conn
	p.dialTCP = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
		return c, err
	}
	sh, err := p.Host(context.Background(), "web1", s.config())
	if err != nil {
		t.Fatal(err)
	}
	h := sh.(*host)
	run(t, h, steps.Command{Argv: []string{"true"}})

	for round := 1; round <= 2; round++ {
		mu.Lock()
		conns[len(conns)-1].Close()
		mu.Unlock()
		if round == 2 {
			// Do not wait for the pool to notice: opening the session
			// fails, and the pool dials again.
		} else {
			e, _ := p.entry(h.key)
			waitfor.Condition(t, 10*time.Second, "the pool to see the connection die", func() bool { return !e.cur.Load().alive() })
		}
		res := run(t, h, steps.Command{Argv: []string{"echo", "again"}})
		if string(res.Stdout) != "again\n" {
			t.Fatalf("round %d: stdout %q", round, res.Stdout)
		}
		if n := p.dials.Load(); n != int64(round+1) {
			t.Fatalf("round %d: dials = %d, want %d", round, n, round+1)
		}
	}
}

// TestKeepAliveDropsSilentConnection puts a proxy between the pool and sshd
// and makes it swallow everything on the current connection without closing
// it, as a dead network path does. Keepalives go unanswered, the pool drops
// the connection, and the next command dials a new one.
func TestKeepAliveDropsSilentConnection(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	px := startProxy(t, s.addr)
	cfg := s.config()
	cfg.Addresses = map[string]string{"web1": px.addr()}
	// known_hosts has the key under the proxy's address.
	cfg.KnownHosts = []string{filepath.Join(t.TempDir(), "known_hosts")}
	writeFile(t, cfg.KnownHosts[0], knownHostsLine(px.addr(), s), 0o600)
	cfg.KeepAlive = 50 * time.Millisecond
	cfg.KeepAliveMax = 3

	p, h := s.host(t, cfg)
	run(t, h, steps.Command{Argv: []string{"true"}})
	e, _ := p.entry(h.key)
	first := e.cur.Load()

	// Keepalives are answered: the connection stays up across many
	// intervals, more than the KeepAliveMax that would drop it.
	waitfor.Condition(t, 10*time.Second, "ten keepalives answered, or the connection dropped", func() bool {
		return first.answered.Load() >= 10 || !first.alive()
	})
	if !first.alive() {
		t.Fatalf("connection dropped although the server answers keepalives: %v", first.err)
	}

	px.blackhole()
	start := time.Now()
	waitfor.Condition(t, 10*time.Second, "keepalives to declare the connection dead", func() bool { return !first.alive() })
	t.Logf("dropped after %v: %v", time.Since(start).Round(time.Millisecond), first.err)

	res := run(t, h, steps.Command{Argv: []string{"echo", "redialled"}})
	if string(res.Stdout) != "redialled\n" {
		t.Fatalf("stdout %q", res.Stdout)
	}
	if n := p.dials.Load(); n != 2 {
		t.Errorf("dials = %d, want 2", n)
	}
	if n := px.accepted.Load(); n != 2 {
		t.Errorf("proxy accepted %d connections, want 2", n)
	}
}

func TestPoolClose(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	p, h := s.host(t, s.config())
	p.Close()
	if _, err := h.Exec(context.Background(), steps.Command{Argv: []string{"true"}}); !errors.Is(err, errPoolClosed) {
		t.Fatalf("Exec after Close: err = %v", err)
	}
	if _, err := p.Host(context.Background(), "web1", s.config()); !errors.Is(err, errPoolClosed) {
		t.Fatalf("Host after Close: err = %v", err)
	}
}

func TestConnectFailure(t *testing.T) {
	t.Parallel()
	cfg := Config{Addresses: map[string]string{"web1": fmt.Sprintf("127.0.0.1:%d", freePort(t))}, IdentityFiles: []string{"/nonexistent"}}
	_, err := NewPool().Host(context.Background(), "web1", cfg)
	if err == nil {
		t.Fatal("connected to a closed port")
	}
	t.Log(err)
}

func knownHostsLine(addr string, s *testServer) string {
	var out string
	for _, k := range s.hostKeys {
		out += knownhosts.Line([]string{addr}, k) + "\n"
	}
	return out
}

// proxy forwards TCP connections to a server and can silently stop
// forwarding the connections it has, leaving them open.
type proxy struct {
	l        net.Listener
	target   string
	accepted atomic.Int64
	mu       sync.Mutex
	holes    []*atomic.Bool
}

func startProxy(t *testing.T, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &proxy{l: l, target: target}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			px.accepted.Add(1)
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			t.Cleanup(func() { c.Close(); up.Close() })
			hole := new(atomic.Bool)
			px.mu.Lock()
			px.holes = append(px.holes, hole)
			px.mu.Unlock()
			go pipe(c, up, hole)
			go pipe(up, c, hole)
		}
	}()
	return px
}

func (px *proxy) addr() string { return px.l.Addr().String() }

// blackhole makes the existing connections swallow everything.
func (px *proxy) blackhole() {
	px.mu.Lock()
	defer px.mu.Unlock()
	for _, h := range px.holes {
		h.Store(true)
	}
}

func pipe(dst io.Writer, src io.Reader, hole *atomic.Bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !hole.Load() {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestCancelOnSilentConnection: with keepalives off, a command on a
// connection that went silent still gives way to its context.
func TestCancelOnSilentConnection(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	px := startProxy(t, s.addr)
	cfg := s.config()
	cfg.Addresses = map[string]string{"web1": px.addr()}
	cfg.KnownHosts = []string{filepath.Join(t.TempDir(), "known_hosts")}
	writeFile(t, cfg.KnownHosts[0], knownHostsLine(px.addr(), s), 0o600)
	cfg.KeepAlive = -1
	_, h := s.host(t, cfg)
	run(t, h, steps.Command{Argv: []string{"true"}})
	px.blackhole()

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := h.Exec(ctx, steps.Command{Argv: []string{"true"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Exec returned %v after its deadline", d)
	}
}
