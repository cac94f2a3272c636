package state

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The etcd backend's keys, under its prefix P:
//
//	P/journal/<seq %020d>   one record each, written by fenced transactions
//	P/approvals/<id>        one approval each, written without the lock
//	P/lock/<lease hex>      the concurrency.Mutex: the oldest key holds it
//	P/holder/<lease hex>    who tries or holds the lock, bound to the lease
//
// The holder keys sit outside P/lock/ so that they never count as waiters.
// A session writes its holder key before it tries the lock, so whoever
// finds the lock taken can always say by whom.

// maxTxnRecs bounds the records of one transaction (etcd's --max-txn-ops
// defaults to 128) and maxTxnBytes its size (--max-request-bytes defaults
// to 1.5 MiB).
const (
	maxTxnRecs  = 100
	maxTxnBytes = 1 << 20
)

// etcdBackend keeps the journal in etcd.
type etcdBackend struct {
	cfg etcdConfig
	cli *clientv3.Client

	mu       sync.Mutex
	sessions map[*etcdSession]struct{} // taken through this handle and held
}

func openEtcd(ctx context.Context, cfg etcdConfig) (*etcdBackend, error) {
	tlsCfg, err := cfg.tls()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.url(), err)
	}
	scheme := "http://"
	if tlsCfg != nil {
		scheme = "https://"
	}
	eps := make([]string, len(cfg.endpoints))
	for i, e := range cfg.endpoints {
		eps[i] = scheme + e
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   eps,
		DialTimeout: cfg.opts.DialTimeout,
		TLS:         tlsCfg,
		Username:    cfg.opts.User,
		Password:    cfg.opts.Password,
		Logger:      zap.NewNop(),
		Context:     context.WithoutCancel(ctx),
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.url(), err)
	}
	b := &etcdBackend{cfg: cfg, cli: cli, sessions: map[*etcdSession]struct{}{}}
	// The client connects lazily; ask once so that a wrong endpoint, TLS
	// setting or password is reported here.
	err = b.retry(ctx, func(ctx context.Context) error {
		_, err := cli.Get(ctx, b.lockPrefix()+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		return err
	})
	if err != nil {
		cli.Close()
		return nil, err
	}
	return b, nil
}

// tls builds the TLS configuration, or nil for a plain connection.
func (c etcdConfig) tls() (*tls.Config, error) {
	o := c.opts
	if o.CAFile == "" && o.CertFile == "" && !o.TLS {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
		}
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func (b *etcdBackend) String() string { return b.cfg.url() }

func (b *etcdBackend) journalPrefix() string   { return b.cfg.prefix + "/journal/" }
func (b *etcdBackend) approvalsPrefix() string { return b.cfg.prefix + "/approvals/" }
func (b *etcdBackend) lockPrefix() string      { return b.cfg.prefix + "/lock" }
func (b *etcdBackend) holderPrefix() string    { return b.cfg.prefix + "/holder/" }

func (b *etcdBackend) holderKey(lease clientv3.LeaseID) string {
	return fmt.Sprintf("%s%x", b.holderPrefix(), int64(lease))
}

func (b *etcdBackend) journalKey(seq uint64) string {
	return b.journalPrefix() + fmt.Sprintf("%020d", seq)
}

// seqOfKey reads the sequence number out of a journal key.
func (b *etcdBackend) seqOfKey(key []byte) (uint64, error) {
	s, ok := strings.CutPrefix(string(key), b.journalPrefix())
	if !ok {
		return 0, fmt.Errorf("key %q is not a journal key", key)
	}
	return strconv.ParseUint(s, 10, 64)
}

func (b *etcdBackend) Records(ctx context.Context) ([]Record, error) {
	var recs []Record
	err := b.retry(ctx, func(ctx context.Context) error {
		recs = nil
		var err error
		recs, err = b.records(ctx)
		return err
	})
	return recs, err
}

// records reads the journal and the approvals at one revision, the
// journal a page at a time.
func (b *etcdBackend) records(ctx context.Context) ([]Record, error) {
	const page = 1000
	var (
		recs []Record
		rev  int64
		key  = b.journalPrefix()
		end  = clientv3.GetPrefixRangeEnd(key)
	)
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend), clientv3.WithLimit(page)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := b.cli.Get(ctx, key, opts...)
		if err != nil {
			return nil, err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			r, err := b.decodeJournal(kv, uint64(len(recs))+1)
			if err != nil {
				return nil, err
			}
			recs = append(recs, r)
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	resp, err := b.cli.Get(ctx, b.approvalsPrefix(), clientv3.WithPrefix(), clientv3.WithRev(rev),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		return nil, err
	}
	for _, kv := range resp.Kvs {
		r, err := decode(kv.Value)
		if err != nil {
			var se *SchemaError
			if errors.As(err, &se) {
				return nil, err
			}
			return nil, &CorruptError{Where: b.cfg.url() + " key " + string(kv.Key), Reason: err.Error()}
		}
		r.Seq = 0
		recs = append(recs, r)
	}
	return recs, nil
}

// decodeJournal decodes a journal key-value and checks it holds record want.
func (b *etcdBackend) decodeJournal(kv *mvccpb.KeyValue, want uint64) (Record, error) {
	where := b.cfg.url() + " key " + string(kv.Key)
	seq, err := b.seqOfKey(kv.Key)
	if err != nil {
		return Record{}, &CorruptError{Where: where, Reason: err.Error()}
	}
	r, err := decode(kv.Value)
	if err != nil {
		var se *SchemaError
		if errors.As(err, &se) {
			return r, err
		}
		return r, &CorruptError{Where: where, Reason: err.Error()}
	}
	if seq != want || r.Seq != seq {
		return r, &CorruptError{Where: where, Reason: fmt.Sprintf("record has seq %d under key %d, want %d", r.Seq, seq, want)}
	}
	return r, nil
}

// owner returns the lock's owner key (nil when nobody holds the lock) and
// the owner's holder key (nil if it has none), read together.
func (b *etcdBackend) owner(ctx context.Context) (owner, holder *mvccpb.KeyValue, err error) {
	resp, err := b.cli.Txn(ctx).Then(
		clientv3.OpGet(b.lockPrefix()+"/", clientv3.WithFirstCreate()...),
		clientv3.OpGet(b.holderPrefix(), clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return nil, nil, err
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return nil, nil, nil
	}
	owner = kvs[0]
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		if kv.Lease == owner.Lease {
			holder = kv
		}
	}
	return owner, holder, nil
}

// holderOf says who owns the lock: what the owner's holder key says, or
// the lease alone when it has none (a session of another tool).
func holderOf(owner, holder *mvccpb.KeyValue) Holder {
	if holder != nil {
		var h Holder
		if json.Unmarshal(holder.Value, &h) == nil {
			return h
		}
	}
	return Holder{ID: fmt.Sprintf("etcd lease %x", owner.Lease)}
}

func (b *etcdBackend) Holder(ctx context.Context) (*Holder, error) {
	var h *Holder
	err := b.retry(ctx, func(ctx context.Context) error {
		owner, holder, err := b.owner(ctx)
		if err != nil || owner == nil {
			return err
		}
		hh := holderOf(owner, holder)
		h = &hh
		return nil
	})
	return h, err
}

// BreakLock revokes the owner's lease, which deletes its lock and holder
// keys at once. The session of that lease sees Lost close within a
// third of the TTL and every one of its writes fail from now on.
func (b *etcdBackend) BreakLock(ctx context.Context) (*Holder, error) {
	var h *Holder
	err := b.retry(ctx, func(ctx context.Context) error {
		owner, holder, err := b.owner(ctx)
		if err != nil || owner == nil {
			return err
		}
		if h == nil {
			hh := holderOf(owner, holder)
			h = &hh
		}
		if _, err := b.cli.Revoke(ctx, clientv3.LeaseID(owner.Lease)); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return err
		}
		return nil
	})
	return h, err
}

