package state

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Logged returns b with what happens to its run lock written to log: the
// lock taken (and how long that took), refused, released (and how long
// it was held) and broken. The journal's records are not logged: apply's
// events say the same, and outputs may be secrets.
func Logged(b Backend, log *slog.Logger) Backend {
	return &loggedBackend{Backend: b, log: log}
}

type loggedBackend struct {
	Backend
	log *slog.Logger
}

// Lock takes the lock and logs the outcome.
func (b *loggedBackend) Lock(ctx context.Context, h Holder) (Session, error) {
	start := time.Now()
	s, err := b.Backend.Lock(ctx, h)
	if err != nil {
		b.log.LogAttrs(ctx, slog.LevelInfo, "lock refused", slog.String("state", b.String()), slog.String("operation", h.Operation), slog.String("error", err.Error()))
		return nil, err
	}
	b.log.LogAttrs(ctx, slog.LevelInfo, "lock taken", slog.String("state", b.String()), slog.String("operation", h.Operation),
		slog.String("holder", h.ID), slog.Duration("elapsed", time.Since(start)))
	return &loggedSession{Session: s, log: b.log, state: b.String(), taken: time.Now()}, nil
}

// BreakLock breaks the lock and logs whose it was.
func (b *loggedBackend) BreakLock(ctx context.Context) (*Holder, error) {
	h, err := b.Backend.BreakLock(ctx)
	switch {
	case err != nil:
		b.log.LogAttrs(ctx, slog.LevelInfo, "lock not broken", slog.String("state", b.String()), slog.String("error", err.Error()))
	case h != nil:
		b.log.LogAttrs(ctx, slog.LevelWarn, "lock broken", slog.String("state", b.String()), slog.String("holder", h.ID), slog.String("operation", h.Operation))
	}
	return h, err
}

// holderLease answers HolderLease for the backend it wraps.
func (b *loggedBackend) holderLease(ctx context.Context) (*Lease, error) {
	return HolderLease(ctx, b.Backend)
}

type loggedSession struct {
	Session
	log   *slog.Logger
	state string
	taken time.Time
	once  sync.Once
}

// Unlock releases the lock and logs how long it was held, once.
func (s *loggedSession) Unlock(ctx context.Context) error {
	err := s.Session.Unlock(ctx)
	s.once.Do(func() {
		attrs := []slog.Attr{slog.String("state", s.state), slog.Duration("held", time.Since(s.taken))}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "lock released", attrs...)
	})
	return err
}
