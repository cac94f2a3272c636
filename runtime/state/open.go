package state

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// DefaultDir is the file backend's directory, beside the playbook, when no
// state URL is given.
const DefaultDir = ".rokflow"

// Options configure a backend beyond its URL: the etcd connection's
// security and timeouts. The file and memory backends ignore them.
type Options struct {
	// CAFile is a PEM file of the CAs that sign the etcd servers'
	// certificates. Setting it (or CertFile, or TLS) makes the connection
	// use TLS.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// servers started with --client-cert-auth.
	CertFile string
	KeyFile  string
	// TLS uses TLS even without CAFile or CertFile (the system's CAs).
	TLS bool
	// User and Password authenticate to etcd; the client only sends them
	// when both are set. The password never appears in errors or String.
	User     string
	Password string
	// DialTimeout bounds connecting to etcd (default 5 s).
	DialTimeout time.Duration
	// RequestTimeout bounds one etcd request before it is retried
	// (default 5 s). It should exceed the cluster's leader-election time.
	RequestTimeout time.Duration
	// LockTTL is the etcd lease's time to live, 10–15 s (default 10 s):
	// how long a crashed holder keeps the lock, and about how long a cut-off
	// holder takes to notice it lost it (its writes are fenced regardless).
	LockTTL time.Duration

	// testTTL, when set, replaces LockTTL without its bounds, so that tests
	// need not wait 10 s for a lease to expire.
	testTTL time.Duration
}

// The defaults and bounds of Options.
const (
	defaultDialTimeout    = 5 * time.Second
	defaultRequestTimeout = 5 * time.Second
	defaultLockTTL        = 10 * time.Second
	minLockTTL            = 10 * time.Second
	maxLockTTL            = 15 * time.Second
)

// Open parses a state URL and opens its backend:
//
//   - "file://DIR" or a bare path: the file backend in DIR (created when
//     first written);
//   - "etcd://host:port[,host:port…]/prefix": the etcd backend, keys under
//     /prefix (default /rokflow), secured as opts say;
//   - "mem://" for a journal of its own in memory, "mem://NAME" for one
//     shared by every Open of NAME in this process (tests).
//
// Credentials never go in the URL: give them in opts.
func Open(ctx context.Context, url string, opts Options) (Backend, error) {
	if url == "" {
		return nil, fmt.Errorf("empty state URL (want a directory, file://DIR, etcd://HOST:PORT/PREFIX or mem://)")
	}
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		scheme, rest = "file", url
	}
	switch scheme {
	case "mem":
		return openMemory(rest), nil
	case "file":
		if rest == "" {
			return nil, fmt.Errorf("state URL %q names no directory", url)
		}
		return openFile(rest)
	case "etcd":
		cfg, err := parseEtcdURL(rest, opts)
		if err != nil {
			return nil, err
		}
		return openEtcd(ctx, cfg)
	}
	return nil, fmt.Errorf("state URL %q: unknown scheme %q (want file://DIR, etcd://HOST:PORT/PREFIX or mem://)", redactURL(url), scheme)
}

// etcdConfig is a parsed etcd URL with its options.
type etcdConfig struct {
	endpoints []string // host:port
	prefix    string   // "/x/y", no trailing slash
	opts      Options
	ttl       time.Duration
}

// url renders the backend's URL, which never holds credentials.
func (c etcdConfig) url() string {
	return "etcd://" + strings.Join(c.endpoints, ",") + c.prefix
}

func parseEtcdURL(rest string, opts Options) (etcdConfig, error) {
	hosts, path, _ := strings.Cut(rest, "/")
	cfg := etcdConfig{opts: opts}
	if strings.Contains(hosts, "@") {
		return cfg, fmt.Errorf("etcd state URL: give the user and password in the options (--state-user, --state-password), not in the URL")
	}
	if strings.ContainsAny(path, "?#") {
		return cfg, fmt.Errorf("etcd state URL etcd://%s: queries are not supported; give options separately", hosts)
	}
	for h := range strings.SplitSeq(hosts, ",") {
		if h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, "2379")
		}
		cfg.endpoints = append(cfg.endpoints, h)
	}
	if len(cfg.endpoints) == 0 {
		return cfg, fmt.Errorf("etcd state URL names no endpoint (want etcd://host:port[,host:port…]/prefix)")
	}
	cfg.prefix = "/" + strings.Trim(path, "/")
	if cfg.prefix == "/" {
		cfg.prefix = "/rokflow"
	}
	if opts.DialTimeout <= 0 {
		cfg.opts.DialTimeout = defaultDialTimeout
	}
	if opts.RequestTimeout <= 0 {
		cfg.opts.RequestTimeout = defaultRequestTimeout
	}
	cfg.ttl = opts.LockTTL
	if cfg.ttl == 0 {
		cfg.ttl = defaultLockTTL
	}
	if opts.testTTL > 0 {
		cfg.ttl = opts.testTTL
	} else if cfg.ttl < minLockTTL || cfg.ttl > maxLockTTL || cfg.ttl%time.Second != 0 {
		return cfg, fmt.Errorf("etcd lock TTL %v: want whole seconds from %v to %v", cfg.ttl, minLockTTL, maxLockTTL)
	}
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		return cfg, fmt.Errorf("etcd TLS: give both a client certificate and its key, or neither")
	}
	return cfg, nil
}

// redactURL drops the user information of a URL that a user wrote by
// mistake, so that a password in it is never echoed.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	host, path, _ := strings.Cut(rest, "/")
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = "…@" + host[i+1:]
	}
	if path != "" {
		return scheme + "://" + host + "/" + path
	}
	return scheme + "://" + host
}
