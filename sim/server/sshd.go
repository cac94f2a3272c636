package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
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

// Files the SSH side writes for clients.

// sshServer serves every node on its own loopback port.
type sshServer struct {
	s        *Server
	client   ssh.PublicKey
	mu       sync.Mutex
	lns      []net.Listener
	conns    map[string]map[net.Conn]bool // node -> open connections
	closed   bool
	wg       sync.WaitGroup
	sessions sync.WaitGroup
}

func newSSHServer(s *Server) (*sshServer, error) {
	client, err := ensureClientKey(s.dir)
	if err != nil {
		return nil, err
	}
	srv := &sshServer{s: s, client: client, conns: map[string]map[net.Conn]bool{}}
	var known []string
	for _, n := range s.st.Nodes {
		signer, err := ensureHostKey(s.dir, n.Name)
		if err != nil {
			srv.close()
			return nil, err
		}
		l, err := listen(&n.SSHPort, "SSH server of "+n.Name)
		if err != nil {
			srv.close()
			return nil, err
		}
		srv.lns = append(srv.lns, l)
		cfg := &ssh.ServerConfig{
			PublicKeyCallback: srv.authorize,
			ServerVersion:     "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3",
		}
		cfg.AddHostKey(signer)
		known = append(known, knownhosts.Line([]string{net.JoinHostPort("127.0.0.1", strconv.Itoa(n.SSHPort))}, signer.PublicKey()))
		srv.wg.Add(1)
		go srv.accept(l, n.Name, cfg)
	}
	sort.Strings(known)
	if err := pki.WriteFile(filepath.Join(s.dir, sim.KnownHostsFile), []byte(strings.Join(known, "\n")+"\n"), 0o644); err != nil {
		srv.close()
		return nil, err
	}
	return srv, nil
}

// authorize admits root with the simulator's client key.
func (srv *sshServer) authorize(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if meta.User() != "root" {
		return nil, fmt.Errorf("user %s is not allowed (only root)", meta.User())
	}
	if string(key.Marshal()) != string(srv.client.Marshal()) {
		return nil, errors.New("public key not authorised")
	}
	return &ssh.Permissions{}, nil
}

func (srv *sshServer) accept(l net.Listener, name string, cfg *ssh.ServerConfig) {
	defer srv.wg.Done()
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		srv.s.mu.Lock()
		n := srv.s.st.node(name)
		on := n != nil && n.On
		srv.s.mu.Unlock()
		if !on || !srv.track(name, conn, true) {
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
func (srv *sshServer) track(name string, conn net.Conn, add bool) bool {
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

// drop closes every connection to a node, as its power going off does.
func (srv *sshServer) drop(name string) {
	if srv == nil {
		return
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for c := range srv.conns[name] {
		c.Close()
	}
}

func (srv *sshServer) serveConn(conn net.Conn, name string, cfg *ssh.ServerConfig) {
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
func (srv *sshServer) session(ch ssh.Channel, reqs <-chan *ssh.Request, name string) {
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
				code, err := srv.s.exec(ctx, name, p.Command, env, ch, ch, ch.Stderr())
				switch {
				case errors.Is(err, errKilled):
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

func (srv *sshServer) close() {
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
