// Package debuglog carries rokflow's debug log (ROKFLOW_LOG) from the
// command line to the engine through a context, so that the runtime,
// the state backends and the transports can say what they do without
// printing and without a logger in every signature. It owns nothing else:
// where the log goes and at which level is the CLI's decision.
//
// What is logged is addresses, names and durations, never the value of
// an argument, an input or a step's output: those may be secrets.
package debuglog

import (
	"context"
	"log/slog"
)

type key struct{}

// discard is the logger of a context that carries none.
var discard = slog.New(slog.DiscardHandler)

// With returns ctx carrying l.
func With(ctx context.Context, l *slog.Logger) context.Context {
	if l == nil {
		return ctx
	}
	return context.WithValue(ctx, key{}, l)
}

// From returns the logger ctx carries, or one that writes nothing.
func From(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(key{}).(*slog.Logger); ok {
		return l
	}
	return discard
}

// Enabled reports whether ctx's logger writes anything at level, so that
// callers skip building what would not be written.
func Enabled(ctx context.Context, level slog.Level) bool {
	return From(ctx).Enabled(ctx, level)
}
