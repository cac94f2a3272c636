package etcd

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// TestRoom starts the room alone: it picks ports, mirrors what it is
// handed, and after EnableAuth admits the cluster's certificate to /rok/
// only. The simulator's tests drive it through enable-etcd-auth.
func TestRoom(t *testing.T) {
	dir := t.TempDir()
	var port, peer int
	es, err := Start(dir, &port, &peer)
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	if port == 0 || peer == 0 {
		t.Fatalf("ports not recorded: %d %d", port, peer)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := es.EnableAuth(ctx, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := es.EnableAuth(ctx, io.Discard); err != nil {
		t.Fatalf("a second EnableAuth: %v", err)
	}
	es.Publish([]byte(`{"name":"sim"}`))

	tc, err := transport.TLSInfo{CertFile: filepath.Join(dir, ClientCert), KeyFile: filepath.Join(dir, ClientKey),
		TrustedCAFile: filepath.Join(dir, CAFile)}.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{es.Endpoint()}, TLS: tc, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for {
		r, err := cli.Get(ctx, "/rok/cluster")
		if err != nil {
			t.Fatalf("the cluster certificate reading /rok/: %v", err)
		}
		if len(r.Kvs) == 1 && string(r.Kvs[0].Value) == `{"name":"sim"}` {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the snapshot never reached /rok/cluster")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if _, err := cli.Put(ctx, "/other/x", "1"); !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Errorf("the cluster certificate writing outside /rok/: %v", err)
	}
}
