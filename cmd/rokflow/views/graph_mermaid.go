package views

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rokflow/rokflow/runtime/plan"
)

// PlanMermaid writes the plan's instance graph as a Mermaid flowchart, the
// drawing GitHub and GitLab render from a ```mermaid block in a change
// request: the same nodes, arrows, boxes and legend as PlanDOT. Node ids
// are s0, s1, … (the instance's place in the plan), so no address can
// clash with Mermaid's keywords; labels are quoted with Mermaid's entity
// codes for the characters it would read otherwise. Gates are hexagons,
// once-steps subroutine boxes with a thick border, read-only steps
// rounded and blue; conditional and deferred ones have dotted and dashed
// borders, classes that say so (classDef).
func PlanMermaid(w io.Writer, p *plan.Plan, opts GraphOptions) error {
	g, err := buildGraph(p, opts)
	if err != nil {
		return err
	}
	b := &strings.Builder{}
	b.WriteString("flowchart TB\n")
	fmt.Fprintf(b, "  %%%% rokflow graph of %s: an arrow A --> B says B waits for A.\n", mermaidComment(g.name))
	clusters := 0
	var box func(c *graphCluster, indent string)
	box = func(c *graphCluster, indent string) {
		for _, n := range c.nodes {
			fmt.Fprintf(b, "%s%s\n", indent, mermaidNode("s"+strconv.Itoa(n.id), n.label, n.marks))
		}
		for _, ch := range c.children {
			clusters++
			fmt.Fprintf(b, "%ssubgraph c%d [\"%s\"]\n", indent, clusters, mermaidText(strings.Join(ch.label, "\n")))
			box(ch, indent+"  ")
			fmt.Fprintf(b, "%send\n", indent)
		}
	}
	box(g.root, "  ")

	// Links are numbered in the order they are written; linkStyle greys
	// the implied and faint ones by number.
	var grey []string
	for i, e := range g.edges {
		arrow := "-->"
		if e.faint {
			arrow = "-.->"
		}
		if e.faint || e.implied {
			grey = append(grey, strconv.Itoa(i))
		}
		fmt.Fprintf(b, "  s%d %s s%d\n", e.from.id, arrow, e.to.id)
	}

	fmt.Fprintf(b, "  subgraph legend [\"%s\"]\n", mermaidText(strings.Join(g.legendTitle(), "\n")))
	var ids []string
	classes := map[string][]string{}
	for _, e := range legend {
		if e.mark != 0 && g.marks&e.mark == 0 {
			continue
		}
		id := "legend" + strconv.Itoa(len(ids))
		ids = append(ids, id)
		fmt.Fprintf(b, "    %s\n", mermaidNode(id, e.label, e.mark))
		addClasses(classes, id, e.mark)
	}
	if len(ids) > 1 {
		// Invisible links keep the legend one column wide.
		fmt.Fprintf(b, "    %s\n", strings.Join(ids, " ~~~ "))
	}
	b.WriteString("  end\n")

	for _, n := range g.nodes {
		addClasses(classes, "s"+strconv.Itoa(n.id), n.marks)
	}
	for _, c := range mermaidClasses {
		fmt.Fprintf(b, "  classDef %s %s\n", c.name, c.style)
	}
	for _, c := range mermaidClasses {
		if ids := classes[c.name]; len(ids) > 0 {
			fmt.Fprintf(b, "  class %s %s\n", strings.Join(ids, ","), c.name)
		}
	}
	if len(grey) > 0 {
		fmt.Fprintf(b, "  linkStyle %s stroke:%s\n", strings.Join(grey, ","), colourImplied)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// mermaidClasses are the classes a node gets for its marks, in the order
// they are applied (later ones win where they set the same property).
var mermaidClasses = []struct {
	mark        mark
	name, style string
}{
	{markReadOnly, "readonly", "fill:" + colourRead + ",stroke:" + colourReadLine},
	{markGate, "gate", "fill:" + colourGate + ",stroke:" + colourGateLine},
	{markOnce, "once", "stroke-width:3px"},
	{markConditional, "conditional", "stroke-dasharray:2 3"},
	{markDeferred, "deferred", "stroke-dasharray:6 4"},
	{markSkipped, "skipped", "fill:" + colourSkipFill + ",stroke:" + colourSkipLine + ",color:" + colourSkipText},
}

func addClasses(classes map[string][]string, id string, m mark) {
	for _, c := range mermaidClasses {
		if m&c.mark != 0 {
			classes[c.name] = append(classes[c.name], id)
		}
	}
}

// mermaidNode declares a node with the shape its marks call for.
func mermaidNode(id string, label []string, m mark) string {
	open, shut := "[", "]"
	switch {
	case m&markGate != 0:
		open, shut = "{{", "}}"
	case m&markReadOnly != 0:
		open, shut = "([", "])"
	case m&markOnce != 0:
		open, shut = "[[", "]]"
	}
	return id + open + `"` + mermaidText(strings.Join(label, "\n")) + `"` + shut
}

// mermaidEscapes replaces what Mermaid would read in a quoted label: the
// quote, the # that starts its entity codes, HTML's < > &, and the
// backtick that starts a Markdown label. Line breaks become <br>.
var mermaidEscapes = strings.NewReplacer(
	`"`, "#quot;",
	"#", "#35;",
	"&", "#amp;",
	"<", "#lt;",
	">", "#gt;",
	"`", "#96;",
	"\r", "",
	"\n", "<br>",
)

// mermaidText makes s safe inside a quoted Mermaid label.
func mermaidText(s string) string { return mermaidEscapes.Replace(s) }

// mermaidComment keeps s on the comment's line.
func mermaidComment(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}
