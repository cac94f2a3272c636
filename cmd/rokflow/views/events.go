package views

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rokflow/rokflow/internal/jsondoc"
	"github.com/rokflow/rokflow/runtime"
)

// EventLine is one line of apply --json (docs/events-json.md): the
// event, after the format version of the event stream.
type EventLine struct {
	jsondoc.Header
	runtime.Event
}

// JSONEvents writes each event as one JSON line.
type JSONEvents struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONEvents returns a hook writing JSON lines to w.
func NewJSONEvents(w io.Writer) *JSONEvents { return &JSONEvents{w: w} }

// Event writes one line.
func (j *JSONEvents) Event(ev runtime.Event) {
	b, err := jsondoc.Events.Marshal(EventLine{jsondoc.Events.Header(), ev})
	if err != nil {
		return // an event is plain data: it always encodes
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	_, _ = j.w.Write(append(b, '\n'))
}

// Progress shows a run to people: one line per start, end, gate, batch
// and undo (run, held back, or not done), with the time since the run
// began; skipped steps folded into one line per stretch; step output lines
// indented under their step when Verbose; a recap per node at the end
// (recap.go).
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	c       palette
	start   time.Time
	Verbose bool
	width   int
	// skips are the skipped steps not shown yet: a stretch of them is one
	// line, written before whatever comes next.
	skips skipRun
	recap recap
	// gates are the gates that started; a gate that passes is told by
	// one line, its gate_end's (who, how, how long), so its step_end
	// waits in passed until then.
	gates  map[string]bool
	passed map[string]passedGate
}

// passedGate is what a gate's two events tell, whichever comes first.
type passedGate struct {
	ended   bool          // gate_end said who passed it
	elapsed time.Duration // from its step_end, when that came
	at      string        // the time column of the step_end
	stepEnd bool
}

// skipRun is a stretch of skipped steps: how many, and their distinct
// reasons in the order met.
type skipRun struct {
	n       int
	at      string
	reasons []string
}

// NewProgress returns a progress view writing to w.
func NewProgress(w io.Writer, colorOn bool) *Progress {
	return &Progress{w: w, c: newPalette(colorOn), recap: newRecap(), gates: map[string]bool{}, passed: map[string]passedGate{}}
}

