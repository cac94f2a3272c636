package connect

import (
	"context"
	"log/slog"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/internal/debuglog"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/transport/local"
	"github.com/rokflow/rokflow/steps/transport/ssh"
)

// Resolver gives a step's target its host: this machine, or a host over
// SSH through one pool of connections shared by every step of a run.
type Resolver struct {
	pool *ssh.Pool
}

// ResolverOptions say what a Resolver takes from its surroundings.
type ResolverOptions struct {
	// Debug, when set, receives notes about the ssh_config files read
	// (lines rokflow does not apply), once each.
	Debug func(note string)
}

// NewResolver returns a Resolver with an empty SSH pool.
func NewResolver(o ResolverOptions) *Resolver {
	p := ssh.NewPool()
	p.Debug = o.Debug
	return &Resolver{pool: p}
}

// Host returns the host a step with target runs on, given its evaluated
// connection block (null when the step names none). It refuses, before
// anything runs, a target that the connection does not reach (see Route).
// Safe for concurrent use.
func (r *Resolver) Host(ctx context.Context, target string, conn cty.Value) (steps.Host, error) {
	s, err := Decode(conn)
	if err != nil {
		return nil, err
	}
	var t Transport
	if s != nil {
		t = s.Transport
	}
	route, err := Route(target, t)
	if err != nil {
		return nil, err
	}
	if route == Local {
		return local.New(), nil
	}
	start := time.Now()
	h, err := r.pool.Host(ctx, target, s.sshConfig())
	logConnect(ctx, target, s, time.Since(start), err)
	return h, err
}

// logConnect writes to the debug log that a step's SSH host was reached
// (a new connection, or one of the pool's, which takes microseconds) or
// not: the target, the user and port, and how long it took. Nothing of the
// connection's credentials is written.
func logConnect(ctx context.Context, target string, s *Settings, elapsed time.Duration, err error) {
	log := debuglog.From(ctx)
	if !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("target", target), slog.String("user", s.User), slog.Int("port", s.Port), slog.Duration("elapsed", elapsed)}
	if err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "ssh connect failed", append(attrs, slog.String("error", err.Error()))...)
		return
	}
	log.LogAttrs(ctx, slog.LevelDebug, "ssh host ready", attrs...)
}

// Close closes the SSH connections.
func (r *Resolver) Close() error { return r.pool.Close() }

func (s *Settings) sshConfig() ssh.Config {
	cfg := ssh.Config{
		User:                  s.User,
		Port:                  s.Port,
		Password:              s.Password,
		InsecureIgnoreHostKey: s.InsecureIgnoreHostKey,
		UseAgent:              s.Agent,
		Sudo:                  s.Sudo,
		Addresses:             s.Addresses,
		ProxyJump:             s.ProxyJump,
		ConfigFile:            s.SSHConfig,
	}
	if s.IdentityFile != "" {
		cfg.IdentityFiles = []string{s.IdentityFile}
	}
	if s.KnownHosts != "" {
		cfg.KnownHosts = []string{s.KnownHosts}
	}
	return cfg
}
