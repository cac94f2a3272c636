package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rokflow/rokflow/internal/waitfor"
	"github.com/rokflow/rokflow/steps"
)

// bastionOpts make an sshd a jump host that logs each forwarding it is
// asked for ("server_request_direct_tcpip: … target HOST port PORT").
var bastionOpts = serverOpts{extraConfig: "LogLevel DEBUG1\nAllowTcpForwarding yes\n"}

// forwarded reports whether the bastion was asked to forward a connection
// to addr.
func (s *testServer) forwarded(addr string) bool {
	host, port, _ := net.SplitHostPort(addr)
	return strings.Contains(s.log.String(), fmt.Sprintf("target %s port %s", host, port))
}

// authorize lets the holder of the private key keyFile log in too.
func (s *testServer) authorize(t *testing.T, keyFile string) {
	t.Helper()
	pub, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(pub); err != nil {
		t.Fatal(err)
	}
}

// hashedLine is a known_hosts line for addr with the host name hashed, as
// ssh-keygen -H and HashKnownHosts write it.
func hashedLine(addr string, key ssh.PublicKey) string {
	return knownhosts.HashHostname(knownhosts.Normalize(addr)) + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

// knownHostsFor writes a known_hosts file with the given lines.
func knownHostsFor(t *testing.T, lines ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, f, strings.Join(lines, "\n")+"\n", 0o600)
	return f
}

// onlyTo is a pool whose TCP connections may go to allowed alone: any
// other address is refused, so a target reached at all was reached
// through a jump host. It records the connections it made.
type onlyTo struct {
	allowed string
	mu      sync.Mutex
	dialled []string
	conns   []*closeWatch
}

type closeWatch struct {
	net.Conn
	closed chan struct{}
	once   sync.Once
}

func (c *closeWatch) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

func (c *closeWatch) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

func (o *onlyTo) pool(t *testing.T) *Pool {
	p := NewPool()
	t.Cleanup(func() { p.Close() })
	p.dialTCP = func(ctx context.Context, network, addr string) (net.Conn, error) {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.dialled = append(o.dialled, addr)
		if addr != o.allowed {
			return nil, fmt.Errorf("test: no direct route to %s", addr)
		}
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		w := &closeWatch{Conn: c, closed: make(chan struct{})}
		o.conns = append(o.conns, w)
		return w, nil
	}
	return p
}

func (o *onlyTo) dials() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.dialled...)
}

