package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rokflow/rokflow/steps"
)

// Pool holds the SSH connections of a run: one per (address, user, jump
// hosts), shared
// by every step and every concurrent command on that host, each command in
// its own session on the connection. Connections are dialled on first use,
// kept alive with keepalive@openssh.com requests, dropped when they break or
// stop answering, and dialled again on next use.
//
// Settings of the connection itself (KeepAlive, KeepAliveMax, MaxSessions,
// timeouts, authentication) are those of the Config that dialled it. A
// connection made with InsecureIgnoreHostKey, or against other known_hosts
// files, is not shared with a Config that checks host keys differently.
//
// A target reached through jump hosts has a connection to each of them
// too, made for it alone: they close when its connection does.
//
// The ssh_config files are read once per Pool, when a Config first needs
// them.
//
// The zero value is ready to use. A Pool is safe for concurrent use; Close it
// when the run ends.
type Pool struct {
	// Debug, when set before the Pool is used, receives notes about the
	// ssh_config files read, once each: lines rokflow read but did not
	// apply (Match blocks). They name files and lines, never secrets.
	Debug func(note string)

	mu      sync.Mutex
	entries map[poolKey]*entry
	closed  bool

	cfgMu   sync.Mutex
	configs map[configKey]configLoad

	// dialTCP opens the TCP connections; tests replace it to watch them.
	dialTCP func(ctx context.Context, network, addr string) (net.Conn, error)
	// dials counts the SSH connections established.
	dials atomic.Int64
}

// NewPool returns an empty pool.
func NewPool() *Pool { return &Pool{} }

var errPoolClosed = errors.New("ssh: connection pool is closed")

// entry is the slot of one (address, user): its current connection, and a
// lock held while dialling so that concurrent users wait for one dial.
type entry struct {
	lock chan struct{}
	cur  atomic.Pointer[conn]
}

// conn is one SSH connection.
type conn struct {
	client *ssh.Client
	// jumps are the connections to the jump hosts client goes through,
	// first first; they are closed with it, last first.
	jumps []*ssh.Client
	// sessions bounds the concurrent sessions (MaxSessions).
	sessions chan struct{}
	done     chan struct{} // closed when the connection is dead
	once     sync.Once
	err      error // why it died; set before done is closed
	// answered counts the keepalives the server answered.
	answered atomic.Int64
}

func (c *conn) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// kill marks the connection dead and closes it.
func (c *conn) kill(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.done)
	})
	c.client.Close()
	for i := len(c.jumps) - 1; i >= 0; i-- {
		c.jumps[i].Close()
	}
}

// Host returns the host for target, connecting to it now so that an
// unreachable host, an unknown or changed host key or a failed login are
// reported here. Its Name is target. Several hosts may share a connection.
func (p *Pool) Host(ctx context.Context, target string, cfg Config) (steps.Host, error) {
	sc, err := p.sshConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("ssh: %s: %w", target, err)
	}
	s, err := resolve(target, cfg, sc)
	if err != nil {
		return nil, err
	}
	h := &host{pool: p, s: s, key: s.key()}
	if _, err := p.conn(ctx, h); err != nil {
		return nil, err
	}
	return h, nil
}

// Close closes every connection. Commands still running on them fail, and
// the pool cannot be used again.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, e := range p.entries {
		if c := e.cur.Swap(nil); c != nil {
			c.kill(errPoolClosed)
		}
	}
	return nil
}

func (p *Pool) entry(k poolKey) (*entry, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errPoolClosed
	}
	if p.entries == nil {
		p.entries = make(map[poolKey]*entry)
	}
	e := p.entries[k]
	if e == nil {
		e = &entry{lock: make(chan struct{}, 1)}
		p.entries[k] = e
	}
	return e, nil
}

// conn returns the live connection for h's address and user, dialling it
// when there is none.
func (p *Pool) conn(ctx context.Context, h *host) (*conn, error) {
	e, err := p.entry(h.key)
	if err != nil {
		return nil, err
	}
	if c := e.cur.Load(); c != nil && c.alive() {
		return c, nil
	}
	select {
	case e.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-e.lock }()
	if c := e.cur.Load(); c != nil && c.alive() {
		return c, nil
	}
	c, err := p.dial(ctx, h.s)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.kill(errPoolClosed)
		return nil, errPoolClosed
	}
	e.cur.Store(c)
	return c, nil
}

