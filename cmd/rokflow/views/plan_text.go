package views

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/rokflow/rokflow/internal/posixsh"
	"github.com/rokflow/rokflow/runtime/plan"
)

// PlanText writes a plan for people: every step instance in dependency
// order, what it will do and on which target, groups with their rolling
// policy, gates and once-steps marked, file diffs, and a summary per target.
func PlanText(w io.Writer, p *plan.Plan, colorOn bool) {
	c := newPalette(colorOn)
	title := p.Playbook.Name
	if p.Playbook.From != "" || p.Playbook.To != "" {
		title += fmt.Sprintf(" (%s → %s)", p.Playbook.From, p.Playbook.To)
	}
	fmt.Fprintf(w, "%s %s\n", c.bold("Plan:"), c.bold(title))
	if p.Playbook.Description != "" {
		fmt.Fprintf(w, "  %s\n", p.Playbook.Description)
	}
	if p.Release != nil {
		fmt.Fprintf(w, "  %s\n", c.bold("Release: "+p.Release.Text()))
	}
	counts := map[plan.Action]int{}
	for _, inst := range p.Instances {
		counts[inst.Action]++
	}
	fmt.Fprintf(w, "  %s, %d step instances: %s\n", p.Playbook.Path, len(p.Instances), countsText(counts))
	if p.Discovered {
		fmt.Fprintln(w, "  read-only steps ran during planning (--discover)")
	}
	fmt.Fprintln(w)

	groups := map[string]*plan.Group{}
	for _, g := range p.Groups {
		groups[g.Address] = g
	}
	after := readableDeps(p)
	var skipped []string
	curGroup, curKey := "", ""
	for i, inst := range p.Instances {
		if inst.Action == plan.Skip {
			skipped = append(skipped, inst.Address)
			continue
		}
		if inst.Group != curGroup {
			if curGroup != "" {
				fmt.Fprintln(w)
			}
			curGroup, curKey = inst.Group, ""
			if g := groups[inst.Group]; g != nil {
				writeGroupHeader(w, c, g)
			}
		}
		indent := "  "
		if inst.Group != "" {
			indent = "      "
			if inst.Key != curKey {
				curKey = inst.Key
				if inst.Key == "*" {
					fmt.Fprintf(w, "    %s\n", c.cyan("element[*] (template for every element)"))
				} else {
					fmt.Fprintf(w, "    %s %s\n", c.cyan(fmt.Sprintf("element[%q]", inst.Key)), c.dim(fmt.Sprintf("batch %d", inst.Batch)))
				}
			}
		}
		writeInstance(w, c, indent, i+1, inst, after[i])
	}
	if len(skipped) > 0 {
		fmt.Fprintf(w, "\n  %s %s\n", c.dim("skip"), c.dim(fmt.Sprintf("%d step instances whose when condition is false (plan --json lists them):", len(skipped))))
		for _, prefix := range skippedSummary(p) {
			fmt.Fprintf(w, "         %s\n", c.dim(prefix))
		}
	}
	fmt.Fprintln(w)
	if len(p.Outputs) > 0 {
		fmt.Fprintf(w, "%s\n", c.bold("Outputs:"))
		for _, name := range sortedNames(p.Outputs) {
			fmt.Fprintf(w, "  %s = %s\n", name, string(p.Outputs[name].JSON))
		}
		fmt.Fprintln(w)
	}
	writeTargets(w, c, p)
}

func countsText(counts map[plan.Action]int) string {
	var parts []string
	for _, a := range []plan.Action{plan.Read, plan.Run, plan.Gate, plan.Conditional, plan.Deferred, plan.Skip} {
		if n := counts[a]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a))
		}
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, ", ")
}

func writeGroupHeader(w io.Writer, c palette, g *plan.Group) {
	var over string
	if g.Deferred {
		over = "elements " + unknownAfter(g.KnownAfter)
	} else {
		over = fmt.Sprintf("%d elements: %s", len(g.Keys), strings.Join(g.Keys, ", "))
	}
	fmt.Fprintf(w, "  %s  %s\n", c.bold(g.Address), c.dim(over))
	roll := fmt.Sprintf("rolling %d at a time, stops at the first failed element", g.Batch)
	if g.MaxFailures > 0 {
		roll = fmt.Sprintf("rolling %d at a time, stops once more than %d elements failed", g.Batch, g.MaxFailures)
	}
	if g.Pause != "" && g.Pause != "0s" {
		roll += ", pause " + g.Pause + " between batches"
	}
	fmt.Fprintf(w, "    %s\n", c.dim(roll))
}

