package views

import (
	"fmt"
	"io"
	"sort"
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
// and undo (run, held back, or not done), with the time since the run began; step output lines indented
// under their step when Verbose; a recap at the end.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	c       palette
	start   time.Time
	Verbose bool
	batches map[string]int
	width   int
}

// NewProgress returns a progress view writing to w.
func NewProgress(w io.Writer, colorOn bool) *Progress {
	return &Progress{w: w, c: newPalette(colorOn), batches: map[string]int{}}
}

// Event renders one event.
func (p *Progress) Event(ev runtime.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() {
		p.start = ev.Time
	}
	at := p.c.dim(fmt.Sprintf("%7s", ev.Time.Sub(p.start).Truncate(100*time.Millisecond)))
	c := p.c
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
		if p.batches[ev.Group] != ev.Batch {
			p.batches[ev.Group] = ev.Batch
			fmt.Fprintf(p.w, "%s %s\n", at, c.cyan(fmt.Sprintf("%s: batch %d", ev.Group, ev.Batch)))
		}
	case runtime.EventStepStart:
		on := ""
		if ev.Target != "" {
			on = " on " + ev.Target
		}
		attempt := ""
		if ev.Attempt > 1 {
			attempt = fmt.Sprintf(" (attempt %d)", ev.Attempt)
		}
		fmt.Fprintf(p.w, "%s   %s %s%s%s\n", at, c.dim("…"), ev.Addr, c.dim(on), attempt)
	case runtime.EventStepOutput:
		if p.Verbose {
			fmt.Fprintf(p.w, "%s       %s\n", at, c.dim(ev.Line))
		}
	case runtime.EventOutputWithheld:
		if p.Verbose {
			fmt.Fprintf(p.w, "%s       %s\n", at, c.yellow("("+ev.Summary+")"))
		}
	case runtime.EventStepEnd:
		switch ev.Status {
		case "succeeded":
			fmt.Fprintf(p.w, "%s   %s %s %s\n", at, c.green("✓"), ev.Addr, c.dim(ev.Elapsed.Truncate(time.Millisecond).String()))
		case "skipped":
			fmt.Fprintf(p.w, "%s   %s %s %s\n", at, c.dim("-"), c.dim(ev.Addr), c.dim("skipped"))
		case "retrying":
			fmt.Fprintf(p.w, "%s   %s %s attempt %d failed, retrying: %s\n", at, c.yellow("↻"), ev.Addr, ev.Attempt, ev.Error)
		default:
			fmt.Fprintf(p.w, "%s   %s %s %s\n", at, c.red("✗"), ev.Addr, c.red(ev.Error))
		}
	case runtime.EventGateWait, runtime.EventGateApproval, runtime.EventGateEnd:
		if line, ok := gateLine(c, ev); ok {
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
		fmt.Fprintf(p.w, "%s %s\n", at, c.yellow(ev.Summary))
	case runtime.EventRunEnd:
		var parts []string
		keys := make([]string, 0, len(ev.Counts))
		for k := range ev.Counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%d %s", ev.Counts[k], k))
		}
		status := ev.Status
		switch status {
		case "succeeded":
			status = c.green(status)
		case "failed":
			status = c.red(status)
		default:
			status = c.yellow(status)
		}
		fmt.Fprintf(p.w, "%s %s %s: %s\n", at, c.bold("run "+ev.Run), status, strings.Join(parts, ", "))
	}
}
