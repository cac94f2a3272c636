package ssh

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config says how to reach and log in to hosts. The zero value connects as
// the local user to port 22, checks host keys against ~/.ssh/known_hosts and
// authenticates with the default keys of ssh(1) and the SSH agent.
type Config struct {
	// User is the login name on the remote host. Empty means the name of
	// the local user running rokflow, as ssh(1) does.
	User string

	// Port is the TCP port for addresses that do not name one. Zero means
	// 22.
	Port int

	// IdentityFiles are private key files (OpenSSH or PEM format, without
	// a passphrase) offered for public-key authentication, in order. A
	// certificate FILE-cert.pub beside a key is offered with it. Empty
	// means the default keys of ssh(1) that exist and are not encrypted:
	// ~/.ssh/id_ed25519, ~/.ssh/id_ecdsa and ~/.ssh/id_rsa. Keys with a
	// passphrase must be loaded into the agent (ssh-add).
	IdentityFiles []string

	// KnownHosts are the known_hosts files host keys are checked against.
	// Empty means ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts, as
	// ssh(1). A file that does not exist counts as empty. Entries for a
	// port other than 22 are written "[host]:port", as ssh-keyscan -p
	// writes them.
	KnownHosts []string

	// InsecureIgnoreHostKey accepts any host key of a target without
	// checking it. It exposes every command, file and password to whoever
	// can intercept the connection; use it only for throw-away test
	// machines. The keys of jump hosts are checked all the same.
	InsecureIgnoreHostKey bool

	// UseAgent offers the keys of the SSH agent at $SSH_AUTH_SOCK (after
	// the identity files). The agent is also used, without UseAgent, when
	// IdentityFiles is empty and SSH_AUTH_SOCK is set.
	UseAgent bool

	// Password, when set, is offered for "password" and
	// "keyboard-interactive" authentication after the keys. It is
	// sensitive: it never appears in errors nor in the Config's String.
	Password string

	// Addresses maps target names to where they are reached: "host",
	// "host:port", "[ipv6]:port" or a bare IPv6 address. A target that is
	// not listed is itself the host name. Host keys are looked up in
	// known_hosts under this host name (and port), as ssh(1) does with the
	// name it was given.
	Addresses map[string]string

	// Sudo runs every command and file operation as root through
	// `sudo -n --`, as if every steps.Command had Sudo set. sudo is never
	// run when User is root: the login already is.
	Sudo bool

	// KeepAlive is the interval between keepalive@openssh.com requests on
	// a connection. Zero means 15s; a negative value sends none.
	KeepAlive time.Duration

	// KeepAliveMax is how many keepalive requests in a row may go
	// unanswered before the connection is dropped (it is dialled again on
	// next use), as OpenSSH's ServerAliveCountMax. Zero means 3.
	KeepAliveMax int

	// DialTimeout bounds establishing the TCP connection. Zero means 10s.
	DialTimeout time.Duration

	// ConnectTimeout bounds connecting as a whole: TCP, the SSH handshake,
	// the host key check and authentication. Zero means 30s.
	ConnectTimeout time.Duration

	// ConfigFile is the ssh_config(5) file read for what the fields above
	// leave unset ("~/" is the home directory). Empty means the file
	// named by $ROKFLOW_SSH_CONFIG when it is set, else ~/.ssh/config and
	// then /etc/ssh/ssh_config, as ssh(1); "none" reads none, as ssh -F
	// none. Host patterns are matched against the target's name, and the
	// first value obtained for each keyword wins. Applied: Host, Match all
	// (other Match blocks are skipped), Include, HostName, User, Port,
	// IdentityFile, UserKnownHostsFile and ProxyJump; a ProxyCommand is
	// refused (rokflow does not run local commands to connect). Fields
	// set here win over the file: User, Port, IdentityFiles, KnownHosts,
	// ProxyJump, and an address in Addresses over HostName (and over
	// Port when it names a port).
	ConfigFile string

	// ProxyJump names the jump hosts targets are reached through, as ssh
	// -J: "[user@]host[:port]" (or "ssh://[user@]host[:port]") hops
	// separated by commas, dialled in order, each through the one
	// before. "none" connects directly whatever ssh_config says; empty
	// takes ssh_config's ProxyJump for the target. Each hop is a host
	// name looked up in ssh_config (its HostName, User, Port,
	// IdentityFile; the first hop's own ProxyJump too), its host key is
	// checked against KnownHosts, and it is offered ssh_config's identity
	// files for it, else IdentityFiles, else the default keys, and the
	// agent; never the Password.
	ProxyJump string

	// MaxSessions bounds the commands running at once on one connection;
	// more wait for a free session. Zero means 10, OpenSSH's default
	// MaxSessions; raise it only with the server's.
	MaxSessions int
}

// Defaults.
const (
	defaultPort           = 22
	defaultKeepAlive      = 15 * time.Second
	defaultKeepAliveMax   = 3
	defaultDialTimeout    = 10 * time.Second
	defaultConnectTimeout = 30 * time.Second
	defaultMaxSessions    = 10
)

