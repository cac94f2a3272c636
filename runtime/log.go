package runtime

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/rokflow/rokflow/internal/debuglog"
)

// logHook returns hook with every event also written to the debug log
// ctx carries (internal/debuglog), or hook itself when that log writes
// nothing. The log says which instance did what, where, and for how long;
// it leaves out events' lines, summaries and errors, which may quote a
// step's arguments.
func logHook(ctx context.Context, hook Hook) Hook {
	if !debuglog.Enabled(ctx, slog.LevelError) {
		return hook
	}
	return &loggingHook{Hook: hook, ctx: ctx, log: debuglog.From(ctx), started: map[string]time.Time{}}
}

type loggingHook struct {
	Hook
	ctx     context.Context
	log     *slog.Logger
	mu      sync.Mutex
	started map[string]time.Time
}

// Event logs ev, then passes it on.
func (h *loggingHook) Event(ev Event) {
	h.logEvent(ev)
	h.Hook.Event(ev)
}

func (h *loggingHook) logEvent(ev Event) {
	level := slog.LevelDebug
	attrs := []slog.Attr{}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("run", ev.Run)
	add("address", ev.Addr)
	add("kind", ev.Kind)
	add("target", ev.Target)
	add("status", ev.Status)
	if ev.Attempt > 0 {
		attrs = append(attrs, slog.Int("attempt", ev.Attempt))
	}
	switch ev.Type {
	case EventStepOutput:
		return // the lines are the step's own; the view shows them
	case EventStepStart:
		h.mu.Lock()
		h.started[ev.Addr] = ev.Time
		h.mu.Unlock()
	case EventStepEnd:
		h.mu.Lock()
		start, ok := h.started[ev.Addr]
		if ev.Status != "retrying" {
			delete(h.started, ev.Addr)
		}
		h.mu.Unlock()
		elapsed := ev.Elapsed
		if elapsed == 0 && ok && !ev.Time.IsZero() {
			elapsed = ev.Time.Sub(start)
		}
		if elapsed > 0 {
			attrs = append(attrs, slog.Duration("elapsed", elapsed))
		}
	case EventOutputWithheld:
		attrs = append(attrs, slog.Int("lines", ev.Lines))
	case EventBatchStart:
		add("group", ev.Group)
		attrs = append(attrs, slog.Int("batch", ev.Batch))
	case EventRunEnd:
		for status, n := range ev.Counts {
			attrs = append(attrs, slog.Int(status, n))
		}
		level = slog.LevelInfo
	case EventRunStart, EventGateWait, EventStopping:
		level = slog.LevelInfo
	case EventInDoubt, EventUndoUnmet:
		level = slog.LevelWarn
	}
	h.log.LogAttrs(h.ctx, level, string(ev.Type), attrs...)
}
