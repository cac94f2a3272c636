package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// testTTL is the lease TTL of the etcd tests: the server's minimum, so
// that expiry tests stay short.
const testTTL = 2 * time.Second

func etcdURL(ep, prefix string) string { return "etcd://" + ep + "/" + prefix }

// ownerLease returns the lease of the lock's owner key.
func ownerLease(t *testing.T, cli *clientv3.Client, prefix string) clientv3.LeaseID {
	t.Helper()
	resp, err := cli.Get(t.Context(), "/"+prefix+"/lock/", clientv3.WithFirstCreate()...)
	if err != nil || len(resp.Kvs) == 0 {
		t.Fatalf("no lock owner under /%s/lock/: %v", prefix, err)
	}
	return clientv3.LeaseID(resp.Kvs[0].Lease)
}

func TestEtcdOneOfTwoLocks(t *testing.T) {
	ep := sharedEtcd(t)
	for round := range 5 {
		url := etcdURL(ep, uniquePrefix(t))
		a, b := open(t, url, Options{testTTL: testTTL}), open(t, url, Options{testTTL: testTTL})
		start := make(chan struct{})
		type result struct {
			s   Session
			err error
		}
		results := make(chan result, 2)
		for i, be := range []Backend{a, b} {
			go func() {
				<-start
				s, err := be.Lock(t.Context(), Holder{User: fmt.Sprintf("op%d", i), Host: "h", PID: 100 + i})
				results <- result{s, err}
			}()
		}
		close(start)
		r1, r2 := <-results, <-results
		if (r1.err == nil) == (r2.err == nil) {
			t.Fatalf("round %d: Lock errors %v and %v: want exactly one lock", round, r1.err, r2.err)
		}
		won, lost := r1, r2
		if r1.err != nil {
			won, lost = r2, r1
		}
		var le *LockedError
		if !errors.As(lost.err, &le) || !strings.HasPrefix(le.Holder.User, "op") {
			t.Fatalf("round %d: losing Lock = %v", round, lost.err)
		}
		if err := won.s.Append(t.Context(), stepRec("r", "a", Running)); err != nil {
			t.Fatal(err)
		}
		if err := won.s.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEtcdZombieIsFenced(t *testing.T) {
	ep := sharedEtcd(t)
	cli := shared.c.client(t)

	t.Run("write refused before it notices", func(t *testing.T) {
		prefix := uniquePrefix(t)
		url := etcdURL(ep, prefix)
		zombie := lock(t, open(t, url, Options{testTTL: testTTL}), alice)
		if err := zombie.Append(t.Context(), stepRec("r1", "a", Running)); err != nil {
			t.Fatal(err)
		}
		// A GC pause or a partition longer than the TTL, as seen by etcd.
		if _, err := cli.Revoke(t.Context(), ownerLease(t, cli, prefix)); err != nil {
			t.Fatal(err)
		}
		next := lock(t, open(t, url, Options{testTTL: testTTL}), Holder{User: "bob"})
		// The zombie has not been told yet, but its write is fenced.
		if err := zombie.Append(t.Context(), stepRec("r1", "a", Succeeded)); !errors.Is(err, ErrLockLost) {
			t.Fatalf("zombie Append = %v, want ErrLockLost", err)
		}
		if err := next.Append(t.Context(), stepRec("r2", "a", Running)); err != nil {
			t.Fatal(err)
		}
		recs := records(t, open(t, url, Options{testTTL: testTTL}))
		if len(recs) != 2 || recs[1].Run != "r2" {
			t.Fatalf("records: %+v", recs)
		}
	})

	t.Run("Lost fires", func(t *testing.T) {
		prefix := uniquePrefix(t)
		url := etcdURL(ep, prefix)
		zombie := lock(t, open(t, url, Options{testTTL: testTTL}), alice)
		revoked := time.Now()
		if _, err := cli.Revoke(t.Context(), ownerLease(t, cli, prefix)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-zombie.Lost():
			t.Logf("Lost closed %v after the revoke", time.Since(revoked).Round(time.Millisecond))
		case <-time.After(testTTL + 3*time.Second):
			t.Fatal("Lost not closed within the TTL after the lease was revoked")
		}
		if err := zombie.Append(t.Context(), stepRec("r1", "a", Running)); !errors.Is(err, ErrLockLost) {
			t.Fatalf("Append after Lost = %v", err)
		}
		if err := zombie.Unlock(t.Context()); err != nil {
			t.Fatalf("Unlock of a lost lock = %v", err)
		}
	})
}

func TestEtcdHolderKilled(t *testing.T) {
	ep := sharedEtcd(t)
	prefix := uniquePrefix(t)
	url := etcdURL(ep, prefix)
	child := startHolder(t, url, testTTL)
	b := open(t, url, Options{testTTL: testTTL})
	_, err := b.Lock(t.Context(), alice)
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.PID != child.pid() || le.Holder.User != "child" {
		t.Fatalf("Lock while the child holds it = %v", err)
	}

	cli := shared.c.client(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTTL+5*time.Second)
	defer cancel()
	deleted := cli.Watch(ctx, "/"+prefix+"/lock/", clientv3.WithPrefix(), clientv3.WithFilterPut())
	child.kill(t)
	killed := time.Now()
	select {
	case wr := <-deleted:
		if err := wr.Err(); err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatalf("the dead holder's lock was not freed within the TTL (%v)", testTTL)
	}
	freed := time.Since(killed)
	t.Logf("lock freed %v after SIGKILL (TTL %v)", freed.Round(time.Millisecond), testTTL)
	if freed > testTTL+time.Second {
		t.Errorf("lock freed after %v, want within the TTL %v", freed, testTTL)
	}
	s := lock(t, b, alice)
	r := []Record{stepRec("r2", "a", Running)}
	if err := s.Append(t.Context(), r...); err != nil {
		t.Fatal(err)
	}
	if r[0].Seq != 2 {
		t.Fatalf("seq %d after the child's record, want 2", r[0].Seq)
	}
}

// TestEtcdRetryIsIdempotent sends one transaction twice, as a retry after
// a lost answer does, and lets an abandoned write land late.
func TestEtcdRetryIsIdempotent(t *testing.T) {
	ep := sharedEtcd(t)
	url := etcdURL(ep, uniquePrefix(t))
	b := open(t, url, Options{testTTL: testTTL})
	s := lock(t, b, alice).(*etcdSession)
	enc, err := prepare([]Record{stepRec("r1", "a", Running), stepRec("r1", "b", Running)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	batch := []*appendReq{{enc: enc}}
	keys, vals := s.layout(batch)
	for try := range 2 {
		out, err := s.send(keys, vals)
		if err != nil || out != applied {
			t.Fatalf("try %d: %v, %v; want applied", try, out, err)
		}
	}
	// The session did not learn of that write (its answer was "lost"), so
	// its next batch starts on a taken key: it must move past it.
	r := []Record{stepRec("r1", "c", Running)}
	if err := s.Append(t.Context(), r...); err != nil {
		t.Fatal(err)
	}
	if r[0].Seq != 3 {
		t.Fatalf("seq %d, want 3", r[0].Seq)
	}
	recs := records(t, b)
	if len(recs) != 3 || recs[0].Addr != "a" || recs[1].Addr != "b" || recs[2].Addr != "c" {
		t.Fatalf("records: %+v", recs)
	}
}

func TestEtcdGroupCommit(t *testing.T) {
	ep := sharedEtcd(t)
	b := open(t, etcdURL(ep, uniquePrefix(t)), Options{testTTL: testTTL})
	s := lock(t, b, alice)
	const n = 1000
	d := appendConcurrently(t, s, n, 16)
	txns := s.(*etcdSession).txns.Load()
	t.Logf("%d appends from 16 goroutines in %v with %d transactions", n, d, txns)
	if txns > n/2 {
		t.Errorf("%d transactions for %d concurrent appends: group commit is not working", txns, n)
	}
	checkConcurrent(t, records(t, b), n)
}

// TestEtcdLeaderStopped stops the leader of a 3-member cluster while
// appends run, gracefully (it hands leadership over) and hard (as if it
// crashed: the others must elect a new one): the appends complete, with no
// record lost or written twice.
func TestEtcdLeaderStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 3-member clusters")
	}
	t.Run("graceful", func(t *testing.T) {
		// Stop hands leadership over first.
		testLeaderStopped(t, func(e *embed.Etcd) { e.Server.Stop() })
	})
	t.Run("hard", func(t *testing.T) {
		testLeaderStopped(t, func(e *embed.Etcd) { e.Server.HardStop() })
	})
}

// testLeaderStopped stops the leader's raft with stop, and then its
// listeners.
func testLeaderStopped(t *testing.T, stop func(*embed.Etcd)) {
	t0 := time.Now()
	c := startEtcd(t, etcdSetup{members: 3, dir: t.TempDir()})
	defer c.close()
	t.Logf("cluster up in %v", time.Since(t0).Round(time.Millisecond))
	url := "etcd://" + strings.Join(c.endpoints, ",") + "/rokflow"
	b := open(t, url, Options{testTTL: testTTL, RequestTimeout: time.Second})
	// Closing a member's listeners waits (up to 6 s) for open streams,
	// such as the lease keep-alive: close the client first.
	closed := make(chan struct{})
	defer func() { <-closed }()
	defer b.Close()
	s := lock(t, b, alice)

	const writers = 4
	var (
		mu     sync.Mutex
		acked  = map[string]bool{}
		wg     sync.WaitGroup
		atStop int
	)
	before, after := make(chan struct{}), make(chan struct{})
	stopped := make(chan struct{})
	quit := make(chan struct{})
	var onceBefore, onceAfter sync.Once
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-quit:
					return
				default:
				}
				r := stepRec("r1", fmt.Sprintf("w%d", w), Running)
				r.Attempt = i + 1
				if err := s.Append(context.Background(), r); err != nil {
					errs <- fmt.Errorf("writer %d append %d: %w", w, i, err)
					return
				}
				mu.Lock()
				acked[fmt.Sprintf("w%d/%d", w, i+1)] = true
				n := len(acked)
				mu.Unlock()
				if n >= 200 {
					onceBefore.Do(func() { close(before) })
				}
				select {
				case <-stopped:
					if n >= atStop+200 {
						onceAfter.Do(func() { close(after) })
					}
				default:
				}
			}
		})
	}
	wait := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case err := <-errs:
			close(quit)
			wg.Wait()
			t.Fatal(err)
		case <-time.After(20 * time.Second):
			close(quit)
			wg.Wait()
			t.Fatalf("no progress: %s", what)
		}
	}
	wait(before, "200 appends before the stop")
	l := c.leader(t)
	t0 = time.Now()
	stop(c.members[l])
	e := c.members[l]
	c.members[l] = nil
	go func() {
		defer close(closed)
		e.Close()
	}()
	mu.Lock()
	atStop = len(acked)
	mu.Unlock()
	close(stopped)
	t.Logf("leader m%d stopped in %v", l, time.Since(t0).Round(time.Millisecond))
	wait(after, "200 appends after the leader stopped")
	t.Logf("200 more appends done %v after the stop began", time.Since(t0).Round(time.Millisecond))
	close(quit)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	select {
	case <-s.Lost():
		t.Fatal("the lock was lost over a leader change")
	default:
	}

	recs := records(t, b)
	checkSeq(t, recs)
	seen := map[string]bool{}
	for _, r := range recs {
		k := fmt.Sprintf("%s/%d", r.Addr, r.Attempt)
		if seen[k] {
			t.Fatalf("record %s written twice", k)
		}
		seen[k] = true
	}
	for k := range acked {
		if !seen[k] {
			t.Fatalf("acknowledged record %s is missing", k)
		}
	}
	t.Logf("%d records, %d acknowledged", len(recs), len(acked))
	if err := s.Unlock(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestEtcdTLSAndAuth runs the conformance suite over TLS with client
// certificates and a user whose role is limited to the prefix.
func TestEtcdTLSAndAuth(t *testing.T) {
	pki := newPKI(t)
	srvCert, srvKey := pki.issue(t, "etcd", true)
	rootCert, rootKey := pki.issue(t, "root", false)
	cliCert, cliKey := pki.issue(t, "rokflow", false)
	c := startEtcd(t, etcdSetup{members: 1, dir: t.TempDir(), tls: &transport.TLSInfo{
		CertFile: srvCert, KeyFile: srvKey, TrustedCAFile: pki.CAFile(), ClientCertAuth: true,
	}})
	defer c.close()
	ep := c.endpoints[0]

	// Set up RBAC as an operator would, as root by certificate.
	tlsCfg, err := (&transport.TLSInfo{CertFile: rootCert, KeyFile: rootKey, TrustedCAFile: pki.CAFile()}).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	root, err := clientv3.New(clientv3.Config{Endpoints: []string{"https://" + ep}, TLS: tlsCfg, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	const password = "s3cret-Pa55word"
	ctx := t.Context()
	steps := []func() error{
		func() error { _, err := root.UserAdd(ctx, "root", "root-pw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := root.RoleAdd(ctx, "rokflow"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "rokflow", "/rokflow-tls/", clientv3.GetPrefixRangeEnd("/rokflow-tls/"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := root.UserAdd(ctx, "rokflow", password); return err },
		func() error { _, err := root.UserGrantRole(ctx, "rokflow", "rokflow"); return err },
		func() error { _, err := root.AuthEnable(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("RBAC step %d: %v", i+1, err)
		}
	}

	opts := Options{CAFile: pki.CAFile(), CertFile: cliCert, KeyFile: cliKey, User: "rokflow", Password: password, testTTL: testTTL}
	testConformance(t, backendCase{name: "etcd-tls", opts: opts, url: func(t *testing.T) string {
		return etcdURL(ep, "rokflow-tls/"+strings.TrimPrefix(uniquePrefix(t), "rokflow-test/"))
	}})

	t.Run("String has no password", func(t *testing.T) {
		b := open(t, etcdURL(ep, "rokflow-tls/x"), opts)
		if s := b.String(); strings.Contains(s, password) || s != "etcd://"+ep+"/rokflow-tls/x" {
			t.Fatalf("String() = %q", s)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		bad := opts
		bad.Password = "not-" + password
		_, err := Open(t.Context(), etcdURL(ep, "rokflow-tls/x"), bad)
		if err == nil || strings.Contains(err.Error(), bad.Password) || !strings.Contains(err.Error(), "authentication failed") {
			t.Fatalf("Open with a wrong password = %v", err)
		}
	})
	t.Run("prefix outside the role", func(t *testing.T) {
		_, err := Open(t.Context(), etcdURL(ep, "elsewhere"), opts)
		if err == nil || !strings.Contains(err.Error(), "permission denied") || strings.Contains(err.Error(), password) {
			t.Fatalf("Open outside the granted prefix = %v", err)
		}
	})
}
