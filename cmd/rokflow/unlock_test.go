package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/internal/etcdtest"
	"github.com/rokflow/rokflow/runtime/state"
)

// TestUnlockWarnsOfALiveEtcdHolder: an etcd lock's holder may run on
// another machine; unlock says that its lease is being kept alive, who and
// where it is, and what breaking does to its run, before it breaks it
// (with --force), or instead of breaking it (no --force, no terminal).
func TestUnlockWarnsOfALiveEtcdHolder(t *testing.T) {
	srv := etcdtest.Start(t)
	url := "etcd://" + srv.Endpoint + "/rokflow/unlock"
	dir := writePlaybook(t, "step \"a\" {\n  uses    = \"exec\"\n  command = [\"true\"]\n}\n")
	b, err := state.Open(t.Context(), url, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sess, err := b.Lock(t.Context(), state.Holder{User: "alice", Host: "ops-elsewhere", PID: 4242, Operation: "apply rok-v0.11"})
	if err != nil {
		t.Fatal(err)
	}
	warning := []string{"warning: the holder looks alive: its etcd lease", "is being kept alive", "on host ops-elsewhere, pid 4242 (apply rok-v0.11)", "can write nothing more to the journal"}

	code, _, stderr := run(t, nil, "unlock", dir, "--state", url)
	if code != 2 || !strings.Contains(stderr, "needs --force") {
		t.Fatalf("unlock without --force or a terminal: exit %d, want 2\n%s", code, stderr)
	}
	for _, w := range warning {
		if !strings.Contains(stderr, w) {
			t.Errorf("unlock without --force does not warn %q:\n%s", w, stderr)
		}
	}
	if h, err := b.Holder(t.Context()); err != nil || h == nil || h.PID != 4242 {
		t.Fatalf("the lock after a refused unlock: holder %+v, %v", h, err)
	}

	code, out, stderr := run(t, nil, "unlock", dir, "--state", url, "--force")
	if code != 0 || !strings.Contains(out, "The lock is broken.") {
		t.Fatalf("unlock --force: exit %d\n%s%s", code, out, stderr)
	}
	for _, w := range warning {
		if !strings.Contains(stderr, w) {
			t.Errorf("unlock --force does not warn %q on stderr:\n%s", w, stderr)
		}
	}
	select {
	case <-sess.Lost():
	case <-time.After(30 * time.Second):
		t.Fatal("the broken holder's session never learnt it lost the lock")
	}
	if err := sess.Append(t.Context(), state.Record{Kind: state.KindStep, Run: "r", Addr: "step.a", Status: state.Running}); !errors.Is(err, state.ErrLockLost) {
		t.Errorf("the broken holder could still write: %v", err)
	}
}