// String describes the configuration without its password.
func (c Config) String() string {
	pw := ""
	if c.Password != "" {
		pw = " password=(set)"
	}
	extra := ""
	if c.ConfigFile != "" {
		extra += fmt.Sprintf(" ssh_config=%q", c.ConfigFile)
	}
	if c.ProxyJump != "" {
		extra += fmt.Sprintf(" proxy_jump=%q", c.ProxyJump)
	}
	return fmt.Sprintf("ssh.Config{user=%q port=%d identity=%q known_hosts=%q insecure=%t agent=%t%s sudo=%t%s}",
		c.User, c.Port, c.IdentityFiles, c.KnownHosts, c.InsecureIgnoreHostKey, c.UseAgent, pw, c.Sudo, extra)
}

// GoString is String, so that %#v does not print the password either.
func (c Config) GoString() string { return c.String() }

// settings is a Config resolved for one target: defaults applied, the
// address split, files expanded.
type settings struct {
	target   string
	host     string // host name or IP, without brackets
	port     string
	addr     string // host:port, as dialled and as looked up in known_hosts
	user     string
	sudo     bool // Config.Sudo
	identity []string
	defaults bool // identity holds the default keys: offer the agent's first
	quiet    bool // skip identity files that fail (default keys, or ssh_config's)
	agent    bool
	agentReq bool // the agent was asked for explicitly (UseAgent)
	password string
	known    []string
	insecure bool
	jumps    []*settings // the jump hosts dialled through, in order
	through  string      // user@host:port of the jump host just before, for messages

	keepAlive      time.Duration
	keepAliveMax   int
	dialTimeout    time.Duration
	connectTimeout time.Duration
	maxSessions    int
}

// poolKey says which connections may be shared: one per address, user and
// chain of jump hosts, and a connection made without checking the host key
// is never handed to a Config that checks it (nor one checked against other
// known_hosts files).
type poolKey struct {
	addr, user string
	insecure   bool
	known      string
	via        string // each jump host's user, address and known_hosts files
}

func (s *settings) key() poolKey {
	k := poolKey{addr: s.addr, user: s.user, insecure: s.insecure}
	if !s.insecure {
		k.known = strings.Join(s.known, "\x00")
	}
	var via strings.Builder
	for _, j := range s.jumps {
		fmt.Fprintf(&via, "%s@%s\x00%s\x01", j.user, j.addr, strings.Join(j.known, "\x00"))
	}
	k.via = via.String()
	return k
}

// resolve works out the settings for target: the Config's explicit values
// first, then ssh_config's for the target's host name (sc may be nil), then
// the defaults.
func resolve(target string, cfg Config, sc *sshConfig) (*settings, error) {
	if target == "" {
		return nil, errors.New("ssh: empty target name")
	}
	s := newSettings(target, cfg)
	if s.maxSessions < 0 {
		return nil, fmt.Errorf("ssh: %s: MaxSessions %d is negative", target, cfg.MaxSessions)
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("ssh: %s: port %d out of range", target, cfg.Port)
	}
	name := hostOnly(target)
	hc := sc.lookup(name)
	e, err := targetEndpoint(target, name, cfg, hc)
	if err != nil {
		return nil, err
	}
	home, _ := os.UserHomeDir()
	s.user = cfg.User
	if err := s.fill(e, hc, cfg.IdentityFiles, nil, cfg, home); err != nil {
		return nil, err
	}
	s.agentReq = cfg.UseAgent
	s.agent = cfg.UseAgent || (len(cfg.IdentityFiles) == 0 && os.Getenv("SSH_AUTH_SOCK") != "")

	jump, where := cfg.ProxyJump, "ProxyJump"
	if jump == "" {
		switch hc.proxyKey {
		case "proxycommand":
			if !isNone(hc.proxy) {
				return nil, proxyCommandError(target, hc)
			}
		case "proxyjump":
			jump, where = hc.proxy, "ssh_config "+hc.pos["proxyjump"]+": ProxyJump"
		}
	}
	if jump != "" && !isNone(jump) {
		hops, err := parseJumps(jump)
		if err != nil {
			return nil, fmt.Errorf("ssh: %s: %s: %v", target, where, err)
		}
		if s.jumps, err = jumpChain(hops, cfg, sc, home, target, 0); err != nil {
			return nil, err
		}
		for i, j := range s.jumps[1:] {
			j.through = s.jumps[i].user + "@" + s.jumps[i].addr
		}
		last := s.jumps[len(s.jumps)-1]
		s.through = last.user + "@" + last.addr
	}
	return s, nil
}

// newSettings are the settings every connection of cfg shares.
func newSettings(target string, cfg Config) *settings {
	return &settings{
		target:   target,
		password: cfg.Password,
		insecure: cfg.InsecureIgnoreHostKey,
		sudo:     cfg.Sudo,

		keepAlive:      orDefault(cfg.KeepAlive, defaultKeepAlive),
		keepAliveMax:   orDefault(cfg.KeepAliveMax, defaultKeepAliveMax),
		dialTimeout:    orDefault(cfg.DialTimeout, defaultDialTimeout),
		connectTimeout: orDefault(cfg.ConnectTimeout, defaultConnectTimeout),
		maxSessions:    orDefault(cfg.MaxSessions, defaultMaxSessions),
	}
}

