package runtime

import (
	"context"
	"io/fs"
	"sync"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
)

// lazyHost connects to its target on first use and again after a failed
// attempt, so a kind that polls a host (a gate's completion check, wait)
// keeps polling while the host reboots instead of failing at the start.
type lazyHost struct {
	ctx     context.Context
	target  string
	conn    cty.Value
	resolve HostResolver

	mu   sync.Mutex
	host steps.Host
}

var _ steps.Host = (*lazyHost)(nil)

func (h *lazyHost) get(ctx context.Context) (steps.Host, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.host != nil {
		return h.host, nil
	}
	host, err := h.resolve(ctx, h.target, h.conn)
	if err != nil {
		return nil, err
	}
	h.host = host
	return host, nil
}

func (h *lazyHost) Name() string { return h.target }

func (h *lazyHost) Exec(ctx context.Context, cmd steps.Command) (steps.ExecResult, error) {
	host, err := h.get(ctx)
	if err != nil {
		return steps.ExecResult{}, err
	}
	return host.Exec(ctx, cmd)
}

func (h *lazyHost) ReadFile(ctx context.Context, path string) ([]byte, fs.FileMode, error) {
	host, err := h.get(ctx)
	if err != nil {
		return nil, 0, err
	}
	return host.ReadFile(ctx, path)
}

func (h *lazyHost) WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error {
	host, err := h.get(ctx)
	if err != nil {
		return err
	}
	return host.WriteFile(ctx, path, data, mode)
}

func (h *lazyHost) Glob(ctx context.Context, pattern string) ([]string, error) {
	host, err := h.get(ctx)
	if err != nil {
		return nil, err
	}
	return host.Glob(ctx, pattern)
}
