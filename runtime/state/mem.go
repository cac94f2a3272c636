package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"time"
)

// memStore is a journal in memory: no durability, the same semantics as
// the durable backends, fencing included.
type memStore struct {
	mu        sync.Mutex
	recs      []*Record // pointers: a long journal grows without copying records
	approvals []Record
	holder    *Holder
	session   *memSession // the lock's session, or nil
	watchers  memWatchers
}

// named holds the stores of "mem://NAME" URLs, so that two Opens of one
// name in a process (an apply and an approve in a CLI test) share a
// journal. It only grows; it is for tests.
var named struct {
	sync.Mutex
	stores map[string]*memStore
}

func openMemory(name string) *memBackend {
	if name == "" {
		return &memBackend{url: "mem://", st: &memStore{}}
	}
	named.Lock()
	defer named.Unlock()
	if named.stores == nil {
		named.stores = map[string]*memStore{}
	}
	st := named.stores[name]
	if st == nil {
		st = &memStore{}
		named.stores[name] = st
	}
	return &memBackend{url: "mem://" + name, st: st}
}

// memBackend is a handle on a memStore.
type memBackend struct {
	url string
	st  *memStore
}

func (b *memBackend) Lock(ctx context.Context, h Holder) (Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fillHolder(&h)
	st := b.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.holder != nil {
		return nil, &LockedError{Holder: *st.holder}
	}
	s := &memSession{st: st, from: b, lost: make(chan struct{})}
	st.holder, st.session = &h, s
	return s, nil
}

func (b *memBackend) Records(ctx context.Context) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := b.st
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]Record, 0, len(st.recs)+len(st.approvals))
	for _, r := range st.recs {
		out = append(out, clone(*r))
	}
	for _, r := range st.approvals {
		out = append(out, clone(r))
	}
	return out, nil
}

func (b *memBackend) Holder(ctx context.Context) (*Holder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.st.mu.Lock()
	defer b.st.mu.Unlock()
	if b.st.holder == nil {
		return nil, nil
	}
	h := *b.st.holder
	return &h, nil
}

func (b *memBackend) BreakLock(ctx context.Context) (*Holder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := b.st
	st.mu.Lock()
	defer st.mu.Unlock()
	h := st.holder
	if st.session != nil {
		st.session.loseLocked()
	}
	st.holder, st.session = nil, nil
	return h, nil
}

func (b *memBackend) Approve(ctx context.Context, r Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := prepareApproval(&r, time.Now()); err != nil {
		return err
	}
	b.st.mu.Lock()
	defer b.st.mu.Unlock()
	b.st.approvals = append(b.st.approvals, clone(r))
	b.st.watchers.notify()
	return nil
}

// Close unlocks a session taken through this handle and still held. A
// named store outlives its handles.
func (b *memBackend) Close() error {
	b.st.mu.Lock()
	s := b.st.session
	b.st.mu.Unlock()
	if s != nil && s.from == b {
		return s.Unlock(context.Background())
	}
	return nil
}

func (b *memBackend) String() string { return b.url }

// memSession holds a memStore's lock.
type memSession struct {
	st       *memStore
	from     *memBackend // the handle that took the lock
	lost     chan struct{}
	lostOnce sync.Once
	gone     bool // guarded by st.mu
}

func (s *memSession) Append(ctx context.Context, recs ...Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validate(recs, time.Now()); err != nil {
		return err
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.gone {
		return ErrLockLost
	}
	for i := range recs {
		recs[i].Seq = uint64(len(st.recs)) + 1
		r := clone(recs[i])
		st.recs = append(st.recs, &r)
	}
	return nil
}

func (s *memSession) Lost() <-chan struct{} { return s.lost }

func (s *memSession) Unlock(ctx context.Context) error {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.session == s {
		st.holder, st.session = nil, nil
	}
	s.loseLocked()
	return nil
}

// loseLocked fences the session; st.mu is held.
func (s *memSession) loseLocked() {
	s.gone = true
	s.lostOnce.Do(func() { close(s.lost) })
}

// fillHolder gives a holder the ID and Since that Lock promises, and this
// process's pid and host when the caller left them out.
func fillHolder(h *Holder) {
	if h.PID == 0 {
		h.PID = os.Getpid()
	}
	if h.Host == "" {
		h.Host, _ = os.Hostname()
	}
	if h.ID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		h.ID = hex.EncodeToString(b[:])
	}
	if h.Since.IsZero() {
		h.Since = time.Now()
	}
}
