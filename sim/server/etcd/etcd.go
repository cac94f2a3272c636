package etcd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/rokflow/rokflow/internal/pki"
)

// Files of the etcd PKI and data, relative to the simulator's directory.
const (
	// Dir holds the PKI, the data directory and etcd's log.
	Dir = "etcd"
	// CAFile is the CA that signs the server and client certificates.
	CAFile = "etcd/ca.crt"
	// ClientCert and ClientKey are the cluster's client certificate
	// (CN rok): what the playbook proves etcd admits.
	ClientCert = "etcd/client.crt"
	ClientKey  = "etcd/client.key"
	// RootCert and RootKey are a CN=root client certificate, the one the
	// simulator itself writes with.
	RootCert = "etcd/root.crt"
	RootKey  = "etcd/root.key"
)

// etcdUser is the CN of the cluster's client certificate and the etcd
// user enable-etcd-auth creates for it; rokPrefix is what it may use.
const (
	etcdUser  = "rok"
	rokPrefix = "/rok/"
)

// Server is a real embedded etcd with TLS and client-certificate
// authentication, plus a client acting as root.
type Server struct {
	e        *embed.Etcd
	cli      *clientv3.Client
	endpoint string
	snap     chan []byte
	stop     chan struct{}
	wg       sync.WaitGroup
}

// Start starts etcd for the simulator in simDir, making its PKI under
// simDir/etcd the first time. A port that is 0 is set to a free one, so
// that the caller can record it and a restarted simulator is found where
// it was. Start returns once etcd is ready.
func Start(simDir string, clientPort, peerPort *int) (*Server, error) {
	dir := filepath.Join(simDir, Dir)
	if err := ensurePKI(dir); err != nil {
		return nil, err
	}
	for _, port := range []*int{clientPort, peerPort} {
		if *port == 0 {
			var err error
			if *port, err = freePort(); err != nil {
				return nil, err
			}
		}
	}
	cu := url.URL{Scheme: "https", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(*clientPort))}
	pu := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(*peerPort))}
	cfg := embed.NewConfig()
	cfg.Name = "sim"
	cfg.Dir = filepath.Join(dir, "data")
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{filepath.Join(dir, "etcd.log")}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = "sim=" + pu.String()
	// One member has no peer to wait for: a short election timeout makes
	// it its own leader in a fraction of the default second.
	cfg.TickMs, cfg.ElectionMs = 10, 100
	cfg.ClientTLSInfo = transport.TLSInfo{
		CertFile:       filepath.Join(dir, "server.crt"),
		KeyFile:        filepath.Join(dir, "server.key"),
		TrustedCAFile:  filepath.Join(dir, "ca.crt"),
		ClientCertAuth: true,
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting etcd on %s: %w", cu.Host, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcd: %w", err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, errors.New("etcd did not become ready within 60s")
	}
	tc, err := transport.TLSInfo{
		CertFile:      filepath.Join(dir, "root.crt"),
		KeyFile:       filepath.Join(dir, "root.key"),
		TrustedCAFile: filepath.Join(dir, "ca.crt"),
	}.ClientConfig()
	if err != nil {
		e.Close()
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{cu.String()},
		TLS:         tc,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		e.Close()
		return nil, err
	}
	es := &Server{e: e, cli: cli, endpoint: cu.String(), snap: make(chan []byte, 1), stop: make(chan struct{})}
	es.wg.Add(1)
	go es.publishLoop()
	return es, nil
}

func ensurePKI(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "client.key")); err == nil {
		return nil
	}
	ca, err := pki.NewCA("rokflow simulator etcd CA")
	if err != nil {
		return err
	}
	if err := ca.Save(dir); err != nil {
		return err
	}
	srv, err := ca.Server("etcd", []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, []string{"localhost"})
	if err != nil {
		return err
	}
	if err := srv.Write(dir, "server"); err != nil {
		return err
	}
	for name, cn := range map[string]string{"root": "root", "client": etcdUser} {
		p, err := ca.Client(cn)
		if err != nil {
			return err
		}
		if err := p.Write(dir, name); err != nil {
			return err
		}
	}
	return nil
}

// Endpoint is the client URL, https://127.0.0.1:PORT.
func (es *Server) Endpoint() string { return es.endpoint }

// Publish hands the latest cluster snapshot to the writer goroutine, which
// puts it at /rok/cluster; only the newest one is kept. A nil Server
// ignores it.
func (es *Server) Publish(data []byte) {
	if es == nil {
		return
	}
	select {
	case <-es.snap:
	default:
	}
	select {
	case es.snap <- data:
	default:
	}
}

// publishLoop mirrors the cluster state to etcd under /rok/, where the
// real cluster keeps it.
func (es *Server) publishLoop() {
	defer es.wg.Done()
	for {
		select {
		case <-es.stop:
			return
		case data := <-es.snap:
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			_, _ = es.cli.Put(ctx, rokPrefix+"cluster", string(data))
			cancel()
		}
	}
}

// EnableAuth creates the root user and role and a certificate-only user
// for the cluster's certificate, then enables authentication, following
// the procedure of etcd's RBAC guide; each step tolerates a re-run.
func (es *Server) EnableAuth(ctx context.Context, out io.Writer) error {
	step := func(what string, f func() error, okIf ...error) error {
		fmt.Fprintf(out, " - %s... ", what)
		err := f()
		for _, ok := range okIf {
			if errors.Is(err, ok) {
				err = nil
			}
		}
		if err != nil {
			fmt.Fprintln(out, "failed")
			return fmt.Errorf("%s: %w", what, err)
		}
		fmt.Fprintln(out, "done")
		return nil
	}
	noPass := &clientv3.UserAddOptions{NoPassword: true}
	steps := []struct {
		what string
		f    func() error
		ok   []error
	}{
		{"creating user root (certificate only)", func() error { _, err := es.cli.UserAddWithOptions(ctx, "root", "", noPass); return err }, []error{rpctypes.ErrUserAlreadyExist}},
		{"granting role root to user root", func() error { _, err := es.cli.UserGrantRole(ctx, "root", "root"); return err }, nil},
		{"creating role " + etcdUser, func() error { _, err := es.cli.RoleAdd(ctx, etcdUser); return err }, []error{rpctypes.ErrRoleAlreadyExist}},
		{"granting read/write on " + rokPrefix + " to role " + etcdUser, func() error {
			_, err := es.cli.RoleGrantPermission(ctx, etcdUser, rokPrefix, clientv3.GetPrefixRangeEnd(rokPrefix), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		}, nil},
		{"creating user " + etcdUser + " (certificate only)", func() error { _, err := es.cli.UserAddWithOptions(ctx, etcdUser, "", noPass); return err }, []error{rpctypes.ErrUserAlreadyExist}},
		{"granting role " + etcdUser + " to user " + etcdUser, func() error { _, err := es.cli.UserGrantRole(ctx, etcdUser, etcdUser); return err }, nil},
		{"enabling authentication", func() error { _, err := es.cli.AuthEnable(ctx); return err }, nil},
	}
	for _, s := range steps {
		if err := step(s.what, s.f, s.ok...); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the writer, the root client and etcd.
func (es *Server) Close() {
	close(es.stop)
	es.wg.Wait()
	es.cli.Close()
	es.e.Close()
}

// freePort finds a free loopback port: etcd's configuration needs one
// before it listens.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
