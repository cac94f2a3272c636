package views

import (
	"bytes"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/runtime/plan"
)

func TestSplitAddress(t *testing.T) {
	tests := map[string][]string{
		"step.a":                               {"step.a"},
		`step.a["k"]`:                          {`step.a["k"]`},
		"module.m.step.a":                      {"module.m", "step.a"},
		`group.g["rok2.prod"].module.n.step.s`: {`group.g["rok2.prod"]`, "module.n", "step.s"},
		"group.g[*].module.n.hook.h.step.s[*]": {"group.g[*]", "module.n", "hook.h", "step.s[*]"},
		`step.a["x\"].y"]`:                     {`step.a["x\"].y"]`},
		"nonsense":                             {"nonsense"},
		"module.m.step":                        {"module.m.step"},
		`step.a["unterminated`:                 {`step.a["unterminated`},
	}
	for addr, want := range tests {
		t.Run(addr, func(t *testing.T) {
			if got := splitAddress(addr); !reflect.DeepEqual(got, want) {
				t.Errorf("splitAddress(%q) = %q, want %q", addr, got, want)
			}
		})
	}
}

func TestDOTString(t *testing.T) {
	tests := map[string]string{
		"plain":        `"plain"`,
		`a "q" b`:      `"a \"q\" b"`,
		`back\slash`:   `"back\\slash"`,
		"two\nlines":   `"two\nlines"`,
		`\l not a cmd`: `"\\l not a cmd"`,
		"café → ü":     `"café → ü"`,
		"cr\r\nlf":     `"cr\nlf"`,
	}
	for in, want := range tests {
		if got := dotString(in); got != want {
			t.Errorf("dotString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMermaidText(t *testing.T) {
	tests := map[string]string{
		"plain":            "plain",
		`step.a["k"]`:      "step.a[#quot;k#quot;]",
		"a#b":              "a#35;b",
		"<b>&amp;</b>":     "#lt;b#gt;#amp;amp;#lt;/b#gt;",
		"`md`":             "#96;md#96;",
		"two\nlines":       "two<br>lines",
		"#quot; is a code": "#35;quot; is a code",
	}
	for in, want := range tests {
		if got := mermaidText(in); got != want {
			t.Errorf("mermaidText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKnownAfter(t *testing.T) {
	tests := map[string]string{
		"runs if its when condition holds, (known after step.members)":                   "known after step.members",
		"one instance per element, elements (known after step.members, module.x.step.y)": "known after step.members, module.x.step.y",
		"one instance per element, elements (known after apply)":                         "known after apply",
		"": "known at run time",
		"runs if its when condition holds, (known after step.members": "known at run time",
	}
	for in, want := range tests {
		if got := knownAfter(in); got != want {
			t.Errorf("knownAfter(%q) = %q, want %q", in, got, want)
		}
	}
}

// chainPlan is a → s → b, with s skipped, and c waiting for all three.
func chainPlan() *plan.Plan {
	return &plan.Plan{
		Playbook: plan.Playbook{Name: "chain"},
		Instances: []*plan.Instance{
			{Address: "step.a", Kind: "exec", Action: plan.Run},
			{Address: "step.s", Kind: "exec", Action: plan.Skip, DependsOn: []string{"step.a"}},
			{Address: "step.b", Kind: "exec", Action: plan.Run, DependsOn: []string{"step.s"}},
			{Address: "step.c", Kind: "exec", Action: plan.Run, DependsOn: []string{"step.a", "step.s", "step.b"}},
		},
	}
}

// edgeList renders a graph's edges as "from -> to" with a mark for
// implied (~) and faint (.) ones.
func edgeList(g *instanceGraph) []string {
	var out []string
	for _, e := range g.edges {
		s := e.from.addr + " -> " + e.to.addr
		if e.implied {
			s += " ~"
		}
		if e.faint {
			s += " ."
		}
		out = append(out, s)
	}
	return out
}

func TestBuildGraphEdges(t *testing.T) {
	tests := map[string]struct {
		opts GraphOptions
		want []string
	}{
		"skipped left out, order kept through it": {
			GraphOptions{},
			[]string{"step.a -> step.b", "step.b -> step.c"},
		},
		"skipped drawn": {
			GraphOptions{Skipped: true},
			[]string{"step.a -> step.s .", "step.s -> step.b .", "step.b -> step.c"},
		},
		"all edges": {
			GraphOptions{AllEdges: true},
			[]string{"step.a -> step.b", "step.a -> step.c ~", "step.b -> step.c"},
		},
		"all edges and skipped": {
			GraphOptions{AllEdges: true, Skipped: true},
			[]string{"step.a -> step.s .", "step.s -> step.b .", "step.a -> step.c ~", "step.s -> step.c ~ .", "step.b -> step.c"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g, err := buildGraph(chainPlan(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := edgeList(g); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("edges:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestBuildGraphRefusesCycle(t *testing.T) {
	p := chainPlan()
	p.Instances[0].DependsOn = []string{"step.c"}
	if _, err := buildGraph(p, GraphOptions{}); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("error %v, want a cycle", err)
	}
}

// boxes renders the cluster tree as indented labels and node labels.
func boxes(c *graphCluster, indent string, out *[]string) {
	for _, n := range c.nodes {
		*out = append(*out, indent+strings.Join(n.label, " | "))
	}
	for _, ch := range c.children {
		*out = append(*out, indent+"["+strings.Join(ch.label, " | ")+"]")
		boxes(ch, indent+"  ", out)
	}
}

func TestBuildGraphBoxes(t *testing.T) {
	p := &plan.Plan{
		Instances: []*plan.Instance{
			{Address: "step.members", Kind: "rok.member_list", Target: "rok1", ReadOnly: true, Action: plan.Run},
			{Address: "module.m.step.swap", Kind: "manual", Gate: true, Action: plan.Conditional, Reason: "runs if its when condition holds, (known after step.members)"},
			{Address: "module.m.hook.h.step.x", Kind: "exec", Action: plan.Run},
			{Address: "group.g[*].module.n.step.up", Kind: "rok.upgrade_node", Once: true, Action: plan.Deferred, Reason: "one instance per element, elements (known after step.members)"},
			{Address: "group.g[*].module.n.step.each[*]", Kind: "exec", Action: plan.Deferred, Reason: "one instance per element, elements (known after step.members)"},
			{Address: `group.h["a.b"].step.s`, Kind: "exec", Action: plan.Run},
			{Address: `group.h["c"].step.s`, Kind: "exec", Action: plan.Run},
			{Address: `group.h["c"].step.gone`, Kind: "exec", Action: plan.Skip},
			{Address: `module.skipped.step.gone`, Kind: "exec", Action: plan.Skip},
		},
		Groups: []*plan.Group{
			{Address: "group.g", Deferred: true, KnownAfter: "step.members", Batch: 1},
			{Address: "group.h", Keys: []string{"a.b", "c"}, Batch: 2, MaxFailures: 1, Pause: "30s"},
		},
	}
	g, err := buildGraph(p, GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	boxes(g.root, "", &got)
	want := []string{
		"step.members | rok.member_list | on rok1",
		"[module.m]",
		"  step.swap | manual | when: known after step.members",
		"  [hook.h]",
		"    step.x | exec",
		"[group.g[*].module.n | rolling, 1 at a time | one per element, known after step.members]",
		"  step.up | rok.upgrade_node",
		"  step.each[*] | exec | one per element, known after step.members",
		"[group.h | rolling, 2 at a time, 1 may fail, pause 30s]",
		`  [["a.b"]]`,
		"    step.s | exec",
		`  [["c"]]`,
		"    step.s | exec",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("boxes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if want := markReadOnly | markGate | markConditional | markOnce | markDeferred; g.marks != want {
		t.Errorf("marks %b, want %b", g.marks, want)
	}
}

// oddPlan has addresses and a name that DOT and Mermaid must escape.
func oddPlan() *plan.Plan {
	return &plan.Plan{
		Playbook: plan.Playbook{Name: "odd \"name\"\n#1"},
		Instances: []*plan.Instance{
			{Address: `step.a["q\"uote"]`, Kind: "exec", Target: "h<1>", Action: plan.Run},
			{Address: `step.a["back\\slash"]`, Kind: "exec", Action: plan.Run, DependsOn: []string{`step.a["q\"uote"]`}},
			{Address: `group.g["end"].step.b`, Kind: "manual", Gate: true, Action: plan.Run, DependsOn: []string{`step.a["back\\slash"]`}},
			{Address: `group.g["x#&;` + "`" + `"].step.b`, Kind: "exec", Once: true, ReadOnly: false, Action: plan.Skip, DependsOn: []string{`step.a["back\\slash"]`}},
			{Address: "step.é", Kind: "wait", ReadOnly: true, Action: plan.Run, DependsOn: []string{`group.g["end"].step.b`, `group.g["x#&;` + "`" + `"].step.b`}},
		},
		Groups: []*plan.Group{{Address: "group.g", Keys: []string{"end", "x#&;`"}, Batch: 1}},
	}
}

func TestPlanDOTWellFormed(t *testing.T) {
	for _, opts := range []GraphOptions{{}, {Skipped: true, AllEdges: true}} {
		var b bytes.Buffer
		if err := PlanDOT(&b, oddPlan(), opts); err != nil {
			t.Fatal(err)
		}
		nodes, edges := checkDOT(t, b.String())
		wantNodes := 4
		if opts.Skipped {
			wantNodes = 5
		}
		if nodes != wantNodes {
			t.Errorf("%+v: %d nodes, want %d:\n%s", opts, nodes, wantNodes, b.String())
		}
		if edges == 0 {
			t.Errorf("%+v: no edges:\n%s", opts, b.String())
		}
		renderDOT(t, b.Bytes())
	}
}

var (
	dotQuoted = `"(?:[^"\\]|\\.)*"`
	dotNode   = regexp.MustCompile(`^\s*(` + dotQuoted + `) \[(.*)\];$`)
	dotEdge   = regexp.MustCompile(`^\s*(` + dotQuoted + `) -> (` + dotQuoted + `)(?: \[.*\])?;$`)
	dotOther  = regexp.MustCompile(`^\s*(digraph ` + dotQuoted + ` \{|subgraph "cluster_\w+" \{|\}|//.*|(graph|node|edge) \[.*\];|label = ` + dotQuoted + `; style = "rounded"; color = "#[0-9a-f]{6}";|("legend\.\d+" -> )+"legend\.\d+" \[style = "invis"\];)$`)
)

// checkDOT reads DOT as rokflow writes it, line by line, and fails on a
// line it cannot read, an unbalanced brace, a node declared twice, or an
// edge to an undeclared node. It returns the number of plan nodes (legend
// samples left out) and edges.
func checkDOT(t *testing.T, dot string) (nodes, edges int) {
	t.Helper()
	declared := map[string]bool{}
	depth := 0
	var ends [][2]string
	for i, line := range strings.Split(strings.TrimSuffix(dot, "\n"), "\n") {
		switch {
		case dotNode.MatchString(line):
			id := dotNode.FindStringSubmatch(line)[1]
			if declared[id] {
				t.Errorf("line %d declares %s again", i+1, id)
			}
			declared[id] = true
			if !strings.HasPrefix(id, `"legend.`) {
				nodes++
			}
		case dotEdge.MatchString(line):
			m := dotEdge.FindStringSubmatch(line)
			ends = append(ends, [2]string{m[1], m[2]})
			edges++
		case dotOther.MatchString(line):
			depth += strings.Count(line, "{") - strings.Count(line, "}")
			if depth < 0 {
				t.Fatalf("line %d closes a brace never opened", i+1)
			}
		default:
			t.Fatalf("line %d is not DOT as rokflow writes it: %q", i+1, line)
		}
	}
	if depth != 0 {
		t.Errorf("%d braces left open", depth)
	}
	for _, e := range ends {
		for _, id := range e {
			if !declared[id] {
				t.Errorf("an edge names %s, which is not declared", id)
			}
		}
	}
	return nodes, edges
}

// renderDOT has Graphviz lay the drawing out when dot is installed, and
// fails on any warning it prints.
func renderDOT(t *testing.T, dot []byte) {
	t.Helper()
	path, err := exec.LookPath("dot")
	if err != nil {
		t.Log("Graphviz's dot is not installed; the drawing is checked without it")
		return
	}
	cmd := exec.Command(path, "-Tsvg")
	cmd.Stdin = bytes.NewReader(dot)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil || errb.Len() > 0 {
		t.Fatalf("dot -Tsvg: %v\n%s", err, errb.String())
	}
	if !bytes.Contains(out.Bytes(), []byte("<svg")) {
		t.Fatalf("dot -Tsvg wrote no SVG:\n%s", out.String())
	}
}

func TestPlanMermaidWellFormed(t *testing.T) {
	for _, opts := range []GraphOptions{{}, {Skipped: true, AllEdges: true}} {
		var b bytes.Buffer
		if err := PlanMermaid(&b, oddPlan(), opts); err != nil {
			t.Fatal(err)
		}
		checkMermaid(t, b.String())
	}
}

var (
	mmdLabel = `"[^"<>&` + "`" + `]*"`
	mmdNode  = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9]*)(\[` + mmdLabel + `\]|\(\[` + mmdLabel + `\]\)|\[\[` + mmdLabel + `\]\]|\{\{` + mmdLabel + `\}\})$`)
	mmdEdge  = regexp.MustCompile(`^\s*(s\d+) (-->|-\.->) (s\d+)$`)
	mmdOpen  = regexp.MustCompile(`^\s*subgraph ([A-Za-z][A-Za-z0-9]*) \[` + mmdLabel + `\]$`)
	mmdOther = regexp.MustCompile(`^(flowchart TB|\s*%%.*|\s*legend\d+( ~~~ legend\d+)+|  classDef \w+ [a-z-]+:[^ ,]+( [^ ,]+)?(,[a-z-]+:[^ ,]+( [^ ,]+)?)*|  class [A-Za-z0-9,]+ \w+|  linkStyle [\d,]+ stroke:#[0-9a-f]{6})$`)
)

// checkMermaid reads a flowchart as rokflow writes it, line by line:
// Mermaid-safe ids, labels holding no character Mermaid would read (the
// quote, < > & and the backtick are entity codes; <br> breaks lines and
// is the only markup, so it is taken out first), subgraphs closed, every
// edge between declared nodes, every node of a class declared.
func checkMermaid(t *testing.T, text string) {
	t.Helper()
	declared := map[string]bool{}
	depth := 0
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if lines[0] != "flowchart TB" {
		t.Fatalf("the first line is %q, not the diagram type", lines[0])
	}
	for i, raw := range lines {
		line := strings.ReplaceAll(raw, "<br>", " ")
		switch {
		case mmdNode.MatchString(line):
			id := mmdNode.FindStringSubmatch(line)[1]
			if declared[id] {
				t.Errorf("line %d declares %s again", i+1, id)
			}
			declared[id] = true
		case mmdEdge.MatchString(line):
			m := mmdEdge.FindStringSubmatch(line)
			for _, id := range []string{m[1], m[3]} {
				if !declared[id] {
					t.Errorf("line %d links %s, not declared before", i+1, id)
				}
			}
		case mmdOpen.MatchString(line):
			depth++
		case strings.TrimSpace(line) == "end":
			depth--
			if depth < 0 {
				t.Fatalf("line %d ends a subgraph never opened", i+1)
			}
		case mmdOther.MatchString(line):
			if strings.HasPrefix(line, "  class ") {
				for _, id := range strings.Split(strings.Fields(line)[1], ",") {
					if !declared[id] {
						t.Errorf("line %d gives a class to %s, not declared", i+1, id)
					}
				}
			}
		default:
			t.Fatalf("line %d is not Mermaid as rokflow writes it: %q", i+1, raw)
		}
	}
	if depth != 0 {
		t.Errorf("%d subgraphs left open", depth)
	}
}
