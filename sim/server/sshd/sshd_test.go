package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rokflow/rokflow/sim"
)

// echoCluster answers every command line with its words and the session's
// variables; "fail N" exits with N and "die" is killed.
type echoCluster struct{ on bool }

func (c echoCluster) On(string) bool { return c.on }

func (c echoCluster) Exec(ctx context.Context, node, line string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	var code int
	if line == "die" {
		return 0, ErrKilled
	}
	if _, err := fmt.Sscanf(line, "fail %d", &code); err == nil {
		fmt.Fprintf(stderr, "failing with %d\n", code)
		return code, nil
	}
	fmt.Fprintf(stdout, "%s: %s LANG=%s", node, line, env["LANG"])
	return 0, nil
}

// dial starts the room with one node and connects to it as rokflow does:
// the client key and known_hosts the room wrote.
func dial(t *testing.T, c Cluster) (*ssh.Client, error) {
	t.Helper()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(dir, []Node{{Name: "rok1.sim", Listener: l}}, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	key, err := os.ReadFile(filepath.Join(dir, sim.ClientKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	hk, err := knownhosts.New(filepath.Join(dir, sim.KnownHostsFile))
	if err != nil {
		t.Fatal(err)
	}
	return ssh.Dial("tcp", l.Addr().String(), &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hk, Timeout: 5 * time.Second})
}

func TestSessions(t *testing.T) {
	client, err := dial(t, echoCluster{on: true})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	run := func(line string) (string, error) {
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		_ = sess.Setenv("LANG", "C")
		if err := sess.Setenv("NOT-A-NAME", "x"); err == nil {
			t.Error("an env request with an invalid name was accepted")
		}
		out, err := sess.Output(line)
		return string(out), err
	}
	if out, err := run("exec 'true'"); err != nil || out != "rok1.sim: exec 'true' LANG=C" {
		t.Errorf("a command: %q %v", out, err)
	}
	var exit *ssh.ExitError
	if _, err := run("fail 3"); !errors.As(err, &exit) || exit.ExitStatus() != 3 {
		t.Errorf("a failing command: %v", err)
	}
	if _, err := run("die"); !errors.As(err, &exit) || exit.Signal() != "KILL" {
		t.Errorf("a killed command: %v", err)
	}
}

func TestNodeOff(t *testing.T) {
	if client, err := dial(t, echoCluster{on: false}); err == nil {
		client.Close()
		t.Error("a node that is off answered")
	}
}
