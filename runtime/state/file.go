package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The files of a file backend's directory.
const (
	journalFile   = "journal.jsonl"
	approvalsFile = "approvals.jsonl"
	lockFile      = "lock"
	holderFile    = "holder.json"
)

// fileBackend keeps the journal in a directory on this machine.
type fileBackend struct {
	dir string // absolute

	mu       sync.Mutex
	sessions map[*fileSession]struct{} // taken through this handle and held
}

func openFile(dir string) (*fileBackend, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	return &fileBackend{dir: abs, sessions: map[*fileSession]struct{}{}}, nil
}

func (b *fileBackend) path(name string) string { return filepath.Join(b.dir, name) }

func (b *fileBackend) String() string { return "file://" + b.dir }

func (b *fileBackend) Lock(ctx context.Context, h Holder) (Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fillHolder(&h)
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return nil, err
	}
	lf, err := os.OpenFile(b.path(lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	id, err := fileKey(lf)
	if err != nil {
		lf.Close()
		return nil, err
	}
	ok, err := tryFlock(lf)
	if err != nil || !ok {
		lf.Close()
		if err != nil {
			return nil, err
		}
		return nil, &LockedError{Holder: b.lockedBy(id)}
	}
	s, err := b.begin(lf, id, h)
	if err != nil {
		lf.Close() // releases the flock
		return nil, err
	}
	return s, nil
}

// lockedBy says who holds the lock file id, as well as it can be known.
func (b *fileBackend) lockedBy(id fileID) Holder {
	if s := heldSession(id); s != nil {
		return s.holder
	}
	return holderFromLock(b.path(holderFile), lockPID(id))
}

// begin starts a session on a lock just taken: it repairs a torn tail,
// finds the next sequence number and says who holds the lock.
func (b *fileBackend) begin(lf *os.File, id fileID, h Holder) (*fileSession, error) {
	jpath := b.path(journalFile)
	_, statErr := os.Stat(jpath)
	jf, err := os.OpenFile(jpath, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		if err := syncDir(b.dir); err != nil {
			jf.Close()
			return nil, err
		}
	}
	data, err := os.ReadFile(jpath)
	if err != nil {
		jf.Close()
		return nil, err
	}
	recs, good, err := scanJournal(jpath, data)
	if err != nil {
		jf.Close()
		return nil, err
	}
	if good < int64(len(data)) {
		// A torn tail: the last holder died mid-write. What it holds was
		// never acknowledged, so it goes.
		if err := jf.Truncate(good); err == nil {
			err = jf.Sync()
		}
		if err != nil {
			jf.Close()
			return nil, fmt.Errorf("repair the torn end of %s: %w", jpath, err)
		}
	}
	if err := writeHolder(b.path(holderFile), h); err != nil {
		jf.Close()
		return nil, err
	}
	s := &fileSession{
		b:      b,
		holder: h,
		id:     id,
		lockf:  lf,
		jf:     jf,
		next:   uint64(len(recs)) + 1,
		lost:   make(chan struct{}),
	}
	registerHeld(id, s)
	b.mu.Lock()
	b.sessions[s] = struct{}{}
	b.mu.Unlock()
	s.c = startCommitter(0, 0, s.commit)
	return s, nil
}

func (b *fileBackend) Records(ctx context.Context) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	jpath := b.path(journalFile)
	data, err := readAll(jpath)
	if err != nil {
		return nil, err
	}
	recs, _, err := scanJournal(jpath, data)
	if err != nil {
		return nil, err
	}
	apath := b.path(approvalsFile)
	data, err = readAll(apath)
	if err != nil {
		return nil, err
	}
	approvals, err := scanApprovals(apath, data)
	if err != nil {
		return nil, err
	}
	return append(recs, approvals...), nil
}

func (b *fileBackend) Holder(ctx context.Context) (*Holder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lf, err := os.Open(b.path(lockFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	id, err := fileKey(lf)
	if err != nil {
		return nil, err
	}
	if s := heldSession(id); s != nil {
		h := s.holder
		return &h, nil
	}
	pid := lockPID(id)
	if pid == 0 {
		// /proc/locks is silent: ask the kernel by trying the lock (closing
		// lf releases it).
		free, err := tryFlock(lf)
		if err != nil {
			return nil, err
		}
		if free {
			return nil, nil
		}
	}
	h := holderFromLock(b.path(holderFile), pid)
	return &h, nil
}

// BreakLock removes the lock of a dead holder (whose flock the kernel has
// already released: only its stale holder.json remains) or of a session
// of this process, which is fenced. It refuses, with ErrHolderAlive, to
// break the lock of another live process: a flock cannot be taken from
// its holder, and a process that believes it holds the lock must be
// stopped, not merely unlocked.
func (b *fileBackend) BreakLock(ctx context.Context) (*Holder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hpath := b.path(holderFile)
	lf, err := os.Open(b.path(lockFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	id, err := fileKey(lf)
	if err != nil {
		return nil, err
	}
	free, err := tryFlock(lf)
	if err != nil {
		return nil, err
	}
	if free {
		h, _ := readHolder(hpath)
		if err := os.Remove(hpath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return h, err
		}
		return h, nil
	}
	if s := heldSession(id); s != nil {
		h := s.holder
		return &h, s.end()
	}
	pid := lockPID(id)
	h := holderFromLock(hpath, pid)
	who := "a live process"
	if pid != 0 {
		who = fmt.Sprintf("process %d", pid)
	}
	return &h, fmt.Errorf("%w: %s (%s) holds the lock on %s; stop that process, which releases its lock, instead of unlocking", ErrHolderAlive, who, h, b.dir)
}

func (b *fileBackend) Approve(ctx context.Context, r Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	enc, err := prepareApproval(&r, time.Now())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return err
	}
	apath := b.path(approvalsFile)
	_, statErr := os.Stat(apath)
	f, err := os.OpenFile(apath, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	// A writer that died mid-line left no newline: start a fresh line so
	// that this approval is not glued to the torn one.
	nl, err := endsWithNewline(f)
	if err != nil {
		return err
	}
	var line []byte
	if !nl {
		line = append(line, '\n')
	}
	// One write with O_APPEND: concurrent approvers never interleave.
	if _, err := f.Write(appendLine(line, enc)); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		return syncDir(b.dir)
	}
	return nil
}

// Close unlocks the sessions taken through this handle and still held.
func (b *fileBackend) Close() error {
	b.mu.Lock()
	var ss []*fileSession
	for s := range b.sessions {
		ss = append(ss, s)
	}
	b.mu.Unlock()
	var errs []error
	for _, s := range ss {
		errs = append(errs, s.end())
	}
	return errors.Join(errs...)
}
