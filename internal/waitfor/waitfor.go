// Package waitfor lets a test wait for a side effect it cannot be told
// about (a process that ends, a log line, a connection a server counts) by
// polling a condition until a deadline, instead of sleeping for a time that
// is too long on a quiet machine and too short on a busy one.
//
// It is for tests only; nothing in rokflow itself polls with it.
package waitfor

import (
	"testing"
	"time"
)

// Interval is how often Condition polls.
const Interval = 10 * time.Millisecond

// Condition polls cond every Interval until it holds and fails t with
// "timed out waiting for <what>" when it still does not hold after within.
// cond is called at least once, first without waiting.
func Condition(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(Interval)
	}
}