// TestJumpFromSSHConfig reaches a target through a bastion the way
// ~/.ssh/config says (HostName, Port, IdentityFile and ProxyJump), with
// the bastion's host key hashed in known_hosts: the command runs on the
// target, only the bastion is dialled, and the bastion forwarded the
// connection to the target. Two hosts share the two connections; closing
// the target's connection closes the bastion's.
func TestJumpFromSSHConfig(t *testing.T) {
	t.Parallel()
	bastion := startSSHD(t, bastionOpts)
	target := startSSHD(t, serverOpts{})
	targetBefore := target.connections()

	dir := t.TempDir()
	config := writeConfig(t, filepath.Join(dir, "config"), fmt.Sprintf(`# The playbook's target names, as an operator's ~/.ssh/config has them.
Host web1 web2
  HostName 127.0.0.1
  Port %d
  ProxyJump bastion

Host bastion
  HostName 127.0.0.1
  Port %d
  IdentityFile %s
`, target.port, bastion.port, bastion.clientKey))
	cfg := Config{
		ConfigFile:    config,
		IdentityFiles: []string{target.clientKey},
		KnownHosts: []string{knownHostsFor(t,
			hashedLine(bastion.addr, bastion.hostKeys[0]),
			knownhosts.Line([]string{target.addr}, target.hostKeys[0]))},
	}
	route := &onlyTo{allowed: bastion.addr}
	p := route.pool(t)
	h, err := p.Host(context.Background(), "web1", cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, h, steps.Command{Argv: []string{"sh", "-c", `echo "$1 on $SSH_CONNECTION"`, "x", "hello"}})
	fields := strings.Fields(string(res.Stdout))
	if len(fields) != 6 || fields[0] != "hello" || fields[5] != fmt.Sprint(target.port) {
		t.Fatalf("stdout %q: want hello and the target's port", res.Stdout)
	}
	if got := route.dials(); fmt.Sprint(got) != fmt.Sprintf("[%s]", bastion.addr) {
		t.Errorf("dialled %q, want the bastion only", got)
	}
	waitfor.Condition(t, 10*time.Second, "the bastion's log of the forwarding", func() bool { return bastion.forwarded(target.addr) })
	if n := target.connections() - targetBefore; n != 1 {
		t.Errorf("the target accepted %d connections, want 1", n)
	}

	// Another target name with the same chain shares both connections.
	h2, err := p.Host(context.Background(), "web2", cfg)
	if err != nil {
		t.Fatal(err)
	}
	run(t, h2, steps.Command{Argv: []string{"true"}})
	if n := p.dials.Load(); n != 2 {
		t.Errorf("the pool made %d SSH connections, want 2 (bastion and target)", n)
	}

	// The target's connection ends: the bastion's is closed with it.
	e, _ := p.entry(h.(*host).key)
	c := e.cur.Load()
	if len(c.jumps) != 1 {
		t.Fatalf("%d jump connections, want 1", len(c.jumps))
	}
	c.client.Close()
	waitfor.Condition(t, 10*time.Second, "the bastion's connection to close", route.conns[0].isClosed)
	// The next command dials the chain again.
	run(t, h, steps.Command{Argv: []string{"true"}})
	if n := len(route.dials()); n != 2 {
		t.Errorf("dialled the bastion %d times, want 2", n)
	}
	p.Close()
	waitfor.Condition(t, 10*time.Second, "the pool to close the bastion's connection", route.conns[1].isClosed)
}

