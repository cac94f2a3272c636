package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Lock takes the run lock: a lease with the configured TTL, kept alive by
// a concurrency.Session, and a concurrency.Mutex taken with TryLock. The
// holder is written to P/holder/<lease> first, bound to the lease, so it
// vanishes with the lock however the session ends.
func (b *etcdBackend) Lock(ctx context.Context, h Holder) (Session, error) {
	fillHolder(&h)
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	ttl := int64(b.cfg.ttl / time.Second)
	var lease clientv3.LeaseID
	err = b.retry(ctx, func(ctx context.Context) error {
		resp, err := b.cli.Grant(ctx, ttl)
		if err == nil {
			lease = resp.ID
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	// The session's keep-alives must outlive ctx: they last until Unlock.
	es, err := concurrency.NewSession(b.cli, concurrency.WithLease(lease), concurrency.WithTTL(int(ttl)),
		concurrency.WithContext(context.Background()))
	if err != nil {
		b.revoke(lease)
		return nil, b.wrap(err)
	}
	// Say who we are before trying, so that a loser always finds us.
	err = b.retry(ctx, func(ctx context.Context) error {
		_, err := b.cli.Put(ctx, b.holderKey(lease), string(hb), clientv3.WithLease(lease))
		return err
	})
	if err != nil {
		es.Close()
		return nil, err
	}
	mu := concurrency.NewMutex(es, b.lockPrefix())
	// A retried TryLock is safe: our key is per lease, and a try that finds
	// it already there compares its create revision with the oldest key's.
	err = b.retry(ctx, mu.TryLock)
	if errors.Is(err, concurrency.ErrLocked) {
		es.Close()
		holder, herr := b.Holder(ctx)
		if herr != nil {
			return nil, herr
		}
		if holder == nil {
			holder = &Holder{} // released in between
		}
		return nil, &LockedError{Holder: *holder}
	}
	if err != nil {
		es.Close()
		return nil, err
	}
	// Find where the journal ends, under the lock.
	var resp *clientv3.TxnResponse
	err = b.retry(ctx, func(ctx context.Context) error {
		var err error
		resp, err = b.cli.Txn(ctx).If(mu.IsOwner()).Then(
			clientv3.OpGet(mu.Key()),
			clientv3.OpGet(b.journalPrefix(), clientv3.WithPrefix(), clientv3.WithLimit(1),
				clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend)),
		).Commit()
		return err
	})
	if err != nil {
		es.Close()
		return nil, err
	}
	if !resp.Succeeded {
		es.Close()
		return nil, ErrLockLost
	}
	own := resp.Responses[0].GetResponseRange().Kvs
	last := uint64(0)
	if kvs := resp.Responses[1].GetResponseRange().Kvs; len(kvs) > 0 {
		if last, err = b.seqOfKey(kvs[0].Key); err != nil {
			es.Close()
			return nil, &CorruptError{Where: b.cfg.url(), Reason: err.Error()}
		}
	}
	sctx, scancel := context.WithCancel(context.Background())
	s := &etcdSession{
		b:      b,
		es:     es,
		mu:     mu,
		myRev:  own[0].CreateRevision,
		ctx:    sctx,
		cancel: scancel,
		lost:   make(chan struct{}),
		next:   last + 1,
	}
	go func() {
		select {
		case <-es.Done():
			s.markLost()
		case <-sctx.Done():
		}
	}()
	b.mu.Lock()
	b.sessions[s] = struct{}{}
	b.mu.Unlock()
	s.c = startCommitter(maxTxnRecs, maxTxnBytes, s.commit)
	return s, nil
}

// revoke drops a lease, best effort.
func (b *etcdBackend) revoke(id clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.opts.RequestTimeout)
	defer cancel()
	_, _ = b.cli.Revoke(ctx, id)
}

// etcdSession holds the mutex; every write is one transaction fenced on
// still owning it (the owner key's create revision).
type etcdSession struct {
	b      *etcdBackend
	es     *concurrency.Session
	mu     *concurrency.Mutex
	myRev  int64              // the create revision of our mutex key
	ctx    context.Context    // cancelled by Unlock: stops a commit's retries
	cancel context.CancelFunc //
	c      *committer
	lost   chan struct{}

	lostOnce sync.Once
	endOnce  sync.Once
	endErr   error

	next uint64       // owned by the committer: the next record's Seq
	txns atomic.Int64 // transactions committed, so tests can see batching
}

func (s *etcdSession) Append(ctx context.Context, recs ...Record) error {
	select {
	case <-s.lost:
		return ErrLockLost
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	if len(recs) > maxTxnRecs {
		return fmt.Errorf("%d records in one Append: the etcd backend writes at most %d in one transaction", len(recs), maxTxnRecs)
	}
	enc, err := prepare(recs, time.Now())
	if err != nil {
		return err
	}
	first, err := s.c.submit(ctx, enc)
	if err != nil {
		return err
	}
	for i := range recs {
		recs[i].Seq = first + uint64(i)
	}
	return nil
}

// txnOutcome is what a fenced transaction found.
type txnOutcome int

const (
	applied  txnOutcome = iota // the records are in the journal
	lockLost                   // we no longer own the mutex
	conflict                   // we own it, but the first key is taken
)

// commit writes a batch in one transaction:
//
//	If(we own the mutex, the first key is new) Then(put every record)
//	Else(get our mutex key, get the batch's key range)
//
// Keys and values are fixed before the first try, so sending the same
// transaction again after an error that leaves its fate unknown (a
// timeout, a leader loss, a broken connection) is harmless: if it was
// applied, the Else branch shows our own records, and that is success. A
// conflict (the first key holds another record while we still own the
// lock) means an earlier write of ours, given up on, landed late: the
// batch moves past the journal's end and is sent again.
func (s *etcdSession) commit(batch []*appendReq) error {
	for moves := 0; ; moves++ {
		keys, vals := s.layout(batch)
		out, err := s.send(keys, vals)
		if err != nil {
			return err
		}
		switch out {
		case applied:
			s.next += uint64(len(keys))
			s.txns.Add(1)
			return nil
		case lockLost:
			s.markLost()
			return ErrLockLost
		}
		if moves == 3 {
			return &CorruptError{Where: s.b.cfg.url(), Reason: fmt.Sprintf("journal key %s keeps being taken while this run holds the lock", keys[0])}
		}
		var last uint64
		err = s.b.retry(s.ctx, func(ctx context.Context) error {
			resp, err := s.b.cli.Get(ctx, s.b.journalPrefix(), clientv3.WithPrefix(), clientv3.WithLimit(1),
				clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
			if err == nil && len(resp.Kvs) > 0 {
				last, err = s.b.seqOfKey(resp.Kvs[0].Key)
			}
			return err
		})
		if err != nil {
			return err
		}
		s.next = last + 1
	}
}

// layout gives the batch's records their sequence numbers from s.next.
func (s *etcdSession) layout(batch []*appendReq) (keys []string, vals [][]byte) {
	seq := s.next
	for _, r := range batch {
		r.first = seq
		for _, enc := range r.enc {
			keys = append(keys, s.b.journalKey(seq))
			vals = append(vals, withSeq(nil, enc, seq))
			seq++
		}
	}
	return keys, vals
}

// send sends one fenced transaction until its outcome is known: again
// after a transient error, for as long as the lease lives.
func (s *etcdSession) send(keys []string, vals [][]byte) (txnOutcome, error) {
	cli := s.b.cli
	puts := make([]clientv3.Op, len(keys))
	for i, k := range keys {
		puts[i] = clientv3.OpPut(k, string(vals[i]))
	}
	first, last := keys[0], keys[len(keys)-1]
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		ctx, cancel := context.WithTimeout(s.ctx, s.b.cfg.opts.RequestTimeout)
		resp, err := cli.Txn(ctx).
			If(s.mu.IsOwner(), clientv3.Compare(clientv3.Version(first), "=", 0)).
			Then(puts...).
			Else(clientv3.OpGet(s.mu.Key()), clientv3.OpGet(first, clientv3.WithRange(last+"\x00"))).
			Commit()
		cancel()
		if err == nil {
			return s.outcome(resp, vals), nil
		}
		if errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return lockLost, nil
		}
		if !transient(err) {
			return 0, s.b.wrap(err)
		}
		// Keep trying while the lease can still be alive. Once it is gone
		// the write cannot land any more, though an earlier try may have.
		select {
		case <-s.es.Done():
			return lockLost, nil
		case <-s.ctx.Done():
			return lockLost, nil
		default:
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.es.Done():
		case <-s.ctx.Done():
		}
		t.Stop()
	}
}

// outcome reads a fenced transaction's answer.
func (s *etcdSession) outcome(resp *clientv3.TxnResponse, vals [][]byte) txnOutcome {
	if resp.Succeeded {
		return applied
	}
	own := resp.Responses[0].GetResponseRange().Kvs
	if len(own) == 0 || own[0].CreateRevision != s.myRev {
		return lockLost
	}
	got := resp.Responses[1].GetResponseRange().Kvs
	if len(got) != len(vals) {
		return conflict
	}
	for i, kv := range got {
		if !bytes.Equal(kv.Value, vals[i]) {
			return conflict
		}
	}
	return applied
}

func (s *etcdSession) Lost() <-chan struct{} { return s.lost }

func (s *etcdSession) markLost() {
	s.lostOnce.Do(func() { close(s.lost) })
}

// Unlock fences the session, lets a commit in flight finish (or gives up
// on it when ctx ends), and revokes the lease, which deletes the mutex and
// holder keys at once.
func (s *etcdSession) Unlock(ctx context.Context) error {
	first := false
	s.endOnce.Do(func() {
		first = true
		s.markLost()
		stopped := make(chan struct{})
		go func() {
			select {
			case <-ctx.Done():
				s.cancel()
			case <-stopped:
			}
		}()
		s.c.stop()
		close(stopped)
		s.cancel()
		s.b.mu.Lock()
		delete(s.b.sessions, s)
		s.b.mu.Unlock()
		if err := s.es.Close(); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
			s.endErr = s.b.wrap(err)
		}
	})
	if !first {
		return nil
	}
	return s.endErr
}
