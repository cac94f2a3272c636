package state

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestLeaseKeptAlive(t *testing.T) {
	tests := map[string]struct {
		ttl, remaining time.Duration
		want           bool
	}{
		"just renewed":                  {10 * time.Second, 10 * time.Second, true},
		"due for renewal":               {10 * time.Second, 7 * time.Second, true},
		"renewal a little late":         {10 * time.Second, 6 * time.Second, true},
		"a renewal missed":              {10 * time.Second, 5 * time.Second, false},
		"about to end":                  {10 * time.Second, 1 * time.Second, false},
		"longest TTL, due":              {15 * time.Second, 10 * time.Second, true},
		"longest TTL, a renewal missed": {15 * time.Second, 8 * time.Second, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l := Lease{TTL: tc.ttl, Remaining: tc.remaining}
			if got := l.KeptAlive(); got != tc.want {
				t.Errorf("%v left of %v: KeptAlive = %v, want %v", tc.remaining, tc.ttl, got, tc.want)
			}
		})
	}
}

// TestEtcdHolderLease reads a live holder's lease from a real etcd: it is
// the owner's, and kept alive.
func TestEtcdHolderLease(t *testing.T) {
	ep := sharedEtcd(t)
	prefix := uniquePrefix(t)
	b := open(t, etcdURL(ep, prefix), Options{})
	if l, err := HolderLease(t.Context(), b); err != nil || l != nil {
		t.Fatalf("HolderLease of a free lock = %+v, %v; want nil", l, err)
	}
	s := lock(t, b, alice)
	l, err := HolderLease(t.Context(), b)
	if err != nil || l == nil {
		t.Fatalf("HolderLease of a held lock = %+v, %v", l, err)
	}
	want := fmt.Sprintf("%x", int64(ownerLease(t, shared.c.client(t), prefix)))
	if l.ID != want || l.TTL != defaultLockTTL || !l.KeptAlive() {
		t.Errorf("HolderLease = %+v; want lease %s with TTL %v, kept alive", *l, want, defaultLockTTL)
	}
	if err := s.Unlock(t.Context()); err != nil {
		t.Fatal(err)
	}
	if l, err := HolderLease(t.Context(), b); err != nil || l != nil {
		t.Errorf("HolderLease after Unlock = %+v, %v; want nil", l, err)
	}
}

// TestHolderLeaseWithoutLeases: a file or memory lock has no lease.
func TestHolderLeaseWithoutLeases(t *testing.T) {
	for _, url := range []string{"mem://", "file://" + filepath.Join(t.TempDir(), "state")} {
		b := open(t, url, Options{})
		s := lock(t, b, alice)
		if l, err := HolderLease(t.Context(), b); err != nil || l != nil {
			t.Errorf("%s: HolderLease = %+v, %v; want nil", url, l, err)
		}
		s.Unlock(t.Context())
	}
}
