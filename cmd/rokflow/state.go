package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/rokflow/rokflow/internal/debuglog"
	"github.com/rokflow/rokflow/internal/posixsh"
	"github.com/rokflow/rokflow/runtime/state"
)

// StateFlags say where a run's journal and lock live.
type StateFlags struct {
	State         string `help:"Where the journal and lock live: file://DIR (default .rokflow beside the playbook) or etcd://HOST:PORT[,HOST:PORT…]/PREFIX." placeholder:"URL"`
	StateCA       string `help:"CA certificate for an etcd state backend." name:"state-ca" type:"path" placeholder:"FILE"`
	StateCert     string `help:"Client certificate for an etcd state backend." name:"state-cert" type:"path" placeholder:"FILE"`
	StateKey      string `help:"Client key for an etcd state backend." name:"state-key" type:"path" placeholder:"FILE"`
	StateUser     string `help:"User for an etcd state backend; the password comes from ROKFLOW_STATE_PASSWORD." name:"state-user"`
	StateDialTime string `help:"How long to wait for the state backend." name:"state-timeout" default:"10s"`
}

// hint renders the flags that name the state backend, for the commands
// apply suggests (approve, resolve, state show): the backend must be the
// one the run used. The password never appears on a command line.
func (f StateFlags) hint() string {
	var b strings.Builder
	for _, fl := range []struct{ name, v string }{
		{"--state", f.State}, {"--state-ca", f.StateCA}, {"--state-cert", f.StateCert},
		{"--state-key", f.StateKey}, {"--state-user", f.StateUser},
	} {
		if fl.v != "" {
			b.WriteString(" " + fl.name + " " + posixsh.Word(fl.v))
		}
	}
	return b.String()
}

// backend opens the state backend for a playbook directory.
func (a *App) backend(ctx context.Context, f StateFlags, playbookDir string) (state.Backend, error) {
	url := f.State
	if url == "" {
		url = "file://" + filepath.Join(playbookDir, ".rokflow")
	}
	timeout, err := time.ParseDuration(f.StateDialTime)
	if err != nil {
		return nil, usageError("--state-timeout: %s", err)
	}
	start := time.Now()
	b, err := state.Open(ctx, url, state.Options{
		CAFile:      f.StateCA,
		CertFile:    f.StateCert,
		KeyFile:     f.StateKey,
		User:        f.StateUser,
		Password:    a.Getenv("ROKFLOW_STATE_PASSWORD"),
		DialTimeout: timeout,
	})
	log := debuglog.From(ctx)
	if err != nil {
		log.Warn("state not opened", "state", redactURL(url), "error", err.Error())
		return nil, &exitError{code: exitFailed, msg: fmt.Sprintf("cannot open the state at %s: %s", redactURL(url), err)}
	}
	if !log.Enabled(ctx, slog.LevelError) {
		return b, nil
	}
	log.Info("state opened", "state", b.String(), "elapsed", time.Since(start))
	return state.Logged(b, log), nil
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j > 0 && j < i {
			return u[:j+3] + "…@" + u[i+1:]
		}
	}
	return u
}

// holder describes this process for the lock and the journal.
func holder(op string) state.Holder {
	h := state.Holder{PID: os.Getpid(), Since: time.Now().UTC(), Operation: op}
	if u, err := user.Current(); err == nil {
		h.User = u.Username
	}
	if host, err := os.Hostname(); err == nil {
		h.Host = host
	}
	h.ID = fmt.Sprintf("%s@%s:%d:%d", h.User, h.Host, h.PID, h.Since.UnixNano())
	return h
}

// identity is who approves, and who runs an apply, for the count of a
// gate's approvals: the user the state backend authenticates as (an etcd
// user or client certificate), else the holder's user@host.
func identity(b state.Backend, h state.Holder) string {
	if id := b.Identity(); id != "" {
		return id
	}
	if h.Host == "" {
		return h.User
	}
	return h.User + "@" + h.Host
}
