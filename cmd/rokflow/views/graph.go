package views

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rokflow/rokflow/internal/dag"
	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/runtime/plan"
)

// GraphOptions say what a drawing of a plan's instance graph shows.
type GraphOptions struct {
	// AllEdges draws every dependency the plan records, the ones a longer
	// path already implies in grey; without it an arrow is drawn only
	// where no longer path says the same (the transitive reduction).
	AllEdges bool
	// Skipped draws the instances the plan skips (a when that is false, a
	// platform not chosen), greyed, instead of leaving them out. Leaving
	// one out never loses an order that runs through it.
	Skipped bool
}

// instanceGraph is a plan's instance graph as drawn: the instances shown,
// the arrows between them, and the boxes (modules, group elements, hooks)
// they sit in. The DOT and Mermaid views render it.
type instanceGraph struct {
	name   string
	nodes  []*graphNode
	edges  []graphEdge
	root   *graphCluster
	marks  mark // every mark some node carries, for the legend
	greyed bool // some edges are implied ones (AllEdges)
}

// graphNode is one step instance in the drawing.
type graphNode struct {
	id    int // the instance's index in the plan
	addr  string
	label []string
	marks mark
}

// graphEdge says that instance to waits for instance from. Implied edges
// are drawn only with AllEdges; faint ones touch a skipped instance.
type graphEdge struct {
	from, to       *graphNode
	implied, faint bool
}

// graphCluster is a box: a module call, a group (element) or a hook, with
// the boxes and instances inside it. Boxes that hold nothing but one
// other box are merged with it, so group.slaves[*].module.node is one box.
type graphCluster struct {
	key      string // the address prefix, as in group.slaves["rok2"]
	label    []string
	nodes    []*graphNode
	children []*graphCluster
	byKey    map[string]*graphCluster
}

// mark is what a node is drawn as, besides a plain step.
type mark uint8

const (
	markReadOnly mark = 1 << iota
	markOnce
	markGate
	markConditional
	markDeferred
	markSkipped
)

// legendEntry explains one mark: a sample node drawn with it.
type legendEntry struct {
	mark  mark
	label []string
}

// legend lists the marks in the order the legend shows them; the plain
// step comes first and is always there.
var legend = []legendEntry{
	{0, []string{"step.NAME", "kind", "on HOST"}},
	{markReadOnly, []string{"read-only", "reads, changes nothing"}},
	{markOnce, []string{"once", "never run twice unattended"}},
	{markGate, []string{"gate", "waits for an approval", "or its completion check"}},
	{markConditional, []string{"conditional", "runs if its when holds,", "known at run time"}},
	{markDeferred, []string{"one per element", "elements known at run time"}},
	{markSkipped, []string{"skipped", "the plan skips it"}},
}

// legendTitle is the legend's title, which explains the arrows.
func (g *instanceGraph) legendTitle() []string {
	title := []string{"legend", "A → B: B waits for A"}
	if g.greyed {
		title = append(title, "grey arrow: implied by a longer path")
	}
	return title
}

// buildGraph draws the plan's instance graph with the options. It fails
// only on a plan whose dependencies form a cycle, which the planner
// never makes.
func buildGraph(p *plan.Plan, opts GraphOptions) (*instanceGraph, error) {
	index := make(map[string]int, len(p.Instances))
	for i, inst := range p.Instances {
		index[inst.Address] = i
	}
	preds := make([][]int, len(p.Instances))
	for i, inst := range p.Instances {
		for _, d := range inst.DependsOn {
			if j, ok := index[d]; ok {
				preds[i] = append(preds[i], j)
			}
		}
	}
	shown := func(i int) bool { return opts.Skipped || p.Instances[i].Action != plan.Skip }
	reduced, err := dag.Reduce(preds, shown)
	if err != nil {
		return nil, fmt.Errorf("the plan's dependencies: %w", err)
	}

	groups := make(map[string]*plan.Group, len(p.Groups))
	for _, g := range p.Groups {
		groups[g.Address] = g
	}
	g := &instanceGraph{name: p.Playbook.Name, root: &graphCluster{}, greyed: opts.AllEdges}
	nodes := make([]*graphNode, len(p.Instances))
	for i, inst := range p.Instances {
		if !shown(i) {
			continue
		}
		segs := splitAddress(inst.Address)
		c := g.root.place(segs[:len(segs)-1], groups)
		n := &graphNode{id: i, addr: inst.Address, marks: marksOf(inst)}
		n.label = nodeLabel(inst, strings.TrimPrefix(inst.Address, prefixOf(c.key)), n.marks, strings.HasSuffix(segs[len(segs)-1], addrs.Hole))
		c.nodes = append(c.nodes, n)
		nodes[i] = n
		g.nodes = append(g.nodes, n)
		g.marks |= n.marks
	}
	g.root.merge()

	for _, to := range g.nodes {
		near := reduced[to.id]
		from := near
		if opts.AllEdges {
			from = union(near, preds[to.id], shown)
		}
		for _, u := range from {
			e := graphEdge{from: nodes[u], to: to, implied: !slices.Contains(near, u)}
			e.faint = (e.from.marks|to.marks)&markSkipped != 0
			g.edges = append(g.edges, e)
		}
	}
	return g, nil
}

