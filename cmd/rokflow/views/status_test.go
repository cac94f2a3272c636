package views

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/runtime"
)

// fakeClock is a clock a test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestStatus(live bool) (*Status, *bytes.Buffer, *fakeClock) {
	var out bytes.Buffer
	clk := &fakeClock{t: time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)}
	st := NewStatus(&out, NewProgress(&out, false), false, live)
	st.Now = clk.now
	st.ApproveHint = func(addr string) string { return "rokflow approve pb " + addr }
	return st, &out, clk
}

const swap = "module.master.step.swap_boot_disk"

func startGate(st *Status, clk *fakeClock) {
	st.Event(runtime.Event{Time: clk.t, Type: runtime.EventRunStart, Run: "r1"})
	st.Event(runtime.Event{Time: clk.t, Type: runtime.EventStepStart, Addr: "step.upgrade", Kind: "exec", Target: "rok2.sim"})
	st.Event(runtime.Event{Time: clk.t, Type: runtime.EventStepStart, Addr: swap, Kind: "manual", Target: "rok1.sim",
		Summary: "gate: wait for an operator", Instructions: "Power off rok1.sim, replace its BOOT disk, power it on."})
}

// TestStatusAreaShowsRunningStepsAndGate: the area names what runs on
// each node and for how long, and the gate with its instructions, its
// check's last result and how to approve it.
func TestStatusAreaShowsRunningStepsAndGate(t *testing.T) {
	st, _, clk := newTestStatus(true)
	startGate(st, clk)
	clk.t = clk.t.Add(75 * time.Second)
	st.Event(runtime.Event{Time: clk.t, Type: runtime.EventStepOutput, Addr: swap, Line: "0.10.2-1"})
	got := strings.Join(st.lines(), "\n")
	for _, want := range []string{
		"  rok2.sim  step.upgrade  1m15s",
		"  rok1.sim  " + swap + "  gate, 1m15s",
		"  ⏸ gate " + swap + " on rok1.sim waits (1m15s)",
		"      Power off rok1.sim, replace its BOOT disk, power it on.",
		"      last check: 0.10.2-1",
		"      approve it from another terminal:\n        rokflow approve pb " + swap,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the area lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "has not come back") {
		t.Errorf("a node that answers is said not to come back:\n%s", got)
	}
	// A finished step leaves the area; the run's end empties it.
	st.Event(runtime.Event{Time: clk.t, Type: runtime.EventStepEnd, Addr: "step.upgrade", Target: "rok2.sim", Status: "succeeded"})
	if got := strings.Join(st.lines(), "\n"); strings.Contains(got, "step.upgrade") {
		t.Errorf("a finished step stays in the area:\n%s", got)
	}
	st.Event(runtime.Event{Time: clk.t, Type: runtime.EventRunEnd, Run: "r1", Status: "stopped"})
	if got := st.lines(); got != nil {
		t.Errorf("the area after the run's end: %q", got)
	}
}

// TestStatusAreaNodeNotBack: a gate whose check cannot reach its node says
// so once that lasted NotBack, counted from the first such attempt; an
// attempt that reaches the node again takes it back.
func TestStatusAreaNodeNotBack(t *testing.T) {
	st, _, clk := newTestStatus(true)
	st.NotBack = 2 * time.Minute
	startGate(st, clk)
	clk.t = clk.t.Add(30 * time.Second)
	down := runtime.Event{Type: runtime.EventStepOutput, Addr: swap, Line: "could not run: ssh: rok1.sim: connection refused"}
	down.Time = clk.t
	st.Event(down)
	clk.t = clk.t.Add(time.Minute)
	down.Time = clk.t
	st.Event(down)
	if got := strings.Join(st.lines(), "\n"); strings.Contains(got, "has not come back") {
		t.Errorf("said after a minute down:\n%s", got)
	}
	clk.t = clk.t.Add(70 * time.Second)
	if got := strings.Join(st.lines(), "\n"); !strings.Contains(got, "rok1.sim has not come back for 2m10s") {
		t.Errorf("not said after 2m10s down:\n%s", got)
	}
	st.Event(runtime.Event{Time: clk.t, Type: runtime.EventStepOutput, Addr: swap, Line: "0.10.2-1"})
	if got := strings.Join(st.lines(), "\n"); strings.Contains(got, "has not come back") {
		t.Errorf("still said once the node answers:\n%s", got)
	}
}

