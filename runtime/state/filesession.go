package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// fileSession holds the flock for its whole life: that is its fence. Its
// committer is the journal's only writer.
type fileSession struct {
	b      *fileBackend
	holder Holder
	id     fileID
	lockf  *os.File // holds the flock
	jf     *os.File // the journal, O_APPEND
	c      *committer
	lost   chan struct{}

	// Owned by the committer.
	next    uint64 // the next record's Seq
	broken  error  // a failed write or fsync: the session writes no more
	buf     []byte
	scratch []byte

	syncs atomic.Int64 // fsyncs done, so tests can see group commit work

	endOnce sync.Once
	endErr  error
}

func (s *fileSession) Append(ctx context.Context, recs ...Record) error {
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

// commit writes a batch with one write and one fsync.
func (s *fileSession) commit(batch []*appendReq) error {
	if s.broken != nil {
		return fmt.Errorf("journal %s: an earlier write failed (%v); nothing more is written until the lock is taken again, which repairs the journal", s.jf.Name(), s.broken)
	}
	buf := s.buf[:0]
	seq := s.next
	for _, r := range batch {
		r.first = seq
		for _, enc := range r.enc {
			s.scratch = withSeq(s.scratch[:0], enc, seq)
			buf = appendLine(buf, s.scratch)
			seq++
		}
	}
	if cap(buf) <= 1<<20 {
		s.buf = buf
	}
	_, err := s.jf.Write(buf)
	if err == nil {
		err = s.jf.Sync()
		s.syncs.Add(1)
	}
	if err != nil {
		// After a failed write or fsync the file's end is unknown (and a
		// retried fsync may report success for lost pages): stop writing.
		s.broken = err
		return fmt.Errorf("journal %s: %w", s.jf.Name(), err)
	}
	s.next = seq
	return nil
}

func (s *fileSession) Lost() <-chan struct{} { return s.lost }

func (s *fileSession) Unlock(ctx context.Context) error {
	return s.end()
}

// end fences the session, lets a commit in flight finish, and releases
// the lock: holder.json goes first, so that it never names a successor.
// Only the first call does anything.
func (s *fileSession) end() error {
	err := ErrLockLost
	s.endOnce.Do(func() {
		close(s.lost)
		s.c.stop()
		unregisterHeld(s.id, s)
		s.b.mu.Lock()
		delete(s.b.sessions, s)
		s.b.mu.Unlock()
		var errs []error
		if err := os.Remove(s.b.path(holderFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		errs = append(errs, s.jf.Close(), s.lockf.Close())
		err = errors.Join(errs...)
	})
	if err == ErrLockLost {
		return nil // ended before
	}
	return err
}
