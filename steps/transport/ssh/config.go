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

	// InsecureIgnoreHostKey accepts any host key without checking it. It
	// exposes every command, file and password to whoever can intercept
	// the connection; use it only for throw-away test machines.
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
	return fmt.Sprintf("ssh.Config{user=%q port=%d identity=%q known_hosts=%q insecure=%t agent=%t%s sudo=%t}",
		c.User, c.Port, c.IdentityFiles, c.KnownHosts, c.InsecureIgnoreHostKey, c.UseAgent, pw, c.Sudo)
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
	defaults bool // identity holds the default keys: skip those that fail quietly
	agent    bool
	agentReq bool // the agent was asked for explicitly (UseAgent)
	password string
	known    []string
	insecure bool

	keepAlive      time.Duration
	keepAliveMax   int
	dialTimeout    time.Duration
	connectTimeout time.Duration
	maxSessions    int
}

// poolKey says which connections may be shared: one per address and user,
// and a connection made without checking the host key is never handed to a
// Config that checks it (nor one checked against other known_hosts files).
type poolKey struct {
	addr, user string
	insecure   bool
	known      string
}

func (s *settings) key() poolKey {
	k := poolKey{addr: s.addr, user: s.user, insecure: s.insecure}
	if !s.insecure {
		k.known = strings.Join(s.known, "\x00")
	}
	return k
}

func resolve(target string, cfg Config) (*settings, error) {
	if target == "" {
		return nil, errors.New("ssh: empty target name")
	}
	s := &settings{
		target:   target,
		user:     cfg.User,
		password: cfg.Password,
		insecure: cfg.InsecureIgnoreHostKey,

		keepAlive:      orDefault(cfg.KeepAlive, defaultKeepAlive),
		keepAliveMax:   orDefault(cfg.KeepAliveMax, defaultKeepAliveMax),
		dialTimeout:    orDefault(cfg.DialTimeout, defaultDialTimeout),
		connectTimeout: orDefault(cfg.ConnectTimeout, defaultConnectTimeout),
		maxSessions:    orDefault(cfg.MaxSessions, defaultMaxSessions),
	}
	if s.maxSessions < 0 {
		return nil, fmt.Errorf("ssh: %s: MaxSessions %d is negative", target, cfg.MaxSessions)
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("ssh: %s: port %d out of range", target, cfg.Port)
	}
	if err := s.setAddress(target, cfg); err != nil {
		return nil, err
	}
	if s.user == "" {
		s.user = currentUser()
		if s.user == "" {
			return nil, fmt.Errorf("ssh: %s: no User set and the local user name is unknown", target)
		}
	}
	s.sudo = cfg.Sudo

	home, _ := os.UserHomeDir()
	for _, f := range cfg.IdentityFiles {
		s.identity = append(s.identity, expandHome(f, home))
	}
	if len(s.identity) == 0 && home != "" {
		s.defaults = true
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			s.identity = append(s.identity, filepath.Join(home, ".ssh", n))
		}
	}
	s.agentReq = cfg.UseAgent
	s.agent = cfg.UseAgent || (len(cfg.IdentityFiles) == 0 && os.Getenv("SSH_AUTH_SOCK") != "")

	for _, f := range cfg.KnownHosts {
		s.known = append(s.known, expandHome(f, home))
	}
	if len(s.known) == 0 {
		if home != "" {
			s.known = append(s.known, filepath.Join(home, ".ssh", "known_hosts"))
		}
		s.known = append(s.known, "/etc/ssh/ssh_known_hosts")
	}
	return s, nil
}

func (s *settings) setAddress(target string, cfg Config) error {
	a := target
	if m, ok := cfg.Addresses[target]; ok {
		a = m
	}
	if strings.ContainsAny(a, "@/ \t\n") || a == "" {
		return fmt.Errorf("ssh: %s: address %q is not host, host:port or [ipv6]:port (put the login name in User)", target, a)
	}
	port := strconv.Itoa(orDefault(cfg.Port, defaultPort))
	host := a
	if h, p, err := net.SplitHostPort(a); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]") {
		host = a[1 : len(a)-1]
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return fmt.Errorf("ssh: %s: address %q has an invalid port", target, a)
	}
	if host == "" {
		return fmt.Errorf("ssh: %s: address %q has no host", target, a)
	}
	s.host, s.port = host, port
	s.addr = net.JoinHostPort(host, port)
	return nil
}

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