// Event renders one event.
func (p *Progress) Event(ev runtime.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() {
		p.start = ev.Time
	}
	p.recap.note(ev)
	at := p.c.dim(fmt.Sprintf("%7s", ev.Time.Sub(p.start).Truncate(100*time.Millisecond)))
	c := p.c
	if ev.Type == runtime.EventStepEnd && ev.Status == "skipped" {
		p.skip(at, ev.Summary)
		return
	}
	if ev.Type == runtime.EventStepOutput && !p.Verbose {
		return
	}
	p.flushSkips()
	switch ev.Type {
	case runtime.EventRunStart:
		what := "run " + ev.Run
		if ev.Summary != "" {
			what += " (" + ev.Summary + ")"
		}
		fmt.Fprintf(p.w, "%s %s\n", at, c.bold(what))
	case runtime.EventRelease:
		line := "release: " + ev.Summary
		if ev.Status == "refused" {
			line = c.red(line)
		}
		fmt.Fprintf(p.w, "%s %s\n", at, c.bold(line))
	case runtime.EventBatchStart:
		fmt.Fprintf(p.w, "%s %s\n", at, c.cyan(batchHeader(ev)))
	case runtime.EventStepStart:
		on := ""
		if ev.Target != "" {
			on = " on " + ev.Target
		}
		attempt := ""
		if ev.Attempt > 1 {
			attempt = fmt.Sprintf(" (attempt %d)", ev.Attempt)
		}
		if ev.Instructions != "" {
			p.gates[ev.Addr] = true
		}
		fmt.Fprintf(p.w, "%s   %s %s%s%s\n", at, c.dim("…"), ev.Addr, c.dim(on), attempt)
	case runtime.EventStepOutput:
		fmt.Fprintf(p.w, "%s       %s\n", at, c.dim(ev.Line))
	case runtime.EventOutputWithheld:
		if p.Verbose {
			fmt.Fprintf(p.w, "%s       %s\n", at, c.yellow("("+ev.Summary+")"))
		}
	case runtime.EventStepEnd:
		switch {
		case ev.Status == "succeeded" && p.gates[ev.Addr]:
			g := p.passed[ev.Addr]
			if !g.ended {
				p.passed[ev.Addr] = passedGate{elapsed: ev.Elapsed, at: at, stepEnd: true}
			}
		case ev.Status == "succeeded":
			fmt.Fprintf(p.w, "%s   %s %s %s\n", at, c.green("✓"), ev.Addr, c.dim(ev.Elapsed.Truncate(time.Millisecond).String()))
		case ev.Status == "retrying":
			fmt.Fprintf(p.w, "%s   %s %s attempt %d failed, retrying: %s\n", at, c.yellow("↻"), ev.Addr, ev.Attempt, ev.Error)
		case ev.Status == "cancelled":
			fmt.Fprintf(p.w, "%s   %s %s %s\n", at, c.yellow("⊘"), ev.Addr, c.yellow("cancelled: apply again to run it"))
		default:
			fmt.Fprintf(p.w, "%s   %s %s %s\n", at, c.red("✗"), ev.Addr, c.red(ev.Error))
		}
	case runtime.EventGateWait, runtime.EventGateApproval, runtime.EventGateEnd:
		line, ok := gateLine(c, ev)
		if ev.Type == runtime.EventGateEnd && ev.Status == runtime.GateApproved {
			if g := p.passed[ev.Addr]; g.stepEnd {
				line += " " + c.dim(g.elapsed.Truncate(time.Millisecond).String())
			}
			p.passed[ev.Addr] = passedGate{ended: true}
		}
		if ok {
			fmt.Fprintf(p.w, "%s %s\n", at, line)
		}
	case runtime.EventGroupStop:
		fmt.Fprintf(p.w, "%s %s %s\n", at, c.red(ev.Group+" stopped:"), ev.Summary)
	case runtime.EventUndoStart:
		fmt.Fprintf(p.w, "%s   %s %s (%s)\n", at, c.yellow("↶"), ev.Addr, ev.Summary)
	case runtime.EventUndoHeld:
		fmt.Fprintf(p.w, "%s   %s %s %s\n", at, c.yellow("⏸"), ev.Addr, c.yellow(ev.Summary))
	case runtime.EventUndoUnmet:
		fmt.Fprintf(p.w, "%s   %s %s not done (%s): %s\n", at, c.red("✗"), ev.Addr, ev.Summary, c.red(ev.Error))
	case runtime.EventInDoubt:
		fmt.Fprintf(p.w, "%s   %s %s %s\n", at, c.yellow("?"), ev.Addr, ev.Summary)
	case runtime.EventStopping:
		// The executor says what it does; the operator also needs to
		// know what the second Ctrl-C does (app.go).
		fmt.Fprintf(p.w, "%s %s\n", at, c.yellow("Stopping: no new steps start; running steps finish. Press Ctrl-C again to cancel them."))
	case runtime.EventRunEnd:
		for _, addr := range slices.Sorted(maps.Keys(p.passed)) {
			if g := p.passed[addr]; g.stepEnd && !g.ended { // a gate whose end was not told
				fmt.Fprintf(p.w, "%s   %s %s %s\n", g.at, c.green("✓"), addr, c.dim(g.elapsed.Truncate(time.Millisecond).String()))
			}
		}
		p.recap.write(p.w, c, ev, ev.Time.Sub(p.start))
	}
}

// skip adds a skipped step to the stretch not shown yet.
func (p *Progress) skip(at, reason string) {
	if p.skips.n == 0 {
		p.skips.at = at
	}
	p.skips.n++
	if reason != "" && !slices.Contains(p.skips.reasons, reason) {
		p.skips.reasons = append(p.skips.reasons, reason)
	}
}

// flushSkips writes the stretch of skipped steps as one line.
func (p *Progress) flushSkips() {
	if p.skips.n == 0 {
		return
	}
	what := "1 step skipped"
	if p.skips.n > 1 {
		what = fmt.Sprintf("%d steps skipped", p.skips.n)
	}
	if why := reasonsText(p.skips.reasons); why != "" {
		what += " (" + why + ")"
	}
	fmt.Fprintf(p.w, "%s   %s %s\n", p.skips.at, p.c.dim("-"), p.c.dim(what))
	p.skips = skipRun{}
}

// reasonsText lists the first reasons and says how many more there are.
func reasonsText(reasons []string) string {
	const shown = 2
	if len(reasons) <= shown {
		return strings.Join(reasons, "; ")
	}
	return strings.Join(reasons[:shown], "; ") + fmt.Sprintf("; %d more reasons", len(reasons)-shown)
}

// batchHeader names a starting batch: "slaves: batch 1/2: rok2.sim".
func batchHeader(ev runtime.Event) string {
	line := strings.TrimPrefix(ev.Group, "group.") + ": batch " + strconv.Itoa(ev.Batch)
	if ev.Batches > 0 {
		line += "/" + strconv.Itoa(ev.Batches)
	}
	if len(ev.Nodes) > 0 {
		line += ": " + strings.Join(ev.Nodes, ", ")
	}
	return line
}

// gateInstructions are what the operator is to do at a gate.
func gateInstructions(ev runtime.Event) string {
	if ev.Instructions != "" {
		return ev.Instructions
	}
	return ev.Summary
}
