package server

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rokflow/rokflow/sim/shellwords"
	"github.com/rokflow/rokflow/steps"
	sshtransport "github.com/rokflow/rokflow/steps/transport/ssh"
)

// rokflowHost returns rokflow's SSH transport for a node, configured from
// the simulator's files as the var-file configures the playbook.
func rokflowHost(t *testing.T, s *Server, node string) steps.Host {
	t.Helper()
	addrs := map[string]string{}
	st := s.Status()
	for _, n := range st.Nodes {
		addrs[n.Name] = n.SSH
	}
	for _, h := range st.Hosts {
		addrs[h.Name] = h.SSH
	}
	pool := sshtransport.NewPool()
	t.Cleanup(func() { pool.Close() })
	h, err := pool.Host(context.Background(), node, sshtransport.Config{
		User:          "root",
		IdentityFiles: []string{filepath.Join(s.Dir(), sim.ClientKeyFile)},
		KnownHosts:    []string{filepath.Join(s.Dir(), sim.KnownHostsFile)},
		Addresses:     addrs,
		KeepAlive:     -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSSHServer(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	c := sshClient(t, s, "rok2.sim")
	r, err := sshRun(t, c, "exec "+shellwords.Join([]string{"rok-config", "get", "cluster.master_candidates"}), "")
	if err != nil || r.code != 0 || r.stdout != "rok1.sim,rok2.sim,rok3.sim\n" {
		t.Errorf("rok-config over SSH: %+v %v", r, err)
	}
	r, err = sshRun(t, c, "true; reboot", "")
	if err != nil || r.code != 127 || !strings.Contains(r.stderr, "unquoted ';'") {
		t.Errorf("a ; over SSH: %+v %v", r, err)
	}
	r, err = sshRun(t, c, "exec 'tee' '/tmp/x'", "from stdin\n")
	if err != nil || r.code != 0 || r.stdout != "from stdin\n" {
		t.Errorf("stdin over SSH: %+v %v", r, err)
	}
	// Only root with the simulator's key.
	key, _ := os.ReadFile(filepath.Join(s.Dir(), sim.ClientKeyFile))
	signer, _ := ssh.ParsePrivateKey(key)
	hk, _ := knownhosts.New(filepath.Join(s.Dir(), sim.KnownHostsFile))
	addr := s.Status().Node("rok2.sim").SSH
	if _, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "admin", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hk}); err == nil {
		t.Error("user admin logged in")
	}
	other, _ := ssh.NewSignerFromKey(mustEd25519(t))
	if _, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(other)}, HostKeyCallback: hk}); err == nil {
		t.Error("a foreign key logged in")
	}
	// known_hosts names each node's key under [127.0.0.1]:PORT only.
	rok1 := s.Status().Node("rok1.sim").SSH
	cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: func(host string, remote netAddr, k ssh.PublicKey) error {
		return hk(strings.Replace(host, rok1, addr, 1), remote, k) // rok1's key presented as rok2's
	}}
	if _, err := ssh.Dial("tcp", rok1, cfg); err == nil {
		t.Error("rok1's host key passed as rok2's")
	}
	// A powered-off node does not answer; existing connections drop.
	operate(t, s, sim.ActionPowerOff, "rok2.sim")
	if _, err := sshRun(t, c, "exec 'true'", ""); err == nil {
		t.Error("a command ran on a powered-off node")
	}
	if _, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hk, Timeout: 2 * time.Second}); err == nil {
		t.Error("connected to a powered-off node")
	}
}

// TestTransport drives rokflow's own SSH transport against the simulator:
// its command lines, its fixed file scripts and its cancellation.
func TestTransport(t *testing.T) {
	s := newSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 2, Guests: 1, NoEtcd: true})
	ctx := context.Background()
	h := rokflowHost(t, s, "node1.gnt.sim")

	res, err := h.Exec(ctx, steps.Command{Argv: []string{"dpkg-query", "--show", "--showformat=${Version}", "rok-base"}})
	if err != nil || res.ExitStatus != 0 || string(res.Stdout) != "0.10.2-1" || len(res.Stderr) != 0 {
		t.Fatalf("dpkg-query: %+v %q %v", res, res.Stderr, err)
	}
	res, err = h.Exec(ctx, steps.Command{Argv: []string{"cat", "rok.conf"}, Dir: "/etc/ganeti/rok", Env: map[string]string{"LC_ALL": "C"}, Sudo: true})
	if err != nil || res.ExitStatus != 0 || !strings.Contains(string(res.Stdout), "openstore_controller = tcp://10.0.0.11:8080") {
		t.Fatalf("cat with Dir and Env: %+v %v", res, err)
	}
	res, err = h.Exec(ctx, steps.Command{Argv: []string{"no-such-program"}})
	if err != nil || res.ExitStatus != 127 {
		t.Errorf("unknown program: %+v %v", res, err)
	}

	// Glob, ReadFile, WriteFile: what file.replace does to /usr/bin/*kvm*.
	paths, err := h.Glob(ctx, "/usr/bin/*kvm*")
	if want := []string{"/usr/bin/kvm", "/usr/bin/kvm-ok", "/usr/bin/qemu-kvm-rok"}; err != nil || !reflect.DeepEqual(paths, want) {
		t.Fatalf("Glob = %q, %v; want %q", paths, err, want)
	}
	if m, err := h.Glob(ctx, "/etc/ganeti/rok/rok.conf"); err != nil || len(m) != 1 {
		t.Errorf("Glob of a plain path = %q, %v", m, err)
	}
	if m, err := h.Glob(ctx, "/etc/*/nothing*"); err != nil || len(m) != 0 {
		t.Errorf("Glob without matches = %q, %v", m, err)
	}
	data, mode, err := h.ReadFile(ctx, "/usr/bin/kvm")
	if err != nil || mode != 0o755 || !bytes.Contains(data, []byte("tcp://")) {
		t.Fatalf("ReadFile = %q %v %v", data, mode, err)
	}
	if err := h.WriteFile(ctx, "/usr/bin/kvm", bytes.ReplaceAll(data, []byte("tcp:"), []byte("http:")), 0o600); err != nil {
		t.Fatal(err)
	}
	data2, mode2, err := h.ReadFile(ctx, "/usr/bin/kvm")
	if err != nil || mode2 != 0o755 || bytes.Contains(data2, []byte("tcp:")) {
		t.Errorf("after WriteFile: mode %v, %q, %v", mode2, data2, err)
	}
	if err := h.WriteFile(ctx, "/etc/ganeti/rok/new.conf", []byte("x\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, mode, _ := h.ReadFile(ctx, "/etc/ganeti/rok/new.conf"); mode != 0o640 {
		t.Errorf("new file mode %v", mode)
	}
	if _, _, err := h.ReadFile(ctx, "/etc/nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
	if err := h.WriteFile(ctx, "/nodir/x", []byte("x"), 0o644); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteFile in a missing directory: %v", err)
	}
	if left, _ := h.Glob(ctx, "/etc/ganeti/rok/.*"); len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}

	// Cancellation: a slow host's command is killed through the transport.
	if err := s.SetFaults(sim.Faults{Slow: map[string]sim.Duration{"node1.gnt.sim": sim.Duration(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = h.Exec(cctx, steps.Command{Argv: []string{"true"}})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Errorf("cancelled command: %v after %v", err, time.Since(start))
	}
	s.pidMu.Lock()
	running := len(s.pids)
	s.pidMu.Unlock()
	eventually(t, "the killed command to end", func() bool {
		s.pidMu.Lock()
		defer s.pidMu.Unlock()
		return len(s.pids) == 0
	})
	_ = running
}
