package state

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func testLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestLoggedLock: the lock taken, refused and released, each once, and
// the backend's answers unchanged.
func TestLoggedLock(t *testing.T) {
	url := "file://" + t.TempDir()
	var log bytes.Buffer
	first := Holder{ID: "alice@ops1:4242:1", User: "alice", Host: "ops1", PID: 4242, Operation: "apply"}
	second := Holder{ID: "bob@ops2:4343:1", User: "bob", Host: "ops2", PID: 4343, Operation: "resolve"}
	b := Logged(open(t, url, Options{}), testLogger(&log))
	s := lock(t, b, first)
	other := Logged(open(t, url, Options{}), testLogger(&log))
	var le *LockedError
	if _, err := other.Lock(t.Context(), second); !errors.As(err, &le) {
		t.Fatalf("a second Lock through the wrapper: %v, want a *LockedError", err)
	}
	for range 2 {
		if err := s.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	got := log.String()
	for msg, n := range map[string]int{`msg="lock taken"`: 1, `msg="lock refused"`: 1, `msg="lock released"`: 1} {
		if c := strings.Count(got, msg); c != n {
			t.Errorf("%s logged %d times, want %d:\n%s", msg, c, n, got)
		}
	}
	if !strings.Contains(got, "holder="+first.ID) || !strings.Contains(got, "state="+url) {
		t.Errorf("the log does not name the holder and the state:\n%s", got)
	}
}

// TestLoggedHolderLease: unlock still reads an etcd holder's lease
// through the wrapper.
func TestLoggedHolderLease(t *testing.T) {
	ep := sharedEtcd(t)
	var log bytes.Buffer
	b := Logged(open(t, etcdURL(ep, uniquePrefix(t)), Options{}), testLogger(&log))
	s := lock(t, b, alice)
	defer s.Unlock(t.Context())
	l, err := HolderLease(t.Context(), b)
	if err != nil || l == nil || !l.KeptAlive() {
		t.Fatalf("HolderLease through the wrapper = %+v, %v; want the holder's live lease", l, err)
	}
	if _, err := fmt.Sscanf(l.ID, "%x", new(int64)); err != nil {
		t.Errorf("lease id %q: %v", l.ID, err)
	}
}
