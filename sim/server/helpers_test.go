package server

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rokflow/rokflow/internal/waitfor"
	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/shellwords"
)

// newSim starts a simulator in a temporary directory with fast timings;
// it stops when the test ends.
func newSim(t *testing.T, spec sim.Spec) *Server {
	t.Helper()
	if spec.JobDelay == 0 {
		spec.JobDelay = sim.Duration(5 * time.Millisecond)
	}
	if spec.OperatorDelay == 0 {
		spec.OperatorDelay = sim.Duration(20 * time.Millisecond)
	}
	if spec.WaitTimeout == 0 {
		spec.WaitTimeout = sim.Duration(2 * time.Second)
	}
	s, err := Start(t.TempDir(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// result is what a command did.
type result struct {
	code           int
	stdout, stderr string
}

// run runs argv on a node through the same command line rokflow's SSH
// transport sends (every word single-quoted, after the pid report), in
// process.
func run(t *testing.T, s *Server, node string, argv ...string) result {
	t.Helper()
	return runLine(t, s, node, pidReport+"exec "+shellwords.Join(argv), "")
}

func runLine(t *testing.T, s *Server, node, line, stdin string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code, err := s.Exec(node, line, strings.NewReader(stdin), &out, &errb)
	if err != nil {
		t.Fatalf("%s: %s: %v", node, line, err)
	}
	stderr := errb.String()
	if strings.HasPrefix(stderr, "rokflow-pid:") {
		_, stderr, _ = strings.Cut(stderr, "\n")
	}
	return result{code, out.String(), stderr}
}

// must runs argv and fails the test unless it succeeds.
func must(t *testing.T, s *Server, node string, argv ...string) string {
	t.Helper()
	r := run(t, s, node, argv...)
	if r.code != 0 {
		t.Fatalf("%s: %q exited %d:\n%s%s", node, argv, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// refused runs argv and fails the test unless it fails with a message
// containing want.
func refused(t *testing.T, s *Server, node, want string, argv ...string) result {
	t.Helper()
	r := run(t, s, node, argv...)
	if r.code == 0 {
		t.Fatalf("%s: %q succeeded, want a failure mentioning %q:\n%s", node, argv, want, r.stdout)
	}
	if !strings.Contains(r.stderr+r.stdout, want) {
		t.Fatalf("%s: %q exited %d with\n%s%s\nwant it to mention %q", node, argv, r.code, r.stdout, r.stderr, want)
	}
	return r
}

// members parses rok-cluster-ctl member-list --output json on node.
func members(t *testing.T, s *Server, node string) (master string, byName map[string]memberJSON) {
	t.Helper()
	var doc struct {
		Master  string       `json:"master"`
		Members []memberJSON `json:"members"`
	}
	if err := json.Unmarshal([]byte(must(t, s, node, "rok-cluster-ctl", "member-list", "--output", "json")), &doc); err != nil {
		t.Fatal(err)
	}
	byName = map[string]memberJSON{}
	for _, m := range doc.Members {
		byName[m.Name] = m
	}
	return doc.Master, byName
}

// operate performs an operator action and fails the test on error.
func operate(t *testing.T, s *Server, action, node string) {
	t.Helper()
	if err := s.Operator(sim.OperatorRequest{Action: action, Node: node, Wait: true}); err != nil {
		t.Fatalf("operator %s %s: %v", action, node, err)
	}
}

// eventually polls cond until it holds, for at most 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitfor.Condition(t, 20*time.Second, what, cond)
}

// sshClient logs in to a node as root with the simulator's key, checking
// its host key against the known_hosts file the simulator wrote.
func sshClient(t *testing.T, s *Server, node string) *ssh.Client {
	t.Helper()
	key, err := os.ReadFile(filepath.Join(s.Dir(), sim.ClientKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	hk, err := knownhosts.New(filepath.Join(s.Dir(), sim.KnownHostsFile))
	if err != nil {
		t.Fatal(err)
	}
	st := s.Status()
	addr := ""
	for _, n := range st.Nodes {
		if n.Name == node {
			addr = n.SSH
		}
	}
	for _, h := range st.Hosts {
		if h.Name == node {
			addr = h.SSH
		}
	}
	if addr == "" {
		t.Fatalf("no node %s", node)
	}
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hk, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sshRun runs a command line in a new session and returns its result.
func sshRun(t *testing.T, c *ssh.Client, line, stdin string) (result, error) {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		return result{}, err
	}
	defer sess.Close()
	var out, errb bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errb
	sess.Stdin = strings.NewReader(stdin)
	err = sess.Run(line)
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *ssh.ExitError
	switch {
	case err == nil:
	case asExit(err, &ee):
		r.code = ee.ExitStatus()
		err = nil
	}
	return r, err
}

func asExit(err error, ee **ssh.ExitError) bool {
	e, ok := err.(*ssh.ExitError)
	if ok {
		*ee = e
	}
	return ok
}

type netAddr = net.Addr

func mustEd25519(t *testing.T) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// onlyScheme reports whether every endpoint of m that is set uses scheme,
// and one is.
func onlyScheme(m map[string]string, scheme string) bool {
	n := 0
	for _, v := range m {
		switch v {
		case "none", "missing":
		case scheme:
			n++
		default:
			return false
		}
	}
	return n > 0
}
