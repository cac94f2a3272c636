package sshd

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rokflow/rokflow/sim"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rokflow/rokflow/internal/pki"
)

// Node is a machine the room serves: its name and the listener of its
// own port.
type Node struct {
	Name     string
	Listener net.Listener
}

// Cluster is what the room needs of the simulated cluster.
type Cluster interface {
	// On says whether a node is powered on; a connection to a node that
	// is off is closed unanswered.
	On(node string) bool
	// Exec runs one command line of an exec request on a node, with the
	// variables the session set, and returns its exit status. It returns
	// ErrKilled for a command killed by a signal, and another error when
	// the node went away (the connection then drops without a status).
	Exec(ctx context.Context, node, line string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) (int, error)
}

// ErrKilled is Exec's error for a command killed by a signal (the
// session's signal request, kill(1) or a node powered off): the client
// sees exit-signal KILL.
var ErrKilled = errors.New("killed")

// envName is a variable name an env request may set.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Server serves every node on its own loopback port.
type Server struct {
	c        Cluster
	client   ssh.PublicKey
	mu       sync.Mutex
	lns      []net.Listener
	conns    map[string]map[net.Conn]bool // node -> open connections
	closed   bool
	wg       sync.WaitGroup
	sessions sync.WaitGroup
}

// Start serves each node on its listener, with the host keys and the
// client key of simDir (made the first time), and writes the known_hosts
// file there. It closes the listeners when it fails.
func Start(simDir string, nodes []Node, c Cluster) (*Server, error) {
	srv := &Server{c: c, conns: map[string]map[net.Conn]bool{}}
	for _, n := range nodes {
		srv.lns = append(srv.lns, n.Listener)
	}
	client, err := ensureClientKey(simDir)
	if err != nil {
		srv.Close()
		return nil, err
	}
	srv.client = client
	var known []string
	for _, n := range nodes {
		signer, err := ensureHostKey(simDir, n.Name)
		if err != nil {
			srv.Close()
			return nil, err
		}
		port := n.Listener.Addr().(*net.TCPAddr).Port
		cfg := &ssh.ServerConfig{
			PublicKeyCallback: srv.authorize,
			ServerVersion:     "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3",
		}
		cfg.AddHostKey(signer)
		known = append(known, knownhosts.Line([]string{net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}, signer.PublicKey()))
		srv.wg.Add(1)
		go srv.accept(n.Listener, n.Name, cfg)
	}
	sort.Strings(known)
	if err := pki.WriteFile(filepath.Join(simDir, sim.KnownHostsFile), []byte(strings.Join(known, "\n")+"\n"), 0o644); err != nil {
		srv.Close()
		return nil, err
	}
	return srv, nil
}

// authorize admits root with the simulator's client key.
func (srv *Server) authorize(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if meta.User() != "root" {
		return nil, fmt.Errorf("user %s is not allowed (only root)", meta.User())
	}
	if string(key.Marshal()) != string(srv.client.Marshal()) {
		return nil, errors.New("public key not authorised")
	}
	return &ssh.Permissions{}, nil
}

func (srv *Server) accept(l net.Listener, name string, cfg *ssh.ServerConfig) {
	defer srv.wg.Done()
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		if !srv.c.On(name) || !srv.track(name, conn, true) {
			// A powered-off machine: nothing answers.
			conn.Close()
			continue
		}
		srv.wg.Add(1)
		go func() {
			defer srv.wg.Done()
			defer srv.track(name, conn, false)
			srv.serveConn(conn, name, cfg)
		}()
	}
}

// track records (or forgets) an open connection; false once closed.
func (srv *Server) track(name string, conn net.Conn, add bool) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if add {
		if srv.closed {
			return false
		}
		if srv.conns[name] == nil {
			srv.conns[name] = map[net.Conn]bool{}
		}
		srv.conns[name][conn] = true
		return true
	}
	delete(srv.conns[name], conn)
	conn.Close()
	return true
}

// Drop closes every connection to a node, as its power going off does. A
// nil Server ignores it.
func (srv *Server) Drop(name string) {
	if srv == nil {
		return
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for c := range srv.conns[name] {
		c.Close()
	}
}

func (srv *Server) serveConn(conn net.Conn, name string, cfg *ssh.ServerConfig) {
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	_ = conn.SetDeadline(time.Time{})
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only session channels are served")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		srv.sessions.Add(1)
		go func() {
			defer srv.sessions.Done()
			srv.session(ch, creqs, name)
		}()
	}
}

// session serves one session channel: env requests, then one exec; a
// signal request kills the running command.
func (srv *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request, name string) {
	defer ch.Close()
	env := map[string]string{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var done chan struct{}
	for req := range reqs {
		switch req.Type {
		case "env":
			var kv struct{ Name, Value string }
			if ssh.Unmarshal(req.Payload, &kv) == nil && envName.MatchString(kv.Name) {
				env[kv.Name] = kv.Value
				_ = req.Reply(true, nil)
				continue
			}
			_ = req.Reply(false, nil)
		case "exec":
			var p struct{ Command string }
			if done != nil || ssh.Unmarshal(req.Payload, &p) != nil {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			done = make(chan struct{})
			go func() {
				defer close(done)
				defer ch.Close()
				code, err := srv.c.Exec(ctx, name, p.Command, env, ch, ch, ch.Stderr())
				switch {
				case errors.Is(err, ErrKilled):
					_, _ = ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
						Signal     string
						CoreDumped bool
						Error      string
						Lang       string
					}{Signal: "KILL"}))
				case err != nil:
					// The node went away: the connection drops without an
					// exit status.
				default:
					_ = ch.CloseWrite()
					_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
				}
			}()
		case "signal":
			if req.WantReply {
				_ = req.Reply(true, nil)
			}
			cancel()
		case "shell":
			_ = req.Reply(true, nil)
			fmt.Fprintln(ch.Stderr(), "rok-sim: this simulated node runs commands only (ssh HOST COMMAND); there is no interactive shell")
			_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{127}))
			return
		default:
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}
	if done != nil {
		cancel()
		<-done
	}
}

// Close stops listening, drops every connection and waits for the
// sessions to end.
func (srv *Server) Close() {
	srv.mu.Lock()
	srv.closed = true
	for _, l := range srv.lns {
		l.Close()
	}
	for _, m := range srv.conns {
		for c := range m {
			c.Close()
		}
	}
	srv.mu.Unlock()
	srv.wg.Wait()
	srv.sessions.Wait()
}

// ensureHostKey loads or makes the ed25519 host key of a node.
func ensureHostKey(dir, name string) (ssh.Signer, error) {
	return ensureKey(filepath.Join(dir, "ssh", "ssh_host_ed25519_key."+name), "root@"+name)
}

// ensureClientKey loads or makes the client key pair and returns its
// public half.
func ensureClientKey(dir string) (ssh.PublicKey, error) {
	signer, err := ensureKey(filepath.Join(dir, sim.ClientKeyFile), "rokflow-sim")
	if err != nil {
		return nil, err
	}
	pub := filepath.Join(dir, sim.ClientKeyFile+".pub")
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " rokflow-sim\n"
	if err := pki.WriteFile(pub, []byte(line), 0o644); err != nil {
		return nil, err
	}
	return signer.PublicKey(), nil
}

func ensureKey(path, comment string) (ssh.Signer, error) {
	if data, err := os.ReadFile(path); err == nil {
		return ssh.ParsePrivateKey(data)
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	blk, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, err
	}
	if err := pki.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(priv)
}
