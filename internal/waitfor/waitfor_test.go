package waitfor

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestConditionReturnsOnceItHolds(t *testing.T) {
	var n atomic.Int64
	go func() {
		for range 5 {
			time.Sleep(time.Millisecond)
			n.Add(1)
		}
	}()
	Condition(t, 10*time.Second, "five increments", func() bool { return n.Load() == 5 })
}

func TestConditionChecksFirstWithoutWaiting(t *testing.T) {
	calls := 0
	start := time.Now()
	Condition(t, time.Hour, "nothing", func() bool { calls++; return true })
	if calls != 1 || time.Since(start) >= Interval {
		t.Errorf("%d calls in %v, want 1 without a wait", calls, time.Since(start))
	}
}

// recorder is a testing.TB that records a failure instead of ending the
// test, so the timeout itself can be checked.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = format
	if len(args) == 1 {
		r.msg = "timed out waiting for " + args[0].(string)
	}
}

func TestConditionFailsAfterDeadline(t *testing.T) {
	r := &recorder{TB: t}
	start := time.Now()
	calls := 0
	// The recorder does not stop the loop as Fatalf would; the condition
	// holds once it has failed, to end it.
	Condition(r, 30*time.Millisecond, "the impossible", func() bool { calls++; return r.msg != "" })
	if r.msg != "timed out waiting for the impossible" {
		t.Errorf("failure %q", r.msg)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("failed after %v, before the deadline", d)
	}
	if calls < 2 {
		t.Errorf("cond called %d times, want it polled", calls)
	}
}
