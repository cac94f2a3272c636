package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Lease is the lease of an etcd lock holder, as the etcd server reports it.
// The file backend needs none: it refuses to break a live holder's lock
// (ErrHolderAlive). etcd cannot know whether a process on another machine
// runs, but it knows whether its lease is being renewed.
type Lease struct {
	// ID is the lease, in hex as in the lock's keys.
	ID string
	// TTL is the lease's time to live; Remaining is how long it has left
	// unless it is renewed (etcd counts whole seconds).
	TTL, Remaining time.Duration
}

// KeptAlive reports whether the lease was renewed within the last
// keep-alive interval, that is, whether its holder looks alive. A holder's
// session renews its lease every third of the TTL, so a live holder's
// lease never has much less than two thirds of its TTL left (a second is
// allowed for the network and etcd's rounding). A holder that stopped
// within that interval still looks alive; one that stopped earlier does
// not, and its lease ends within Remaining anyway.
func (l Lease) KeptAlive() bool { return l.Remaining+time.Second >= l.TTL*2/3 }

// HolderLease returns the lease of the lock's holder: nil when the lock is
// free, and when the backend's lock is not a lease (file, memory).
func HolderLease(ctx context.Context, b Backend) (*Lease, error) {
	lb, ok := b.(interface {
		holderLease(ctx context.Context) (*Lease, error)
	})
	if !ok {
		return nil, nil
	}
	return lb.holderLease(ctx)
}

func (b *etcdBackend) holderLease(ctx context.Context) (*Lease, error) {
	var l *Lease
	err := b.retry(ctx, func(ctx context.Context) error {
		l = nil
		owner, _, err := b.owner(ctx)
		if err != nil || owner == nil {
			return err
		}
		resp, err := b.cli.TimeToLive(ctx, clientv3.LeaseID(owner.Lease))
		if errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return nil // it ended in between: the lock is free
		}
		if err != nil {
			return err
		}
		if resp.TTL < 0 {
			return nil
		}
		l = &Lease{
			ID:        fmt.Sprintf("%x", owner.Lease),
			TTL:       time.Duration(resp.GrantedTTL) * time.Second,
			Remaining: time.Duration(resp.TTL) * time.Second,
		}
		return nil
	})
	return l, err
}
