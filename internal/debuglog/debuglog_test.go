package debuglog_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/internal/debuglog"
)

func TestFrom(t *testing.T) {
	ctx := context.Background()
	if debuglog.Enabled(ctx, slog.LevelError) {
		t.Error("a context without a logger logs")
	}
	debuglog.From(ctx).Error("nowhere") // must not panic
	if debuglog.With(ctx, nil) != ctx {
		t.Error("With(nil) made a new context")
	}
	var buf bytes.Buffer
	ctx = debuglog.With(ctx, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if debuglog.Enabled(ctx, slog.LevelDebug) || !debuglog.Enabled(ctx, slog.LevelInfo) {
		t.Error("Enabled does not follow the logger's level")
	}
	debuglog.From(ctx).Info("lock taken", "state", "file:///x")
	if !strings.Contains(buf.String(), `msg="lock taken" state=file:///x`) {
		t.Errorf("the context's logger did not write: %q", buf.String())
	}
}
