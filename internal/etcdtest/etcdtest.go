// Package etcdtest starts a real embedded etcd server for tests, on
// 127.0.0.1 and free ports, with its data in the test's temporary
// directory. Start gives a plain-text server; StartWith can serve clients
// over TLS, optionally requiring client certificates (NewPKI makes the
// certificates).
package etcdtest

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is a running single-member etcd.
type Server struct {
	Etcd *embed.Etcd
	// Endpoint is host:port of its client URL.
	Endpoint string
	// URL is its client URL: http://host:port, or https://host:port when it
	// serves TLS.
	URL string
}

// Options configure StartWith. The zero value is what Start does.
type Options struct {
	// TLS, when not nil, serves clients over https:// only.
	TLS *TLS
}

// TLS is the server side of client TLS: etcd's --cert-file, --key-file,
// --trusted-ca-file and --client-cert-auth. These are start-up settings;
// no API call turns TLS on in a running server.
type TLS struct {
	// CertFile and KeyFile are the server certificate and its unencrypted
	// key (PEM). The certificate needs the SAN 127.0.0.1 and, since the
	// server also dials itself with it (the gRPC gateway), both the
	// ServerAuth and ClientAuth extended key usages.
	CertFile, KeyFile string
	// TrustedCAFile is the CA (PEM) that client certificates must be
	// signed by. Beware: etcd requires a client certificate whenever this
	// is set, even with ClientCertAuth false (transport.TLSInfo.ServerConfig);
	// leave it empty for a server that takes clients without one.
	TrustedCAFile string
	// ClientCertAuth refuses clients without a certificate signed by
	// TrustedCAFile; once auth is enabled, a certificate's CN is then the
	// etcd user name.
	ClientCertAuth bool
}

// Start starts a single-member plain-text etcd that stops when the test
// ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith starts a single-member etcd configured by o that stops when the
// test ends.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	ports := freePorts(t, 2)
	cfg := embed.NewConfig()
	cfg.Name = "test"
	cfg.Dir = t.TempDir()
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.UnsafeNoFsync = true
	scheme := "http"
	if o.TLS != nil {
		scheme = "https"
		cfg.ClientTLSInfo = transport.TLSInfo{
			CertFile:       o.TLS.CertFile,
			KeyFile:        o.TLS.KeyFile,
			TrustedCAFile:  o.TLS.TrustedCAFile,
			ClientCertAuth: o.TLS.ClientCertAuth,
		}
	}
	cu, _ := url.Parse(fmt.Sprintf("%s://127.0.0.1:%d", scheme, ports[0]))
	pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", ports[1]))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.Name + "=" + pu.String()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		t.Fatalf("etcd: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("etcd did not become ready in 20 s")
	}
	return &Server{Etcd: e, Endpoint: cu.Host, URL: cu.String()}
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// Cluster is a running multi-member etcd.
type Cluster struct {
	Members []*Server
}

// StartCluster starts an n-member plain-text etcd cluster with fast
// elections; members that are still running stop when the test ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	ports := freePorts(t, 2*n)
	var cfgs []*embed.Config
	initial := ""
	c := &Cluster{}
	for i := range n {
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = t.TempDir()
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfg.UnsafeNoFsync = true
		cfg.TickMs, cfg.ElectionMs = 50, 500
		cu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", ports[2*i]))
		pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1]))
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
		if initial != "" {
			initial += ","
		}
		initial += cfg.Name + "=" + pu.String()
		cfgs = append(cfgs, cfg)
		c.Members = append(c.Members, &Server{Endpoint: cu.Host, URL: cu.String()})
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		cfg.InitialCluster = initial
		wg.Go(func() { c.Members[i].Etcd, errs[i] = embed.StartEtcd(cfg) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("start etcd member %d: %v", i, err)
		}
	}
	for _, m := range c.Members {
		e := m.Etcd
		t.Cleanup(func() { e.Close() })
		select {
		case <-e.Server.ReadyNotify():
		case err := <-e.Err():
			t.Fatalf("etcd: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatal("etcd did not become ready in 20 s")
		}
	}
	return c
}

// Endpoints lists the members' host:port, comma-separated, as a state URL
// takes them.
func (c *Cluster) Endpoints() string {
	var eps []string
	for _, m := range c.Members {
		eps = append(eps, m.Endpoint)
	}
	return strings.Join(eps, ",")
}

// Leader returns the member that leads now.
func (c *Cluster) Leader() *Server {
	for _, m := range c.Members {
		if m.Etcd.Server.Leader() == m.Etcd.Server.MemberID() {
			return m
		}
	}
	return nil
}