func unknownAfter(addr string) string {
	if addr == "" {
		return "(known after apply)"
	}
	return "(known after " + addr + ")"
}

func actionMark(c palette, inst *plan.Instance) string {
	switch inst.Action {
	case plan.Read:
		return c.cyan("read")
	case plan.Gate:
		return c.magenta("GATE")
	case plan.Skip:
		return c.dim("skip")
	case plan.Conditional:
		return c.yellow("if")
	case plan.Deferred:
		return c.yellow("each")
	}
	if inst.Once {
		return c.red("ONCE")
	}
	return c.green("run")
}

func writeInstance(w io.Writer, c palette, indent string, n int, inst *plan.Instance, after []string) {
	var tags []string
	tags = append(tags, inst.Kind)
	if inst.Once && inst.Action != plan.Run {
		tags = append(tags, "once")
	}
	if inst.ReadOnly {
		tags = append(tags, "read-only")
	}
	fmt.Fprintf(w, "%s%3d %-4s %s %s\n", indent, n, actionMark(c, inst), c.bold(inst.Address), c.dim("("+strings.Join(tags, ", ")+")"))
	pad := indent + "         "
	if inst.Target != "" {
		fmt.Fprintf(w, "%son:      %s\n", pad, inst.Target)
	}
	if inst.Description != "" {
		fmt.Fprintf(w, "%swhy:     %s\n", pad, inst.Description)
	}
	switch {
	case len(inst.Command) > 0 && inst.Gate:
		fmt.Fprintf(w, "%scheck:   %s\n", pad, shellWords(inst.Command))
	case len(inst.Command) > 0:
		fmt.Fprintf(w, "%srun:     %s\n", pad, shellWords(inst.Command))
	case inst.Request != "":
		fmt.Fprintf(w, "%srequest: %s\n", pad, inst.Request)
	}
	if inst.Summary != "" && len(inst.Command) == 0 && inst.Request == "" {
		fmt.Fprintf(w, "%sdoes:    %s\n", pad, inst.Summary)
	}
	if inst.Instructions != "" {
		lines := strings.Split(strings.TrimRight(inst.Instructions, "\n"), "\n")
		fmt.Fprintf(w, "%sasks:    %s\n", pad, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%s         %s\n", pad, l)
		}
	}
	if inst.Reason != "" {
		fmt.Fprintf(w, "%snote:    %s\n", pad, c.yellow(inst.Reason))
	}
	if inst.Timeout != "" {
		fmt.Fprintf(w, "%stimeout: %s\n", pad, inst.Timeout)
	}
	if inst.Retry != nil && inst.Retry.Attempts > 1 {
		fmt.Fprintf(w, "%sretry:   %d attempts, delay %s up to %s\n", pad, inst.Retry.Attempts, inst.Retry.Delay, inst.Retry.MaxDelay)
	}
	if inst.Undo != "" {
		fmt.Fprintf(w, "%sundo:    %s\n", pad, undoText(inst))
		if inst.Obligation != nil && inst.UndoWhen != "" {
			fmt.Fprintf(w, "%s         %s\n", pad, c.dim("only when "+inst.UndoWhen+"; held back and still owed otherwise"))
		}
	}
	if len(after) > 0 {
		fmt.Fprintf(w, "%safter:   %s\n", pad, c.dim(strings.Join(shortDeps(after), ", ")))
	}
	for _, name := range sortedNames(inst.Outputs) {
		fmt.Fprintf(w, "%sfound:   %s = %s\n", pad, name, string(inst.Outputs[name].JSON))
	}
	if inst.Diff != "" {
		for _, l := range strings.Split(strings.TrimRight(inst.Diff, "\n"), "\n") {
			switch {
			case strings.HasPrefix(l, "+++") || strings.HasPrefix(l, "---"):
				l = c.bold(l)
			case strings.HasPrefix(l, "+"):
				l = c.green(l)
			case strings.HasPrefix(l, "-"):
				l = c.red(l)
			case strings.HasPrefix(l, "@@"):
				l = c.cyan(l)
			}
			fmt.Fprintf(w, "%s  %s\n", pad, l)
		}
	}
}

