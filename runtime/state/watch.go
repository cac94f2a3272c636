package state

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// notifier coalesces notifications into a channel of one slot: a reader
// that is busy misses none, it reads everything at its next look.
type notifier chan struct{}

func newNotifier() notifier { n := make(notifier, 1); n.notify(); return n }

func (n notifier) notify() {
	select {
	case n <- struct{}{}:
	default:
	}
}

// memWatchers are the watches of a memStore, notified by Approve.
type memWatchers struct {
	mu sync.Mutex
	ws map[notifier]struct{}
}

func (b *memBackend) WatchApprovals(ctx context.Context) (<-chan struct{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n, out := newNotifier(), make(chan struct{}, 1)
	w := &b.st.watchers
	w.mu.Lock()
	if w.ws == nil {
		w.ws = map[notifier]struct{}{}
	}
	w.ws[n] = struct{}{}
	w.mu.Unlock()
	go func() {
		defer close(out)
		defer func() { w.mu.Lock(); delete(w.ws, n); w.mu.Unlock() }()
		forward(ctx, n, out)
	}()
	return out, nil
}

func (w *memWatchers) notify() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for n := range w.ws {
		n.notify()
	}
}

// forward passes the notifications of in to out until ctx ends.
func forward(ctx context.Context, in <-chan struct{}, out chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-in:
			if !ok {
				return
			}
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}
}

func (*memBackend) Identity() string { return "" }

// filePoll is how often the file backend looks at the approvals file when
// the system cannot tell it of changes (no inotify), and as a safety net
// when it can.
const filePoll = 250 * time.Millisecond

// WatchApprovals watches the state directory (inotify where there is one)
// and notifies when the approvals file changes; it also looks at the
// file's size and time every filePoll, which alone bounds the delay where
// inotify is missing.
func (b *fileBackend) WatchApprovals(ctx context.Context) (<-chan struct{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return nil, err
	}
	out := make(chan struct{}, 1)
	out <- struct{}{}
	changes, stop := watchDir(b.dir)
	apath := b.path(approvalsFile)
	// Read before returning: what is written after is a change.
	last := fileStamp(apath)
	go func() {
		defer close(out)
		defer stop()
		tick := time.NewTicker(filePoll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-changes:
			case <-tick.C:
			}
			if now := fileStamp(apath); now != last {
				last = now
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out, nil
}

// fileStamp is what tells that a file changed: its size and time.
func fileStamp(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d %d", fi.Size(), fi.ModTime().UnixNano())
}

func (*fileBackend) Identity() string { return "" }

// WatchApprovals watches the approvals prefix from the revision current
// when it is called, so that nothing recorded after it returns is missed.
// A watch that breaks (the server restarts, a leader is lost) is opened
// again from the revision after the last one seen.
func (b *etcdBackend) WatchApprovals(ctx context.Context) (<-chan struct{}, error) {
	var rev int64
	err := b.retry(ctx, func(ctx context.Context) error {
		resp, err := b.cli.Get(ctx, b.approvalsPrefix(), clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err == nil {
			rev = resp.Header.Revision
		}
		return err
	})
	if err != nil {
		return nil, b.wrap(err)
	}
	out := make(chan struct{}, 1)
	out <- struct{}{}
	go func() {
		defer close(out)
		for ctx.Err() == nil {
			wch := b.cli.Watch(clientv3.WithRequireLeader(ctx), b.approvalsPrefix(), clientv3.WithPrefix(), clientv3.WithRev(rev+1))
			for resp := range wch {
				if resp.Err() != nil {
					break
				}
				if resp.Header.Revision > rev {
					rev = resp.Header.Revision
				}
				if len(resp.Events) > 0 {
					select {
					case out <- struct{}{}:
					default:
					}
				}
			}
			if !sleep(ctx, 200*time.Millisecond) {
				return
			}
			// Approvals may have come while the watch was down.
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}()
	return out, nil
}

// Identity is the user name the client authenticates with, else the
// common name of its client certificate, which etcd takes as the user
// when it checks permissions.
func (b *etcdBackend) Identity() string {
	if b.cfg.opts.User != "" && b.cfg.opts.Password != "" {
		return b.cfg.opts.User
	}
	if b.cfg.opts.CertFile == "" {
		return ""
	}
	return certCN(b.cfg.opts.CertFile)
}

// certCN reads the common name of the first certificate in a PEM file, or
// "" when it has none.
func certCN(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			return ""
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return ""
		}
		return c.Subject.CommonName
	}
}
