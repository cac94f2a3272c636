package views

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/rokflow/rokflow/runtime"
)

// noNode names, in the recap, the steps that run on no node: HTTP, etcd
// and RAPI requests. Steps of this machine are counted as "local", the
// name their lines give it.
const noNode = "(no node)"

// recap gathers, while a run goes, what the recap at its end says: per
// node, what ran and how it ended, and from when to when; the undos left
// owed.
type recap struct {
	nodes map[string]*nodeRecap
	order []string
	owed  int
}

// nodeRecap is one node's share of a run.
type nodeRecap struct {
	ok, failed, skipped, cancelled, doubt int
	first, last                           time.Time
}

func newRecap() recap { return recap{nodes: map[string]*nodeRecap{}} }

func (r *recap) node(target string) *nodeRecap {
	if target == "" {
		target = noNode
	}
	n := r.nodes[target]
	if n == nil {
		n = &nodeRecap{}
		r.nodes[target] = n
		r.order = append(r.order, target)
	}
	return n
}

// note counts one event.
func (r *recap) note(ev runtime.Event) {
	switch ev.Type {
	case runtime.EventStepStart:
		n := r.node(ev.Target)
		if n.first.IsZero() {
			n.first = ev.Time
		}
	case runtime.EventStepEnd:
		if ev.Status == "skipped" && ev.Target == "" {
			// Its `on` was not evaluated: it belongs to no node we
			// know. The run's counts have it.
			return
		}
		n := r.node(ev.Target)
		switch ev.Status {
		case "succeeded":
			n.ok++
		case "skipped":
			n.skipped++
			return // a skip takes no time on the node
		case "cancelled":
			n.cancelled++
		case "retrying":
		default:
			n.failed++
		}
		n.last = ev.Time
	case runtime.EventInDoubt:
		r.node(ev.Target).doubt++
	case runtime.EventUndoHeld, runtime.EventUndoUnmet:
		r.owed++
	}
}

// write prints the recap: a line per node, nodes first in the order they
// were met and the steps of no node last; then the run's status, counts
// and time.
func (r *recap) write(w io.Writer, c palette, ev runtime.Event, took time.Duration) {
	names := append([]string(nil), r.order...)
	sort.SliceStable(names, func(i, j int) bool { return names[j] == noNode && names[i] != noNode })
	width := 0
	for _, name := range names {
		width = max(width, len(name))
	}
	if len(names) > 0 {
		fmt.Fprintf(w, "\n%s\n", c.bold("Recap"))
	}
	for _, name := range names {
		n := r.nodes[name]
		parts := []string{c.green(fmt.Sprintf("%3d ok", n.ok))}
		failed := fmt.Sprintf("%d failed", n.failed)
		if n.failed > 0 {
			failed = c.red(failed)
		}
		parts = append(parts, failed)
		if n.skipped > 0 {
			parts = append(parts, fmt.Sprintf("%d skipped", n.skipped))
		}
		if n.cancelled > 0 {
			parts = append(parts, c.yellow(fmt.Sprintf("%d cancelled", n.cancelled)))
		}
		if n.doubt > 0 {
			parts = append(parts, c.yellow(fmt.Sprintf("%d in doubt", n.doubt)))
		}
		if !n.first.IsZero() && !n.last.IsZero() && n.last.After(n.first) {
			parts = append(parts, c.dim(roundDuration(n.last.Sub(n.first))))
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, name, strings.Join(parts, "  "))
	}
	if r.owed > 0 {
		undos := "undos"
		if r.owed == 1 {
			undos = "undo"
		}
		fmt.Fprintf(w, "  %s\n", c.yellow(fmt.Sprintf("%d %s owed: kept in the journal (rokflow state show)", r.owed, undos)))
	}
	keys := make([]string, 0, len(ev.Counts))
	for k := range ev.Counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var counts []string
	for _, k := range keys {
		counts = append(counts, fmt.Sprintf("%d %s", ev.Counts[k], strings.ReplaceAll(k, "_", " ")))
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
	fmt.Fprintf(w, "%s %s in %s: %s\n", c.bold("run "+ev.Run), status, roundDuration(took), strings.Join(counts, ", "))
}

// roundDuration shows a duration as people read one: 18ms, 4.1s, 2m10s,
// 1h5m.
func roundDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	default:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
}
