package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
)

// TestApplyProgressGolden: what an operator reads while the shipped v0.11
// playbook upgrades a simulated appliance cluster, and the recap at the
// end. One step at a time, so the order is the plan's; times and the run
// id are masked.
func TestApplyProgressGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole upgrade")
	}
	e := startSim(t, sim.Spec{Nodes: 3, AutoOperator: true, OperatorDelay: sim.Duration(50 * time.Millisecond)})
	code, out, stderr := e.apply(shipped, "--parallelism", "1")
	if code != 0 {
		t.Fatalf("apply exited %d:\n%s\n%s", code, lastLines(out, 40), stderr)
	}
	golden(t, "apply-rok-v0.11-appliance.txt", maskProgress(out))
}

var (
	progressRunID    = regexp.MustCompile(`\d{8}T\d{6}(\.\d+)?Z`)
	progressDuration = regexp.MustCompile(`\b\d+(\.\d+)?(h|ms|µs|ns|m|s)(\d+(\.\d+)?(m|s|ms))*\b`)
	progressAt       = regexp.MustCompile(`(?m)^ *T `)
)

// maskProgress replaces what changes from run to run: the run id and the
// durations (the column of times since the start is kept aligned).
func maskProgress(s string) string {
	s = progressRunID.ReplaceAllString(s, "RUN")
	s = progressDuration.ReplaceAllString(s, "T")
	s = progressAt.ReplaceAllString(s, "      T ")
	return strings.TrimRight(s, " ")
}