// TestStatusAreaRedrawsInPlace: each redraw first erases the lines drawn
// before (up as many lines, clear below), lines are cut to the terminal's
// width, and a suspended area is neither drawn nor erased.
func TestStatusAreaRedrawsInPlace(t *testing.T) {
	st, out, clk := newTestStatus(true)
	st.Width = func() int { return 40 }
	startGate(st, clk)
	n := len(st.lines())
	out.Reset()
	st.Refresh()
	s := out.String()
	if !strings.HasPrefix(s, "\r\x1b["+strconv.Itoa(n)+"A\x1b[J") {
		t.Fatalf("a redraw does not erase the %d lines drawn: %q", n, s)
	}
	for _, l := range strings.Split(strings.TrimSuffix(s[strings.Index(s, "J")+1:], "\n"), "\n") {
		if r := []rune(l); len(r) > 39 {
			t.Errorf("line of %d runes on a 40-column terminal: %q", len(r), l)
		}
	}
	resume := st.Suspend()
	out.Reset()
	st.Refresh()
	st.Event(runtime.Event{Time: clk.t, Type: runtime.EventStepEnd, Addr: "step.upgrade", Target: "rok2.sim", Status: "succeeded", Elapsed: time.Second})
	if s := out.String(); strings.Contains(s, "\x1b[") || strings.Contains(s, "── now") {
		t.Errorf("a suspended area is drawn: %q", s)
	}
	if !strings.Contains(out.String(), "✓ step.upgrade") {
		t.Errorf("finished lines stop while suspended: %q", out.String())
	}
	resume()
	if !strings.Contains(out.String(), "── now") {
		t.Errorf("resume does not draw the area again: %q", out.String())
	}
	st.Close()
	out.Reset()
	st.Refresh()
	if out.Len() != 0 {
		t.Errorf("drawn after Close: %q", out.String())
	}
}

// TestStatusPipedNotesLongWaits: piped, nothing is redrawn, and a gate
// that waits is noted at most once a minute.
func TestStatusPipedNotesLongWaits(t *testing.T) {
	st, out, clk := newTestStatus(false)
	startGate(st, clk)
	if strings.Contains(out.String(), "\x1b[") || strings.Contains(out.String(), "── now") {
		t.Fatalf("piped output has an area: %q", out.String())
	}
	clk.t = clk.t.Add(30 * time.Second)
	st.Refresh()
	if strings.Contains(out.String(), "still waiting") {
		t.Fatalf("noted after 30s: %q", out.String())
	}
	clk.t = clk.t.Add(35 * time.Second)
	st.Refresh()
	st.Refresh()
	if got := strings.Count(out.String(), "still waiting at gate "+swap+" (1m05s)"); got != 1 {
		t.Fatalf("%d notes after 1m05s:\n%s", got, out.String())
	}
	clk.t = clk.t.Add(5 * time.Minute)
	st.Refresh()
	if !strings.Contains(out.String(), "still waiting at gate "+swap+" (6m05s)") {
		t.Fatalf("no note after 6m05s:\n%s", out.String())
	}
}

// TestStatusRedrawsWhileEventsCome: redraws by the ticker and events from
// the executor share the area safely (go test -race), and Close ends
// both: nothing is written after it.
func TestStatusRedrawsWhileEventsCome(t *testing.T) {
	st, out, clk := newTestStatus(true)
	st.Tick = time.Millisecond
	st.Start()
	startGate(st, clk)
	for i := range 50 {
		st.Event(runtime.Event{Time: clk.t, Type: runtime.EventStepOutput, Addr: swap, Line: "attempt " + strconv.Itoa(i)})
	}
	st.Close()
	st.Close()
	n := out.Len()
	st.Refresh()
	if out.Len() != n {
		t.Errorf("written after Close: %q", out.String()[n:])
	}
}

// TestStatusAreaAfterNarrowing: once the terminal is made narrower, the
// lines drawn before wrap; the next redraw erases every row they take.
func TestStatusAreaAfterNarrowing(t *testing.T) {
	st, out, clk := newTestStatus(true)
	width := 40
	st.Width = func() int { return width }
	startGate(st, clk)
	out.Reset()
	st.Refresh() // the area alone, as drawn at 40 columns
	drawn := strings.Split(strings.TrimSuffix(out.String()[strings.Index(out.String(), "J")+1:], "\n"), "\n")
	width = 20
	rows := 0
	for _, l := range drawn {
		rows += (len([]rune(l)) + width - 1) / width
	}
	if rows <= len(drawn) {
		t.Fatalf("the test needs lines that wrap at %d columns: %q", width, drawn)
	}
	out.Reset()
	st.Refresh()
	if want := "\r\x1b[" + strconv.Itoa(rows) + "A\x1b[J"; !strings.HasPrefix(out.String(), want) {
		t.Fatalf("after narrowing, the redraw begins %q, want %q", out.String()[:min(12, out.Len())], want)
	}
}