// marksOf says how an instance is drawn.
func marksOf(inst *plan.Instance) mark {
	var m mark
	if inst.ReadOnly {
		m |= markReadOnly
	}
	if inst.Once {
		m |= markOnce
	}
	if inst.Gate {
		m |= markGate
	}
	switch inst.Action {
	case plan.Conditional:
		m |= markConditional
	case plan.Deferred:
		m |= markDeferred
	case plan.Skip:
		m |= markSkipped
	}
	return m
}

// nodeLabel is an instance's label, line by line: its address within its
// box, its kind, where it runs, and what is not known yet. ownHole says
// the step's own for_each is what is deferred (a group's is said on its
// box).
func nodeLabel(inst *plan.Instance, local string, m mark, ownHole bool) []string {
	label := []string{local, inst.Kind}
	if inst.Target != "" {
		label = append(label, "on "+inst.Target)
	}
	switch {
	case m&markDeferred != 0 && ownHole:
		label = append(label, "one per element, "+knownAfter(inst.Reason))
	case m&markConditional != 0:
		label = append(label, "when: "+knownAfter(inst.Reason))
	case m&markSkipped != 0:
		label = append(label, "skipped")
	}
	return label
}

// knownAfter says when a deferred or conditional instance becomes known,
// from the planner's reason: "known after step.members".
func knownAfter(reason string) string {
	const k = "(known after "
	if i := strings.Index(reason, k); i >= 0 {
		rest := reason[i+1:]
		if j := strings.IndexByte(rest, ')'); j >= 0 {
			return rest[:j]
		}
	}
	return "known at run time"
}

// place returns the box for an instance inside the boxes segs name,
// making those not made yet. A group element is two boxes, the group
// (with how it rolls) and the element, so that the elements of one group
// share its box.
func (c *graphCluster) place(segs []string, groups map[string]*plan.Group) *graphCluster {
	prefix := ""
	for _, s := range segs {
		name, key := s, ""
		if strings.HasPrefix(s, "group.") {
			if i := strings.IndexByte(s, '['); i >= 0 {
				name, key = s[:i], s[i:]
			}
		}
		c = c.child(prefix+name, name, func() []string { return groupNotes(groups[prefix+name]) })
		if key != "" {
			c = c.child(prefix+name+key, key, nil)
		}
		prefix += s + "."
	}
	return c
}

// child returns the box key inside c, making it with its title and the
// notes below it (notes may be nil) if need be.
func (c *graphCluster) child(key, text string, notes func() []string) *graphCluster {
	if ch, ok := c.byKey[key]; ok {
		return ch
	}
	if c.byKey == nil {
		c.byKey = map[string]*graphCluster{}
	}
	ch := &graphCluster{key: key, label: []string{text}}
	if notes != nil {
		ch.label = append(ch.label, notes()...)
	}
	c.byKey[key] = ch
	c.children = append(c.children, ch)
	return ch
}

// merge joins, below c, each box that holds nothing but one box with
// that box: group.slaves, [*] and module.node become one box titled
// group.slaves[*].module.node, with the notes of each.
func (c *graphCluster) merge() {
	for i, ch := range c.children {
		for len(ch.nodes) == 0 && len(ch.children) == 1 {
			only := ch.children[0]
			join := "."
			if strings.HasPrefix(only.label[0], "[") {
				join = ""
			}
			only.label = append(append([]string{ch.label[0] + join + only.label[0]}, ch.label[1:]...), only.label[1:]...)
			ch = only
		}
		ch.merge()
		c.children[i] = ch
	}
}

// groupNotes says how a group's elements run, below its title.
func groupNotes(g *plan.Group) []string {
	if g == nil {
		return nil
	}
	roll := fmt.Sprintf("rolling, %d at a time", g.Batch)
	if g.MaxFailures > 0 {
		roll += fmt.Sprintf(", %d may fail", g.MaxFailures)
	}
	if g.Pause != "" && g.Pause != "0s" {
		roll += ", pause " + g.Pause
	}
	notes := []string{roll}
	if g.Deferred {
		after := "known at run time"
		if g.KnownAfter != "" {
			after = "known after " + g.KnownAfter
		}
		notes = append(notes, "one per element, "+after)
	}
	return notes
}

func prefixOf(key string) string {
	if key == "" {
		return ""
	}
	return key + "."
}

// union returns, sorted, the members of near and the shown members of
// all.
func union(near, all []int, shown func(int) bool) []int {
	out := append([]int(nil), near...)
	for _, u := range all {
		if shown(u) && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

// splitAddress cuts an instance address into its segments, each a kind
// word, a name and maybe an element key: module.master,
// group.slaves["rok2.prod"], step.stop[*]. Keys may hold dots, so quoted
// keys are read whole. An address it cannot read is one segment.
func splitAddress(addr string) []string {
	var words []string
	start := 0
	for i := 0; i < len(addr); i++ {
		switch addr[i] {
		case '.':
			words = append(words, addr[start:i])
			start = i + 1
		case '"':
			q, err := strconv.QuotedPrefix(addr[i:])
			if err != nil {
				return []string{addr}
			}
			i += len(q) - 1
		}
	}
	words = append(words, addr[start:])
	if len(words)%2 != 0 {
		return []string{addr}
	}
	segs := make([]string, 0, len(words)/2)
	for i := 0; i < len(words); i += 2 {
		segs = append(segs, words[i]+"."+words[i+1])
	}
	return segs
}