// endpoint is where one connection goes: the name ssh_config knows it by
// (%n) and the host and port dialled.
type endpoint struct {
	name, host, port string
}

// targetEndpoint is where target is dialled: its address in Addresses, or
// else itself with ssh_config's HostName; the port its address names, or
// else Config.Port, ssh_config's Port, 22.
func targetEndpoint(target, name string, cfg Config, hc *hostConfig) (endpoint, error) {
	a := target
	m, mapped := cfg.Addresses[target]
	if mapped {
		a = m
	}
	if strings.ContainsAny(a, "@/ \t\n") || a == "" {
		return endpoint{}, fmt.Errorf("ssh: %s: address %q is not host, host:port or [ipv6]:port (put the login name in User)", target, a)
	}
	host, port := a, ""
	if h, p, err := net.SplitHostPort(a); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]") {
		host = a[1 : len(a)-1]
	}
	if port == "" {
		port = strconv.Itoa(orDefault(cfg.Port, orDefault(hc.port, defaultPort)))
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return endpoint{}, fmt.Errorf("ssh: %s: address %q has an invalid port", target, a)
	}
	if !mapped && hc.hostName != "" {
		var err error
		if host, err = expandHostName(hc.hostName, host, "ssh_config "+hc.pos["hostname"]); err != nil {
			return endpoint{}, fmt.Errorf("ssh: %s: %v", target, err)
		}
	}
	if host == "" {
		return endpoint{}, fmt.Errorf("ssh: %s: address %q has no host", target, a)
	}
	return endpoint{name: name, host: host, port: port}, nil
}

// fill sets the address, the user (unless already set), the identity
// files and the known_hosts files of s. Identity files are explicit ones
// when given, else ssh_config's, else fallback ones, else ssh(1)'s default
// keys; known_hosts files are the Config's, else ssh_config's
// UserKnownHostsFile with the system file, else ssh(1)'s defaults.
func (s *settings) fill(e endpoint, hc *hostConfig, explicit, fallback []string, cfg Config, home string) error {
	if strings.ContainsAny(e.host, "@/ \t\n") {
		return fmt.Errorf("ssh: %s: host name %q is not a host name or address", s.target, e.host)
	}
	s.host, s.port = e.host, e.port
	s.addr = net.JoinHostPort(e.host, e.port)
	if s.user == "" {
		s.user = hc.user
	}
	if s.user == "" {
		s.user = currentUser()
		if s.user == "" {
			return fmt.Errorf("ssh: %s: no User set and the local user name is unknown", s.target)
		}
	}
	tk := tokens{home: home, host: e.host, original: e.name, port: e.port, remoteUser: s.user, localUser: currentUser()}
	switch {
	case len(explicit) > 0:
		for _, f := range explicit {
			s.identity = append(s.identity, expandHome(f, home))
		}
	case len(hc.identity) > 0:
		s.quiet = true // as ssh(1), a key ssh_config names but that is missing is skipped
		for _, f := range hc.identity {
			p, err := tk.expandPath(f, "ssh_config "+hc.pos["identityfile"]+": IdentityFile")
			if err != nil {
				return fmt.Errorf("ssh: %s: %v", s.target, err)
			}
			s.identity = append(s.identity, p)
		}
	case len(fallback) > 0:
		for _, f := range fallback {
			s.identity = append(s.identity, expandHome(f, home))
		}
	case home != "":
		s.defaults, s.quiet = true, true
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			s.identity = append(s.identity, filepath.Join(home, ".ssh", n))
		}
	}

	switch {
	case len(cfg.KnownHosts) > 0:
		for _, f := range cfg.KnownHosts {
			s.known = append(s.known, expandHome(f, home))
		}
	case len(hc.knownHosts) > 0:
		for _, f := range hc.knownHosts {
			if isNone(f) {
				continue
			}
			p, err := tk.expandPath(f, "ssh_config "+hc.pos["userknownhostsfile"]+": UserKnownHostsFile")
			if err != nil {
				return fmt.Errorf("ssh: %s: %v", s.target, err)
			}
			s.known = append(s.known, p)
		}
		s.known = append(s.known, globalKnownHosts)
	default:
		if home != "" {
			s.known = append(s.known, filepath.Join(home, ".ssh", "known_hosts"))
		}
		s.known = append(s.known, globalKnownHosts)
	}
	return nil
}

// globalKnownHosts is the system's known_hosts file, always read after the
// user's unless the Config names its own.
const globalKnownHosts = "/etc/ssh/ssh_known_hosts"

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

func expandHome(p, home string) string {
	if home != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
		return filepath.Join(home, p[1:])
	}
	return p
}

// existing returns the files that exist: a missing known_hosts file counts
// as empty (an unreadable one is still an error, from knownhosts.New).
func existing(files []string) []string {
	return slices.DeleteFunc(slices.Clone(files), func(f string) bool {
		_, err := os.Stat(f)
		return errors.Is(err, fs.ErrNotExist)
	})
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}
