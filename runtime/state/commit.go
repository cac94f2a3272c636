package state

import (
	"context"
	"runtime"
	"sync"
)

// appendReq is one Append waiting for the committer.
type appendReq struct {
	enc   [][]byte   // the records, encoded with Seq 0 (see prepare)
	first uint64     // set by the commit: the Seq of enc[0]
	done  chan error // buffered; receives the batch's outcome
}

// size is the request's encoded size.
func (r *appendReq) size() int {
	n := 0
	for _, e := range r.enc {
		n += len(e)
	}
	return n
}

// committer group-commits Appends: one goroutine takes every request that
// is waiting, writes them with one commit (one write and fsync, or one
// transaction), and answers them all. While a commit is in flight new
// requests queue, so the batch grows with the load and an idle journal
// still commits a lone record at once.
//
// The committer is the only writer of its session, so the sequence
// numbers it hands out need no lock.
type committer struct {
	commit   func(batch []*appendReq) error
	maxRecs  int // most records in one commit; 0 means no limit
	maxBytes int // most encoded bytes in one commit; 0 means no limit

	reqs   chan *appendReq // unbuffered: a request is either taken or not
	quit   chan struct{}
	exited chan struct{}
	once   sync.Once
}

// startCommitter starts a committer whose batches hold at most maxRecs
// records and maxBytes bytes (0: no limit), except that one request is
// never split.
func startCommitter(maxRecs, maxBytes int, commit func([]*appendReq) error) *committer {
	c := &committer{
		commit:   commit,
		maxRecs:  maxRecs,
		maxBytes: maxBytes,
		reqs:     make(chan *appendReq),
		quit:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
	go c.run()
	return c
}

// submit hands encoded records to the committer and waits for the outcome.
// It gives up early only while the request has not been taken: once taken,
// the outcome is waited for, so a caller never leaves a write whose fate it
// does not know. The session bounds how long a commit can take.
func (c *committer) submit(ctx context.Context, enc [][]byte) (first uint64, err error) {
	req := &appendReq{enc: enc, done: make(chan error, 1)}
	select {
	case c.reqs <- req:
	case <-c.quit:
		return 0, ErrLockLost
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if err := <-req.done; err != nil {
		return 0, err
	}
	return req.first, nil
}

// stop makes later submits fail with ErrLockLost, lets a commit in flight
// finish, and returns when the committer has exited.
func (c *committer) stop() {
	c.once.Do(func() { close(c.quit) })
	<-c.exited
}

func (c *committer) run() {
	defer close(c.exited)
	var carry *appendReq // taken, but did not fit the last batch
	wide := false        // the last batch served more than one writer
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-c.reqs:
			case <-c.quit:
				return
			}
		}
		batch := []*appendReq{first}
		n, size := len(first.enc), first.size()
		// Under load the writers just answered are still waking up: give
		// them a moment to queue, so that one commit serves them all. A
		// lone writer pays nothing for this.
		yields := 0
		if wide {
			yields = 3
		}
	drain:
		for {
			select {
			case r := <-c.reqs:
				if (c.maxRecs > 0 && n+len(r.enc) > c.maxRecs) || (c.maxBytes > 0 && size+r.size() > c.maxBytes) {
					carry = r
					break drain
				}
				batch = append(batch, r)
				n, size = n+len(r.enc), size+r.size()
			default:
				if yields == 0 {
					break drain
				}
				yields--
				runtime.Gosched()
			}
		}
		wide = len(batch) > 1
		var err error
		select {
		case <-c.quit:
			// Unlock has begun: nothing more is written under this lock.
			err = ErrLockLost
		default:
			err = c.commit(batch)
		}
		for _, r := range batch {
			r.done <- err
		}
	}
}
