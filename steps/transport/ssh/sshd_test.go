package ssh

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rokflow/rokflow/internal/waitfor"
	"github.com/rokflow/rokflow/steps"
)

const sshdPath = "/usr/sbin/sshd"

// testServer is a real OpenSSH sshd run by a test on 127.0.0.1 with its own
// host keys and configuration, letting the current user in with a key made
// for the test.
type testServer struct {
	dir        string
	port       int
	addr       string // 127.0.0.1:port
	hostKeys   []ssh.PublicKey
	clientKey  string // private key file authorised on the server
	knownHosts string // a known_hosts file with the server's keys
	log        *syncBuffer
	user       string
}

type serverOpts struct {
	hostKeyTypes []string // default: ed25519
	extraConfig  string
}

// startSSHD starts sshd and stops it (by its pid) when the test ends.
func startSSHD(t testing.TB, opts serverOpts) *testServer {
	t.Helper()
	if _, err := os.Stat(sshdPath); err != nil {
		t.Skipf("%s is not installed (apt-get install openssh-server openssh-client): %v", sshdPath, err)
	}
	if len(opts.hostKeyTypes) == 0 {
		opts.hostKeyTypes = []string{"ed25519"}
	}
	s := &testServer{dir: t.TempDir(), log: &syncBuffer{}, user: currentUser()}
	var hostKeyLines strings.Builder
	for _, typ := range opts.hostKeyTypes {
		f := filepath.Join(s.dir, "ssh_host_"+typ+"_key")
		pub := keygen(t, typ, f)
		s.hostKeys = append(s.hostKeys, pub)
		fmt.Fprintf(&hostKeyLines, "HostKey %s\n", f)
	}
	s.clientKey = filepath.Join(s.dir, "id_ed25519")
	keygen(t, "ed25519", s.clientKey)
	clientPub, err := os.ReadFile(s.clientKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	authKeys := filepath.Join(s.dir, "authorized_keys")
	writeFile(t, authKeys, string(clientPub), 0o600)

	// sshd refuses to start without its privilege separation directory,
	// which the package creates only when the service starts.
	if os.Geteuid() == 0 {
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}

	s.port = freePort(t)
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	// sshd keeps the first value it reads for an option: extras go first.
	// SHLVL=1 keeps Debian's bash, when it is the login shell, from
	// sourcing ~/.bashrc for every command run over SSH (it does when
	// SHLVL < 2): the tests and the benchmark measure the transport, not
	// the user's shell start-up files.
	config := fmt.Sprintf(`%s
Port %d
ListenAddress 127.0.0.1
%sPidFile %s
AuthorizedKeysFile %s
UsePAM no
StrictModes no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PrintMotd no
LogLevel VERBOSE
MaxStartups 100
SetEnv SHLVL=1
`, opts.extraConfig, s.port, hostKeyLines.String(), filepath.Join(s.dir, "sshd.pid"), authKeys)
	configFile := filepath.Join(s.dir, "sshd_config")
	// OpenSSH 9.8 and later turn clients away for a while after failed
	// logins and connections dropped before login (which some tests make
	// on purpose); older versions do not know the option.
	writeFile(t, configFile, "PerSourcePenalties no\n"+config, 0o600)
	if out, err := exec.Command(sshdPath, "-t", "-f", configFile).CombinedOutput(); err != nil {
		if !strings.Contains(string(out), "PerSourcePenalties") {
			t.Fatalf("sshd -t: %v\n%s", err, out)
		}
		writeFile(t, configFile, config, 0o600)
	}

	cmd := exec.Command(sshdPath, "-D", "-e", "-f", configFile)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		// By pid: this sshd, and nothing else.
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("sshd (pid %d) did not exit", pid)
		}
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.log.String())
		}
	})

	var kh strings.Builder
	for _, k := range s.hostKeys {
		kh.WriteString(knownhosts.Line([]string{s.addr}, k) + "\n")
	}
	s.knownHosts = filepath.Join(s.dir, "known_hosts")
	writeFile(t, s.knownHosts, kh.String(), 0o600)

	// Ready when it sends its banner.
	waitfor.Condition(t, 15*time.Second, "sshd to send its banner on "+s.addr, func() bool {
		select {
		case <-exited:
			t.Fatalf("sshd exited at start:\n%s", s.log.String())
		default:
		}
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err != nil {
			return false
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		return strings.HasPrefix(line, "SSH-2.0-")
	})
	// Let the probe's log line arrive, so that connections() counts from a
	// settled log.
	waitfor.Condition(t, 15*time.Second, "sshd to log the probe's connection", func() bool { return s.connections() > 0 })
	return s
}

// config logs in with the test's key and checks the server's host key.
func (s *testServer) config() Config {
	return Config{
		User:          s.user,
		IdentityFiles: []string{s.clientKey},
		KnownHosts:    []string{s.knownHosts},
		Addresses:     map[string]string{"web1": s.addr},
	}
}

// connections counts the TCP connections sshd accepted (its readiness probes
// included), from its log.
func (s *testServer) connections() int {
	return strings.Count(s.log.String(), "Connection from 127.0.0.1")
}

// host returns a pool and the host "web1" on it.
func (s *testServer) host(t testing.TB, cfg Config) (*Pool, *host) {
	t.Helper()
	p := NewPool()
	t.Cleanup(func() { p.Close() })
	h, err := p.Host(context.Background(), "web1", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, h.(*host)
}

func keygen(t testing.TB, typ, file string) ssh.PublicKey {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-q", "-t", typ, "-N", "", "-C", "rokflow-test", "-f", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	data, err := os.ReadFile(file + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// run is Exec that fails the test on an error.
func run(t testing.TB, h steps.Host, cmd steps.Command) steps.ExecResult {
	t.Helper()
	res, err := h.Exec(context.Background(), cmd)
	if err != nil {
		t.Fatalf("Exec %q: %v", cmd.Argv, err)
	}
	return res
}