// dial connects, through the jump hosts if any, checks the host keys, logs
// in and starts the keepalives.
func (p *Pool) dial(ctx context.Context, s *settings) (*conn, error) {
	var jumps []*ssh.Client
	closeJumps := func() {
		for i := len(jumps) - 1; i >= 0; i-- {
			jumps[i].Close()
		}
	}
	var through *ssh.Client
	for _, hop := range s.jumps {
		cl, err := p.handshake(ctx, hop, through)
		if err != nil {
			closeJumps()
			return nil, err
		}
		jumps = append(jumps, cl)
		through = cl
	}
	client, err := p.handshake(ctx, s, through)
	if err != nil {
		closeJumps()
		return nil, err
	}
	c := &conn{
		client:   client,
		jumps:    jumps,
		sessions: make(chan struct{}, s.maxSessions),
		done:     make(chan struct{}),
	}
	go func() {
		err := c.client.Wait()
		if err == nil {
			err = errors.New("connection closed")
		}
		c.kill(err)
	}()
	if s.keepAlive > 0 {
		go c.keepAlive(s.keepAlive, s.keepAliveMax)
	}
	return c, nil
}

// handshake makes one SSH connection: over TCP, or through the jump host
// connection given (a direct-tcpip channel the jump host opens to the
// address). Its host key is checked and it logs in, within the connect
// timeout.
func (p *Pool) handshake(ctx context.Context, s *settings, through *ssh.Client) (*ssh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, s.connectTimeout)
	defer cancel()
	dctx, dcancel := context.WithTimeout(ctx, s.dialTimeout)
	dialTCP := p.dialTCP
	if dialTCP == nil {
		dialTCP = (&net.Dialer{}).DialContext
	}
	if through != nil {
		dialTCP = through.DialContext
	}
	raw, err := dialTCP(dctx, "tcp", s.addr)
	dcancel()
	if err != nil {
		return nil, fmt.Errorf("ssh: %s: connect to %s%s: %w", s.target, s.addr, s.via(), err)
	}
	// The handshake takes no context: closing the socket interrupts it.
	stop := context.AfterFunc(ctx, func() { raw.Close() })

	hostKey, algos, err := s.hostKeyCheck(raw.RemoteAddr())
	if err != nil {
		stop()
		raw.Close()
		return nil, err
	}
	auth, offered, agentDone, err := s.authMethods()
	if err != nil {
		stop()
		raw.Close()
		return nil, err
	}
	cc, chans, reqs, err := ssh.NewClientConn(raw, s.addr, &ssh.ClientConfig{
		User:              s.user,
		Auth:              auth,
		HostKeyCallback:   hostKey,
		HostKeyAlgorithms: algos,
	})
	agentDone()
	if !stop() {
		// ctx ended and closed the socket.
		if err == nil {
			cc.Close()
		}
		return nil, fmt.Errorf("ssh: %s: connect to %s%s: %w", s.target, s.addr, s.via(), context.Cause(ctx))
	}
	if err != nil {
		raw.Close()
		return nil, s.handshakeError(err, offered)
	}
	p.dials.Add(1)
	return ssh.NewClient(cc, chans, reqs), nil
}

func (s *settings) handshakeError(err error, offered []string) error {
	var unknown *UnknownHostKeyError
	var changed *ChangedHostKeyError
	switch {
	case errors.As(err, &unknown):
		return unknown
	case errors.As(err, &changed):
		return changed
	case strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("ssh: %s: login as %s on %s failed (offered: %s): %w",
			s.target, s.user, s.addr, strings.Join(offered, ", "), err)
	}
	return fmt.Errorf("ssh: %s: %s@%s%s: %w", s.target, s.user, s.addr, s.via(), err)
}

// keepAlive sends a keepalive@openssh.com request every interval and kills
// the connection when max of them in a row went unanswered, or when sending
// one fails. Any reply, even a refusal, proves the server is there.
func (c *conn) keepAlive(interval time.Duration, max int) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var pending atomic.Bool
	missed := 0
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		if pending.Load() {
			missed++
			if missed >= max {
				c.kill(fmt.Errorf("no answer to %d keepalives sent %v apart", missed, interval))
				return
			}
			continue
		}
		missed = 0
		pending.Store(true)
		go func() {
			if _, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil); err != nil {
				c.kill(fmt.Errorf("keepalive: %w", err))
				return
			}
			c.answered.Add(1)
			pending.Store(false)
		}()
	}
}

// configKey names the ssh_config files of a Config: its file and the home
// directory its relative names are under.
type configKey struct{ file, home string }

type configLoad struct {
	sc  *sshConfig
	err error
}

// sshConfig returns the parsed ssh_config files for cfg, reading them on
// first use.
func (p *Pool) sshConfig(cfg Config) (*sshConfig, error) {
	file := cfg.ConfigFile
	if file == "" {
		file = os.Getenv(ConfigFileEnv)
	}
	home, _ := os.UserHomeDir()
	k := configKey{file, home}
	p.cfgMu.Lock()
	defer p.cfgMu.Unlock()
	if l, ok := p.configs[k]; ok {
		return l.sc, l.err
	}
	sc, err := loadSSHConfig(file, home)
	if p.configs == nil {
		p.configs = make(map[configKey]configLoad)
	}
	p.configs[k] = configLoad{sc, err}
	if err == nil && p.Debug != nil {
		for _, n := range sc.notes {
			p.Debug(n)
		}
	}
	return sc, err
}
