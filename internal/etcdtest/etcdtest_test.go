package etcdtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

func client(t *testing.T, url string, info *transport.TLSInfo) *clientv3.Client {
	t.Helper()
	cfg := clientv3.Config{Endpoints: []string{url}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
	if info != nil {
		tc, err := info.ClientConfig()
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLS = tc
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func putGet(cli *clientv3.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := cli.Put(ctx, "/k", "v"); err != nil {
		return err
	}
	r, err := cli.Get(ctx, "/k")
	if err != nil {
		return err
	}
	if len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "v" {
		return errors.New("wrong value read back")
	}
	return nil
}

func TestStart(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.URL, "http://") || !strings.HasSuffix(s.URL, s.Endpoint) {
		t.Errorf("URL %q, Endpoint %q", s.URL, s.Endpoint)
	}
	if err := putGet(client(t, s.URL, nil), 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestStartWithClientCertAuth(t *testing.T) {
	p := NewPKI(t, "alice")
	s := StartWith(t, Options{TLS: p.ServerTLS(true)})
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("URL %q", s.URL)
	}
	withCert := &transport.TLSInfo{CertFile: p.CertFile("alice"), KeyFile: p.KeyFile("alice"), TrustedCAFile: p.CAFile()}
	if err := putGet(client(t, s.URL, withCert), 5*time.Second); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	// Without a certificate the server refuses the session; clientv3 only
	// sees its deadline pass.
	err := putGet(client(t, s.URL, &transport.TLSInfo{TrustedCAFile: p.CAFile()}), time.Second)
	if err == nil {
		t.Fatal("a client without a certificate was served")
	}
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without a certificate: %v", err)
	}
}

func TestStartWithTLSOnly(t *testing.T) {
	p := NewPKI(t)
	s := StartWith(t, Options{TLS: p.ServerTLS(false)})
	if err := putGet(client(t, s.URL, &transport.TLSInfo{TrustedCAFile: p.CAFile()}), 5*time.Second); err != nil {
		t.Fatalf("TLS without client certificates: %v", err)
	}
}