// shortDeps keeps long dependency lists readable.
func shortDeps(d []string) []string {
	const most = 6
	if len(d) <= most {
		return d
	}
	return append(append([]string(nil), d[:most]...), fmt.Sprintf("… %d more", len(d)-most))
}

// shellWords shows an argv as a person would type it, quoting words that
// need it. It is for display only; nothing runs it through a shell.
func shellWords(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if strings.HasPrefix(a, "(known after ") || a == "(sensitive)" {
			out[i] = a // a placeholder, not a word
			continue
		}
		out[i] = posixsh.Word(a)
	}
	return strings.Join(out, " ")
}

func writeTargets(w io.Writer, c palette, p *plan.Plan) {
	byTarget := map[string][]string{}
	for _, inst := range p.Instances {
		if inst.Action == plan.Skip {
			continue
		}
		t := inst.Target
		if t == "" {
			t = "(no host: talks to a service)"
		}
		byTarget[t] = append(byTarget[t], inst.Address)
	}
	if len(byTarget) == 0 {
		return
	}
	fmt.Fprintf(w, "%s\n", c.bold("By target:"))
	targets := make([]string, 0, len(byTarget))
	for t := range byTarget {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, t := range targets {
		addrs := byTarget[t]
		fmt.Fprintf(w, "  %s %s\n", c.bold(t), c.dim(fmt.Sprintf("(%d)", len(addrs))))
		fmt.Fprintf(w, "    %s\n", strings.Join(shortDeps(addrs), ", "))
	}
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// readableDeps returns, per instance, the dependencies worth showing: not
// skipped ones, and not those already implied by another shown dependency
// (a transitive reduction). Plans too large for that keep every
// dependency but the skipped ones.
func readableDeps(p *plan.Plan) [][]string {
	index := make(map[string]int, len(p.Instances))
	for i, inst := range p.Instances {
		index[inst.Address] = i
	}
	out := make([][]string, len(p.Instances))
	const reduceLimit = 2000
	var ancestors []map[int]bool
	if len(p.Instances) <= reduceLimit {
		// Instances come in dependency order, so one pass computes every
		// instance's ancestors.
		ancestors = make([]map[int]bool, len(p.Instances))
		for i, inst := range p.Instances {
			a := map[int]bool{}
			for _, d := range inst.DependsOn {
				if j, ok := index[d]; ok && j < i {
					a[j] = true
					for k := range ancestors[j] {
						a[k] = true
					}
				}
			}
			ancestors[i] = a
		}
	}
	for i, inst := range p.Instances {
		var keep []string
		for _, d := range inst.DependsOn {
			j, ok := index[d]
			if !ok || p.Instances[j].Action == plan.Skip {
				continue
			}
			implied := false
			if ancestors != nil {
				for _, d2 := range inst.DependsOn {
					if k, ok := index[d2]; ok && k != j && ancestors[k][j] {
						implied = true
						break
					}
				}
			}
			if !implied {
				keep = append(keep, d)
			}
		}
		out[i] = keep
	}
	return out
}

var topItem = regexp.MustCompile(`^(step|group|module)\.[A-Za-z0-9_-]+`)

// skippedSummary describes skipped instances by the top-level step, group
// or module they belong to: whole items in one line, partly skipped ones
// by their instances.
func skippedSummary(p *plan.Plan) []string {
	total := map[string]int{}
	skipped := map[string][]string{}
	var order []string
	for _, inst := range p.Instances {
		top := topItem.FindString(inst.Address)
		total[top]++
		if inst.Action != plan.Skip {
			continue
		}
		if _, ok := skipped[top]; !ok {
			order = append(order, top)
		}
		skipped[top] = append(skipped[top], inst.Address)
	}
	var out []string
	for _, top := range order {
		addrs := skipped[top]
		switch {
		case len(addrs) == total[top] && len(addrs) > 1:
			out = append(out, fmt.Sprintf("%s (all %d step instances)", top, len(addrs)))
		default:
			out = append(out, addrs...)
		}
	}
	return out
}

// undoText names the undo instances a step owes: the one instance, or the
// undo step and how many of its instances.
func undoText(inst *plan.Instance) string {
	if inst.Obligation == nil {
		return inst.Undo
	}
	switch n := len(inst.UndoInstances); {
	case n == 1:
		return inst.UndoInstances[0]
	case n > 1:
		return fmt.Sprintf("%s (%d instances)", inst.Undo, n)
	}
	return inst.Undo
}
