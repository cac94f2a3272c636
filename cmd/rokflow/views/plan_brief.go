package views

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rokflow/rokflow/runtime/plan"
)

// PlanBrief writes what apply asks the operator to agree to before the
// first change: the playbook and release path, the counts plan shows, the
// rolling groups, and per node how many steps run there and how many of
// them are gates.
func PlanBrief(w io.Writer, p *plan.Plan, colorOn bool) {
	c := newPalette(colorOn)
	title := p.Playbook.Name
	if p.Playbook.From != "" || p.Playbook.To != "" {
		title += fmt.Sprintf(" (%s → %s)", p.Playbook.From, p.Playbook.To)
	}
	fmt.Fprintf(w, "%s %s\n", c.bold("Apply:"), c.bold(title))
	if p.Release != nil {
		fmt.Fprintf(w, "  %s\n", c.bold("Release: "+p.Release.Text()))
	}
	counts := map[plan.Action]int{}
	type share struct{ steps, gates int }
	byTarget := map[string]*share{}
	for _, inst := range p.Instances {
		counts[inst.Action]++
		if inst.Action == plan.Skip {
			continue
		}
		t := inst.Target
		if t == "" {
			t = "(no host: talks to a service)"
		}
		s := byTarget[t]
		if s == nil {
			s = &share{}
			byTarget[t] = s
		}
		s.steps++
		if inst.Gate {
			s.gates++
		}
	}
	fmt.Fprintf(w, "  %d step instances: %s\n", len(p.Instances), countsText(counts))
	active := map[string]bool{}
	for _, inst := range p.Instances {
		if inst.Action != plan.Skip && inst.Group != "" {
			active[inst.Group] = true
		}
	}
	for _, g := range p.Groups {
		if !active[g.Address] {
			continue // every step of it is skipped
		}
		over := fmt.Sprintf("%d elements in %d batches", len(g.Keys), g.Batches)
		if g.Deferred {
			over = "elements " + unknownAfter(g.KnownAfter)
		}
		fmt.Fprintf(w, "  %s %s\n", c.bold(g.Address), c.dim(over))
	}
	targets := make([]string, 0, len(byTarget))
	for t := range byTarget {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, t := range targets {
		s := byTarget[t]
		what := []string{plural(s.steps, "step")}
		if s.gates > 0 {
			what = append(what, c.magenta(plural(s.gates, "gate")))
		}
		fmt.Fprintf(w, "  %s  %s\n", t, strings.Join(what, ", "))
	}
}

// plural counts things: "1 step", "3 steps".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