// TestJumpChain goes through two bastions named on the Config, as a
// connection's proxy_jump does, each with its user and port in the hop,
// and checks each forwarded to the next.
func TestJumpChain(t *testing.T) {
	t.Parallel()
	b1 := startSSHD(t, bastionOpts)
	b2 := startSSHD(t, bastionOpts)
	target := startSSHD(t, serverOpts{})
	b1.authorize(t, target.clientKey)
	b2.authorize(t, target.clientKey)

	cfg := Config{
		ConfigFile:    "none",
		IdentityFiles: []string{target.clientKey},
		KnownHosts: []string{knownHostsFor(t,
			knownhosts.Line([]string{b1.addr}, b1.hostKeys[0]),
			hashedLine(b2.addr, b2.hostKeys[0]),
			hashedLine(target.addr, target.hostKeys[0]))},
		ProxyJump: fmt.Sprintf("%s@127.0.0.1:%d,ssh://%s@127.0.0.1:%d", b1.user, b1.port, b2.user, b2.port),
		Addresses: map[string]string{"web1": target.addr},
	}
	route := &onlyTo{allowed: b1.addr}
	h, err := route.pool(t).Host(context.Background(), "web1", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res := run(t, h, steps.Command{Argv: []string{"echo", "through two"}}); string(res.Stdout) != "through two\n" {
		t.Fatalf("stdout %q", res.Stdout)
	}
	waitfor.Condition(t, 10*time.Second, "b1 forwarding to b2", func() bool { return b1.forwarded(b2.addr) })
	waitfor.Condition(t, 10*time.Second, "b2 forwarding to the target", func() bool { return b2.forwarded(target.addr) })
	if b1.forwarded(target.addr) {
		t.Error("b1 forwarded to the target itself")
	}
}

// TestJumpHostKeyChecked refuses a jump host whose key is not the one
// known_hosts has, or is not known, even when the target's key check is
// switched off, and refuses a target behind a good bastion whose key
// changed. Nothing reaches the target past a refused hop.
func TestJumpHostKeyChecked(t *testing.T) {
	t.Parallel()
	bastion := startSSHD(t, bastionOpts)
	target := startSSHD(t, serverOpts{})
	bastion.authorize(t, target.clientKey)
	other := keygen(t, "ed25519", filepath.Join(t.TempDir(), "other"))
	goodTarget := knownhosts.Line([]string{target.addr}, target.hostKeys[0])

	tests := map[string]struct {
		known    []string
		insecure bool
		atJump   bool // refused at the jump host: the target sees nothing
		check    func(t *testing.T, err error)
	}{
		"changed key at the jump host": {
			known:  []string{hashedLine(bastion.addr, other), goodTarget},
			atJump: true,
			check: func(t *testing.T, err error) {
				var changed *ChangedHostKeyError
				if !errors.As(err, &changed) || !strings.Contains(err.Error(), "jump host "+bastion.user+"@127.0.0.1") ||
					!strings.Contains(err.Error(), "CHANGED") {
					t.Fatalf("err = %v, want a ChangedHostKeyError naming the jump host", err)
				}
			},
		},
		"unknown jump host, target check off": {
			known:    []string{goodTarget},
			insecure: true,
			atJump:   true,
			check: func(t *testing.T, err error) {
				var unknown *UnknownHostKeyError
				if !errors.As(err, &unknown) || unknown.Addr != bastion.addr || unknown.Through != "" {
					t.Fatalf("err = %v, want an UnknownHostKeyError for the bastion, reached directly", err)
				}
			},
		},
		"unknown target behind the jump host": {
			known: []string{hashedLine(bastion.addr, bastion.hostKeys[0])},
			check: func(t *testing.T, err error) {
				var unknown *UnknownHostKeyError
				if !errors.As(err, &unknown) || unknown.Addr != target.addr || unknown.Through != bastion.user+"@"+bastion.addr ||
					!strings.Contains(err.Error(), "run it on the jump host "+bastion.user+"@"+bastion.addr) {
					t.Fatalf("err = %v, want an UnknownHostKeyError for the target saying where to scan it", err)
				}
			},
		},
		"changed key at the target behind the jump host": {
			known: []string{hashedLine(bastion.addr, bastion.hostKeys[0]), knownhosts.Line([]string{target.addr}, other)},
			check: func(t *testing.T, err error) {
				var changed *ChangedHostKeyError
				if !errors.As(err, &changed) || changed.Target != "web1" || changed.Addr != target.addr {
					t.Fatalf("err = %v, want a ChangedHostKeyError for the target", err)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := target.connections()
			cfg := Config{
				ConfigFile:            "none",
				IdentityFiles:         []string{target.clientKey},
				KnownHosts:            []string{knownHostsFor(t, tc.known...)},
				InsecureIgnoreHostKey: tc.insecure,
				ProxyJump:             fmt.Sprintf("%s@%s", bastion.user, bastion.addr),
				Addresses:             map[string]string{"web1": target.addr},
			}
			route := &onlyTo{allowed: bastion.addr}
			h, err := route.pool(t).Host(context.Background(), "web1", cfg)
			if h != nil || err == nil {
				t.Fatal("connected")
			}
			tc.check(t, err)
			if tc.atJump && target.connections() != before {
				t.Error("the target was reached past a refused jump host")
			}
		})
	}
}

// TestJumpForwardingRefused says so when the jump host will not forward.
func TestJumpForwardingRefused(t *testing.T) {
	t.Parallel()
	bastion := startSSHD(t, serverOpts{extraConfig: "AllowTcpForwarding no\n"})
	target := startSSHD(t, serverOpts{})
	bastion.authorize(t, target.clientKey)
	cfg := Config{
		ConfigFile:    "none",
		IdentityFiles: []string{target.clientKey},
		KnownHosts: []string{knownHostsFor(t,
			knownhosts.Line([]string{bastion.addr}, bastion.hostKeys[0]),
			knownhosts.Line([]string{target.addr}, target.hostKeys[0]))},
		ProxyJump: bastion.user + "@" + bastion.addr,
		Addresses: map[string]string{"web1": target.addr},
	}
	_, err := NewPool().Host(context.Background(), "web1", cfg)
	want := fmt.Sprintf("ssh: web1: connect to %s through %s@%s: ", target.addr, bastion.user, bastion.addr)
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "prohibited") {
		t.Fatalf("err = %v, want %q… prohibited", err, want)
	}
}
