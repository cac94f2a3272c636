package state

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestWatchApprovals: an approval recorded through another handle on the
// same state (another process, as far as the backend knows) is notified
// within a second, after the first notification a watch gives at once.
func TestWatchApprovals(t *testing.T) {
	urls := map[string]func(t *testing.T) string{
		"file": func(t *testing.T) string { return "file://" + filepath.Join(t.TempDir(), "state") },
		"mem":  func(t *testing.T) string { return fmt.Sprintf("mem://watch-%d", time.Now().UnixNano()) },
		"etcd": func(t *testing.T) string { return etcdURL(sharedEtcd(t), uniquePrefix(t)) },
	}
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			u := url(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			watcher, err := Open(ctx, u, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer watcher.Close()
			approver, err := Open(ctx, u, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer approver.Close()
			ch, err := watcher.WatchApprovals(ctx)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-ch:
			case <-time.After(time.Second):
				t.Fatal("no first notification")
			}
			for i := range 3 {
				at := time.Now()
				if err := approver.Approve(ctx, Record{Kind: KindApproval, Run: "r", Addr: "step.gate", By: "bob", How: "approve"}); err != nil {
					t.Fatal(err)
				}
				select {
				case <-ch:
					if lag := time.Since(at); lag > time.Second {
						t.Errorf("approval %d notified after %s", i, lag)
					}
				case <-time.After(2 * time.Second):
					t.Fatalf("approval %d was not notified", i)
				}
			}
			recs, err := watcher.Records(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(recs); n != 3 || recs[0].By != "bob" || recs[0].How != "approve" {
				t.Errorf("records %+v", recs)
			}
			cancel()
			for range ch {
			}
		})
	}
}

// TestIdentity: the etcd backend's identity is its user, else its client
// certificate's common name; the file and memory backends have none.
func TestIdentity(t *testing.T) {
	p := newPKI(t)
	cert, _ := p.issue(t, "carol", false)
	if got := certCN(cert); got != "carol" {
		t.Errorf("certCN = %q, want carol", got)
	}
	if got := (&etcdBackend{cfg: etcdConfig{opts: Options{User: "alice", Password: "pw", CertFile: cert}}}).Identity(); got != "alice" {
		t.Errorf("user and certificate: identity %q, want alice (the token wins over the CN)", got)
	}
	if got := (&etcdBackend{cfg: etcdConfig{opts: Options{CertFile: cert}}}).Identity(); got != "carol" {
		t.Errorf("certificate: identity %q, want carol", got)
	}
	if got := (&etcdBackend{cfg: etcdConfig{opts: Options{User: "alice"}}}).Identity(); got != "" {
		t.Errorf("a user without a password authenticates nobody, identity %q", got)
	}
	ep := sharedEtcd(t)
	b, err := Open(context.Background(), etcdURL(ep, uniquePrefix(t)), Options{User: "dave", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := b.Identity(); got != "dave" {
		t.Errorf("opened with a user: identity %q", got)
	}
	f, _ := Open(context.Background(), "file://"+t.TempDir(), Options{})
	defer f.Close()
	if got := f.Identity(); got != "" {
		t.Errorf("file identity %q", got)
	}
}
