package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/rokflow/rokflow/internal/pki"
	"github.com/rokflow/rokflow/sim/server/etcd"
)

// etcdAs is an etcd client with a certificate from dir/etcd ("client",
// "root", or a name for which a certificate is made with that CN).
func etcdAs(t *testing.T, s *Server, name string) *clientv3.Client {
	t.Helper()
	dir := filepath.Join(s.Dir(), etcd.Dir)
	if _, err := os.Stat(filepath.Join(dir, name+".crt")); err != nil {
		ca, err := pki.LoadCA(dir)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ca.Client(name)
		if err != nil {
			t.Fatal(err)
		}
		dir = t.TempDir()
		if err := p.Write(dir, name); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(s.Dir(), etcd.CAFile))
		_ = os.WriteFile(filepath.Join(dir, "ca.crt"), data, 0o644)
	}
	tc, err := transport.TLSInfo{CertFile: filepath.Join(dir, name+".crt"), KeyFile: filepath.Join(dir, name+".key"),
		TrustedCAFile: filepath.Join(dir, "ca.crt")}.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Status().Etcd}, TLS: tc, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func TestEtcdAuth(t *testing.T) {
	s := newSim(t, sim.Spec{Nodes: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, root, nobody := etcdAs(t, s, "client"), etcdAs(t, s, "root"), etcdAs(t, s, "nobody")
	// Before: RBAC off; any certificate of the CA may do anything.
	if st, err := client.AuthStatus(ctx); err != nil || st.Enabled {
		t.Fatalf("auth status before: %v %v", st, err)
	}
	if _, err := nobody.Put(ctx, "/other/x", "1"); err != nil {
		t.Errorf("a put before auth: %v", err)
	}
	eventually(t, "the cluster mirrored to etcd", func() bool {
		r, err := client.Get(ctx, "/rok/cluster")
		return err == nil && len(r.Kvs) == 1
	})
	// A client without a certificate is refused by TLS, before and after.
	if err := tlsProbe(s); err == nil {
		t.Error("a TLS session without a client certificate was accepted")
	}

	pin(t, s, "rok1.sim")
	upgradeMaster(t, s, "rok1.sim")
	out := must(t, s, "rok1.sim", upgrade, "enable-etcd-auth")
	t.Log(out)

	if st, err := root.AuthStatus(ctx); err != nil || !st.Enabled {
		t.Fatalf("auth status after: %v %v", st, err)
	}
	if _, err := client.Get(ctx, "/rok/cluster"); err != nil {
		t.Errorf("the cluster certificate (CN rok) reading /rok/: %v", err)
	}
	if _, err := client.Put(ctx, "/other/x", "2"); !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Errorf("the cluster certificate writing outside /rok/: %v", err)
	}
	if _, err := nobody.Get(ctx, "/rok/cluster"); !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Errorf("a certificate without a user: %v", err)
	}
	if _, err := root.UserList(ctx); err != nil {
		t.Errorf("root: %v", err)
	}
	// The simulator itself still writes as root.
	must(t, s, "rok1.sim", "rok-config", "set", "gw.task_gc.success.max_age=14d")
	eventually(t, "the new config in etcd", func() bool {
		r, err := client.Get(ctx, "/rok/cluster")
		return err == nil && len(r.Kvs) == 1 && strings.Contains(string(r.Kvs[0].Value), "14d")
	})
}

// tlsProbe opens a TLS session without a client certificate and reads.
func tlsProbe(s *Server) error {
	u, _ := url.Parse(s.Status().Etcd)
	pool := x509.NewCertPool()
	ca, _ := os.ReadFile(filepath.Join(s.Dir(), etcd.CAFile))
	pool.AppendCertsFromPEM(ca)
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"h2"}})
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	var b [1]byte
	_, err = conn.Read(b[:])
	return err
}

func TestEtcdSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(dir, sim.Spec{Nodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	pin(t, s, "rok1.sim")
	upgradeMaster(t, s, "rok1.sim")
	must(t, s, "rok1.sim", upgrade, "enable-etcd-auth")
	endpoint := s.Status().Etcd
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Start(dir, sim.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Status().Etcd != endpoint {
		t.Errorf("etcd moved from %s to %s", endpoint, s.Status().Etcd)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if st, err := etcdAs(t, s, "root").AuthStatus(ctx); err != nil || !st.Enabled {
		t.Errorf("auth after the restart: %v %v", st, err)
	}
	if _, err := etcdAs(t, s, "client").Get(ctx, "/rok/cluster"); err != nil {
		t.Errorf("the cluster certificate after the restart: %v", err)
	}
}
