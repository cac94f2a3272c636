package state

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// etcdCluster is etcd embedded in the test process, on loopback.
type etcdCluster struct {
	members   []*embed.Etcd
	endpoints []string // host:port, one per member
}

type etcdSetup struct {
	members int
	dir     string
	tls     *transport.TLSInfo // client TLS, nil for plain
	fsync   bool               // keep fsync (benchmarks); tests skip it
}

// freePorts returns ports that were free a moment ago: the embedded
// server needs them before it listens (a small race, fine in tests).
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

func startEtcd(t testing.TB, s etcdSetup) *etcdCluster {
	t.Helper()
	ports := freePorts(t, 2*s.members)
	scheme := "http"
	if s.tls != nil {
		scheme = "https"
	}
	c := &etcdCluster{}
	var cfgs []*embed.Config
	initial := ""
	for i := range s.members {
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = fmt.Sprintf("%s/%s", s.dir, cfg.Name)
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfg.UnsafeNoFsync = !s.fsync
		cfg.BcryptCost = 4 // bcrypt.MinCost: authentication is not what these tests measure
		cu, _ := url.Parse(fmt.Sprintf("%s://127.0.0.1:%d", scheme, ports[2*i]))
		pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1]))
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
		if s.tls != nil {
			cfg.ClientTLSInfo = *s.tls
		}
		if s.members > 1 {
			// Faster elections keep the cluster tests short.
			cfg.TickMs, cfg.ElectionMs = 50, 500
		}
		if initial != "" {
			initial += ","
		}
		initial += cfg.Name + "=" + pu.String()
		cfgs = append(cfgs, cfg)
		c.endpoints = append(c.endpoints, cu.Host)
	}
	// Members start together: each waits for a quorum to be ready.
	members := make([]*embed.Etcd, len(cfgs))
	errs := make([]error, len(cfgs))
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		cfg.InitialCluster = initial
		wg.Go(func() { members[i], errs[i] = embed.StartEtcd(cfg) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			for _, e := range members {
				if e != nil {
					e.Close()
				}
			}
			t.Fatalf("start etcd member %d: %v", i, err)
		}
	}
	c.members = members
	timeout := time.After(20 * time.Second)
	for _, e := range c.members {
		select {
		case <-e.Server.ReadyNotify():
		case err := <-e.Err():
			c.close()
			t.Fatalf("etcd: %v", err)
		case <-timeout:
			c.close()
			t.Fatal("etcd did not become ready in 20 s")
		}
	}
	return c
}

func (c *etcdCluster) close() {
	// Stop every member's raft first: members closed one by one would hand
	// leadership to each other in turn.
	var wg sync.WaitGroup
	for _, e := range c.members {
		if e != nil {
			wg.Go(e.Server.HardStop)
		}
	}
	wg.Wait()
	for i := range c.members {
		wg.Go(func() { c.stop(i) })
	}
	wg.Wait()
}

// stop stops member i, once.
func (c *etcdCluster) stop(i int) {
	if e := c.members[i]; e != nil {
		c.members[i] = nil
		e.Close()
	}
}

// client returns a plain client of the cluster, closed with the test.
func (c *etcdCluster) client(t testing.TB) *clientv3.Client {
	t.Helper()
	var eps []string
	for _, e := range c.endpoints {
		eps = append(eps, "http://"+e)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// lazyEtcd is a single-member etcd started for the first test that needs
// it and shared by the tests that can share it, each under a prefix of its
// own; TestMain stops it.
type lazyEtcd struct {
	fsync bool
	once  sync.Once
	c     *etcdCluster
	dir   string
	err   string
}

var (
	shared    = &lazyEtcd{}
	benchEtcd = &lazyEtcd{fsync: true} // benchmarks measure real writes
)

// sharedEtcd returns the endpoint of the shared test server.
func sharedEtcd(t testing.TB) string { return shared.endpoint(t) }

func (l *lazyEtcd) endpoint(t testing.TB) string {
	t.Helper()
	l.once.Do(func() {
		dir, err := os.MkdirTemp("", "rokflow-state-etcd-")
		if err != nil {
			l.err = err.Error()
			return
		}
		l.dir = dir
		ft := &fatalCatcher{TB: t}
		func() {
			defer func() { _ = recover() }()
			l.c = startEtcd(ft, etcdSetup{members: 1, dir: dir, fsync: l.fsync})
		}()
		l.err = ft.msg
	})
	if l.c == nil {
		t.Fatalf("shared etcd: %s", l.err)
	}
	return l.c.endpoints[0]
}

func (l *lazyEtcd) stop() {
	if l.c != nil {
		l.c.close()
	}
	if l.dir != "" {
		os.RemoveAll(l.dir)
	}
}

func stopSharedEtcd() {
	shared.stop()
	benchEtcd.stop()
}

// fatalCatcher turns Fatal into a panic with the message kept, so that a
// sync.Once helper can fail every test that needs it, not only the first.
type fatalCatcher struct {
	testing.TB
	msg string
}

func (f *fatalCatcher) Fatal(args ...any) { f.msg = fmt.Sprint(args...); panic(f) }
func (f *fatalCatcher) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}

var prefixSeq atomic.Int64

// uniquePrefix returns a key prefix no other test uses.
func uniquePrefix(t testing.TB) string {
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	return "rokflow-test/" + name + "-" + strconv.FormatInt(prefixSeq.Add(1), 10)
}

// leader returns the index of the cluster's leader.
func (c *etcdCluster) leader(t testing.TB) int {
	t.Helper()
	for i, e := range c.members {
		if e != nil && e.Server.Leader() == e.Server.MemberID() {
			return i
		}
	}
	t.Fatal("no member is the leader")
	return -1
}