func (b *etcdBackend) Approve(ctx context.Context, r Record) error {
	enc, err := prepareApproval(&r, time.Now())
	if err != nil {
		return err
	}
	// The key is fixed before the first try, so a retry after a lost
	// answer writes the same approval again, not a second one.
	var id [6]byte
	_, _ = rand.Read(id[:])
	key := fmt.Sprintf("%s%020d-%s", b.approvalsPrefix(), r.Time.UnixNano(), hex.EncodeToString(id[:]))
	return b.retry(ctx, func(ctx context.Context) error {
		_, err := b.cli.Put(ctx, key, string(enc))
		return err
	})
}

// Close unlocks the sessions taken through this handle and still held,
// and closes the client.
func (b *etcdBackend) Close() error {
	b.mu.Lock()
	var ss []*etcdSession
	for s := range b.sessions {
		ss = append(ss, s)
	}
	b.mu.Unlock()
	var errs []error
	for _, s := range ss {
		errs = append(errs, s.Unlock(context.Background()))
	}
	errs = append(errs, b.cli.Close())
	return errors.Join(errs...)
}

// retry runs op, each try bounded by the request timeout, again while it
// fails with a transient error (reference/etcd.md: a leader loss stalls
// writes for 1–2 s; a TLS mismatch looks like a hang), for at most three
// request timeouts in all. op must be idempotent.
func (b *etcdBackend) retry(ctx context.Context, op func(context.Context) error) error {
	rt := b.cfg.opts.RequestTimeout
	ctx, cancel := context.WithTimeout(ctx, 3*rt)
	defer cancel()
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		tctx, tcancel := context.WithTimeout(ctx, rt)
		err := op(tctx)
		tcancel()
		if err == nil {
			return nil
		}
		if !transient(err) || !sleep(ctx, wait) {
			return b.wrap(err)
		}
	}
}

// wrap names the backend in an error, and says what a timeout may mean.
func (b *etcdBackend) wrap(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded {
		return fmt.Errorf("%s: no answer in time (check the endpoints; a TLS mismatch looks like this too): %w", b.cfg.url(), err)
	}
	return fmt.Errorf("%s: %w", b.cfg.url(), err)
}

// transient reports whether a failed request may succeed when sent again:
// no leader, a leader change, a timeout, an unreachable member, too many
// requests, a stale auth token. Permission, auth, size and lease errors
// are not.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true // a try's own timeout; the caller's deadline is checked apart
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		switch ee.Code() {
		case codes.Unavailable, codes.DeadlineExceeded:
			return true
		}
		return errors.Is(err, rpctypes.ErrTooManyRequests) || errors.Is(err, rpctypes.ErrNotLeader) ||
			errors.Is(err, rpctypes.ErrInvalidAuthToken) || errors.Is(err, rpctypes.ErrAuthOldRevision)
	}
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	case codes.Unknown:
		// Measured (server v3.6.16): while a leader hands over or stops,
		// raft refuses proposals and the server passes raft's error on
		// unmapped, as Unknown. Nothing was proposed.
		switch st.Message() {
		case "raft proposal dropped", "raft: stopped":
			return true
		}
	}
	return false
}

// sleep waits d, or returns false when ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
