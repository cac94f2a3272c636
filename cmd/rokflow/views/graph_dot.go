package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/rokflow/rokflow/runtime/plan"
)

// Colours shared by the DOT and Mermaid drawings.
const (
	colourGate     = "#fff2b3"
	colourGateLine = "#b08800"
	colourRead     = "#e3effd"
	colourReadLine = "#4a76b8"
	colourSkipFill = "#f2f2f2"
	colourSkipLine = "#a0a0a0"
	colourSkipText = "#808080"
	colourImplied  = "#c0c0c0"
	colourBox      = "#909090"
)

// PlanDOT writes the plan's instance graph in Graphviz DOT: one node per
// step instance, labelled with its address inside its box, its kind and
// its target; an arrow from each instance to those that wait for it;
// boxes for module calls, group elements and hooks; and a legend of the
// shapes used. Gates are octagons, once-steps have a double border,
// read-only steps are rounded and blue, conditional ones dotted, deferred
// ones (one per element of a collection known at run time) dashed.
func PlanDOT(w io.Writer, p *plan.Plan, opts GraphOptions) error {
	g, err := buildGraph(p, opts)
	if err != nil {
		return err
	}
	b := &strings.Builder{}
	fmt.Fprintf(b, "digraph %s {\n", dotString(g.name))
	if g.greyed {
		b.WriteString("  // An arrow A -> B: B waits for A. Grey arrows are implied by a longer path.\n")
	} else {
		b.WriteString("  // An arrow A -> B: B waits for A, drawn only where no longer path says so.\n")
	}
	b.WriteString("  graph [rankdir = \"TB\", fontname = \"Helvetica\", fontsize = 11, labeljust = \"l\"];\n")
	b.WriteString("  node [shape = \"box\", fontname = \"Helvetica\", fontsize = 10];\n")
	b.WriteString("  edge [arrowsize = 0.7];\n")
	clusters := 0
	var box func(c *graphCluster, indent string)
	box = func(c *graphCluster, indent string) {
		for _, n := range c.nodes {
			fmt.Fprintf(b, "%s%s [%s];\n", indent, dotString(n.addr), dotNodeAttrs(n.label, n.marks))
		}
		for _, ch := range c.children {
			clusters++
			fmt.Fprintf(b, "%ssubgraph \"cluster_%d\" {\n", indent, clusters)
			fmt.Fprintf(b, "%s  label = %s; style = \"rounded\"; color = %s;\n", indent, dotString(strings.Join(ch.label, "\n")), dotString(colourBox))
			box(ch, indent+"  ")
			fmt.Fprintf(b, "%s}\n", indent)
		}
	}
	box(g.root, "  ")
	for _, e := range g.edges {
		var attrs []string
		switch {
		case e.faint:
			attrs = append(attrs, `style = "dashed"`, "color = "+dotString(colourSkipLine))
		case e.implied:
			attrs = append(attrs, "color = "+dotString(colourImplied))
		}
		fmt.Fprintf(b, "  %s -> %s", dotString(e.from.addr), dotString(e.to.addr))
		if len(attrs) > 0 {
			fmt.Fprintf(b, " [%s]", strings.Join(attrs, ", "))
		}
		b.WriteString(";\n")
	}
	writeDOTLegend(b, g)
	b.WriteString("}\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// writeDOTLegend draws a box with one sample node per mark in use, one
// above the other (joined by invisible arrows, so the legend is one
// column wide).
func writeDOTLegend(b *strings.Builder, g *instanceGraph) {
	fmt.Fprintf(b, "  subgraph \"cluster_legend\" {\n    label = %s; style = \"rounded\"; color = %s;\n", dotString(strings.Join(g.legendTitle(), "\n")), dotString(colourBox))
	var ids []string
	for _, e := range legend {
		if e.mark != 0 && g.marks&e.mark == 0 {
			continue
		}
		id := dotString(fmt.Sprintf("legend.%d", len(ids)))
		ids = append(ids, id)
		fmt.Fprintf(b, "    %s [%s];\n", id, dotNodeAttrs(e.label, e.mark))
	}
	if len(ids) > 1 {
		fmt.Fprintf(b, "    %s [style = \"invis\"];\n", strings.Join(ids, " -> "))
	}
	b.WriteString("  }\n")
}

// dotNodeAttrs are a node's attributes for its label and marks.
func dotNodeAttrs(label []string, m mark) string {
	attrs := []string{"label = " + dotString(strings.Join(label, "\n"))}
	var style []string
	fill, line := "", ""
	switch {
	case m&markSkipped != 0:
		style = append(style, "filled")
		fill, line = colourSkipFill, colourSkipLine
		attrs = append(attrs, "fontcolor = "+dotString(colourSkipText))
	case m&markGate != 0:
		style = append(style, "filled")
		fill, line = colourGate, colourGateLine
	case m&markReadOnly != 0:
		style = append(style, "rounded", "filled")
		fill, line = colourRead, colourReadLine
	}
	if m&markGate != 0 {
		attrs = append(attrs, `shape = "octagon"`)
	}
	if m&markOnce != 0 {
		attrs = append(attrs, "peripheries = 2")
	}
	switch {
	case m&markDeferred != 0:
		style = append(style, "dashed")
	case m&markConditional != 0:
		style = append(style, "dotted")
	}
	if len(style) > 0 {
		attrs = append(attrs, "style = "+dotString(strings.Join(style, ",")))
	}
	if fill != "" {
		attrs = append(attrs, "fillcolor = "+dotString(fill), "color = "+dotString(line))
	}
	return strings.Join(attrs, ", ")
}

// dotString quotes s as a DOT string. Only the quote needs escaping for
// DOT's lexer; backslashes are doubled and line breaks written as \n so
// that labels show the text as it is (DOT gives \l, \N and others a
// meaning in labels). Other characters, UTF-8 included, stay as they are.
func dotString(s string) string {
	if !strings.ContainsAny(s, "\"\\\n\r") {
		return `"` + s + `"`
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
