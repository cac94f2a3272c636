package main

import (
	"encoding/json"
	"io"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/cmd/rokflow/views"
	"github.com/rokflow/rokflow/internal/benchgen"
	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/sim"
)

// graphSecrets are the v0.11 playbook's passwords, which no drawing may
// show.
var graphSecrets = map[string]string{"ROKFLOW_VAR_rapi_password": "gnt-rapi-pass", "ROKFLOW_VAR_roke_password": "roke-root-pass"}

// graphEnv is the environment to plan a playbook in: the v0.11
// playbook's secrets for it, nothing for the others, which declare no
// such variables.
func graphEnv(playbook string) map[string]string {
	if playbook == rokV011 {
		return graphSecrets
	}
	return nil
}

const (
	graphSmall = "testdata/graph"
	rokV011    = "../../playbooks/rok-v0.11"
)

// graphInputs are the inputs each drawn playbook is planned with.
var graphInputs = map[string][]string{
	"small":               {graphSmall},
	"rok-v0.11-appliance": {rokV011, "--var-file", rokV011 + "/example.vars.hcl"},
	"rok-v0.11-ganeti":    {rokV011, "--var-file", rokV011 + "/example.vars.hcl", "--var", "platform=ganeti"},
}

func TestGraphGolden(t *testing.T) {
	tests := map[string][]string{}
	for name, in := range graphInputs {
		tests["graph-"+name+".dot"] = in
		tests["graph-"+name+".mermaid"] = append(slices.Clone(in), "--format", "mermaid")
	}
	tests["graph-small-all.dot"] = []string{graphSmall, "--all-edges", "--skipped"}
	tests["graph-small-all.mermaid"] = []string{graphSmall, "--all-edges", "--skipped", "--format", "mermaid"}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, stderr := run(t, graphEnv(args[0]), append([]string{"graph"}, args...)...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			for _, secret := range graphSecrets {
				if strings.Contains(out+stderr, secret) {
					t.Fatalf("the drawing shows the secret %q", secret)
				}
			}
			golden(t, name, out)
		})
	}
}

// TestGraphKeepsEveryOrder checks each drawing against its plan: it shows
// exactly the instances it should, an instance can be reached from
// another in the drawing exactly when it waits for it in the plan (through
// skipped instances too), and without --all-edges no arrow is implied by
// the others, while with it every dependency between drawn instances is
// an arrow.
func TestGraphKeepsEveryOrder(t *testing.T) {
	inputs := maps.Clone(graphInputs)
	examples, _ := filepath.Glob("../../examples/0*")
	for _, ex := range examples {
		inputs[filepath.Base(ex)] = []string{ex}
	}
	for name, in := range inputs {
		p := planJSON(t, in...)
		for _, flags := range [][]string{nil, {"--skipped"}, {"--all-edges"}, {"--all-edges", "--skipped"}} {
			t.Run(name+strings.Join(flags, ""), func(t *testing.T) {
				code, out, stderr := run(t, graphEnv(in[0]), append(append([]string{"graph"}, in...), flags...)...)
				if code != 0 {
					t.Fatalf("exit %d:\n%s", code, stderr)
				}
				checkDrawing(t, p, out, slices.Contains(flags, "--skipped"), slices.Contains(flags, "--all-edges"))
			})
		}
	}
}

// TestGraphDiscover draws the v0.11 playbook with the cluster's member
// list read from a simulator: one box per slave, nothing left to run
// time but what only a run can know.
func TestGraphDiscover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a simulated cluster")
	}
	e := startSim(t, sim.Spec{Nodes: 3})
	env := map[string]string{}
	for _, kv := range e.env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	args := []string{rokV011, "--var-file", e.vars, "--discover"}
	code, out, stderr := run(t, env, append([]string{"graph"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if strings.Contains(out, "[*]") {
		t.Errorf("the drawing still has one box for every element:\n%s", out)
	}
	for _, node := range []string{"rok2.sim", "rok3.sim"} {
		box := `label = "[\"` + node + `\"].module.node";`
		if !strings.Contains(out, box) {
			t.Errorf("no box %s for slave %s:\n%s", box, node, out)
		}
	}
	if strings.Contains(out, "master_ganeti") {
		t.Errorf("the Ganeti branch is drawn on appliances:\n%s", out)
	}
	p := planJSON(t, args...)
	if !p.Discovered {
		t.Fatal("the plan was not made with discovery")
	}
	checkDrawing(t, p, out, false, false)
}

func TestGraphUsage(t *testing.T) {
	code, _, stderr := run(t, nil, "graph", graphSmall, "--format", "svg")
	if code != exitUsage || !strings.Contains(stderr, `"mermaid"`) {
		t.Fatalf("exit %d, want %d and the formats named:\n%s", code, exitUsage, stderr)
	}
}

// planJSON plans a playbook as graph would and decodes the plan.
func planJSON(tb testing.TB, args ...string) *plan.Plan {
	tb.Helper()
	code, out, stderr := run(tb, graphEnv(args[0]), append([]string{"plan", "--json"}, args...)...)
	if code != 0 {
		tb.Fatalf("plan exit %d:\n%s", code, stderr)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		tb.Fatal(err)
	}
	return &p
}

var (
	dotID     = `"((?:[^"\\]|\\.)*)"`
	drawnNode = regexp.MustCompile(`(?m)^\s*` + dotID + ` \[label = `)
	drawnEdge = regexp.MustCompile(`(?m)^\s*` + dotID + ` -> ` + dotID + `(?: \[.*\])?;$`)
)

// dotUnquote undoes the quoting of a DOT id as rokflow writes it.
func dotUnquote(s string) string {
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(s)
}

// checkDrawing compares a DOT drawing with the plan it was drawn from.
func checkDrawing(t *testing.T, p *plan.Plan, dot string, skipped, allEdges bool) {
	t.Helper()
	index := map[string]int{}
	for i, inst := range p.Instances {
		index[inst.Address] = i
	}
	shown := func(i int) bool { return skipped || p.Instances[i].Action != plan.Skip }

	var drawn []int
	for _, m := range drawnNode.FindAllStringSubmatch(dot, -1) {
		addr := dotUnquote(m[1])
		if strings.HasPrefix(addr, "legend.") {
			continue
		}
		i, ok := index[addr]
		if !ok {
			t.Fatalf("the drawing has %s, which the plan has not", addr)
		}
		drawn = append(drawn, i)
	}
	var want []int
	for i := range p.Instances {
		if shown(i) {
			want = append(want, i)
		}
	}
	slices.Sort(drawn) // the drawing lists them box by box
	if !slices.Equal(drawn, want) {
		t.Fatalf("drawn instances %v, want %v", drawn, want)
	}

	n := len(p.Instances)
	planned := make([][]bool, n) // planned[u][v]: v waits for u
	for v, inst := range p.Instances {
		for _, d := range inst.DependsOn {
			u, ok := index[d]
			if !ok {
				t.Fatalf("%s waits for %s, which the plan has not", inst.Address, d)
			}
			if planned[u] == nil {
				planned[u] = make([]bool, n)
			}
			planned[u][v] = true
		}
	}
	arrows := make([][]bool, n)
	count := 0
	for _, m := range drawnEdge.FindAllStringSubmatch(dot, -1) {
		from, to := dotUnquote(m[1]), dotUnquote(m[2])
		if strings.HasPrefix(from, "legend.") {
			continue
		}
		u, v := index[from], index[to]
		if arrows[u] == nil {
			arrows[u] = make([]bool, n)
		}
		if arrows[u][v] {
			t.Errorf("the arrow %s -> %s is drawn twice", from, to)
		}
		arrows[u][v] = true
		count++
	}
	t.Logf("%d arrows for %d dependencies", count, countTrue(planned))

	reachPlan := closure(planned)
	reachDrawn := closure(arrows)
	for _, u := range want {
		for _, v := range want {
			if reachPlan[u][v] != reachDrawn[u][v] {
				t.Errorf("%s before %s: the plan says %v, the drawing %v", p.Instances[u].Address, p.Instances[v].Address, reachPlan[u][v], reachDrawn[u][v])
			}
			if allEdges && planned[u] != nil && planned[u][v] && (arrows[u] == nil || !arrows[u][v]) {
				t.Errorf("with --all-edges, the dependency %s -> %s is not drawn", p.Instances[u].Address, p.Instances[v].Address)
			}
		}
	}
	if allEdges {
		return
	}
	// Without the arrow u → v, v must no longer be reachable from u.
	for u := range arrows {
		for v := range arrows[u] {
			if !arrows[u][v] {
				continue
			}
			arrows[u][v] = false
			if closure(arrows)[u][v] {
				t.Errorf("the arrow %s -> %s is implied by the others", p.Instances[u].Address, p.Instances[v].Address)
			}
			arrows[u][v] = true
		}
	}
}

// closure returns reach[u][v]: a path of edges leads from u to v.
func closure(edges [][]bool) [][]bool {
	n := len(edges)
	reach := make([][]bool, n)
	for u := range n {
		reach[u] = make([]bool, n)
		stack := []int{u}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for y, ok := range edges[x] {
				if ok && !reach[u][y] {
					reach[u][y] = true
					stack = append(stack, y)
				}
			}
		}
	}
	return reach
}

func countTrue(m [][]bool) int {
	c := 0
	for _, row := range m {
		for _, ok := range row {
			if ok {
				c++
			}
		}
	}
	return c
}

// BenchmarkGraph2000 draws the plan of a generated playbook of 2,001 step
// instances (100 nodes × 20 chained steps in a rolling group, each step
// also waiting for the discovery before the group): the reduction and the
// writing, planning left out.
func BenchmarkGraph2000(b *testing.B) {
	dir := b.TempDir()
	if err := benchgen.Rolling(dir, 100, 20); err != nil {
		b.Fatal(err)
	}
	p := planJSON(b, dir, "--var-file", filepath.Join(dir, "nodes.vars.hcl"))
	if len(p.Instances) != 2001 {
		b.Fatalf("%d instances, want 2001", len(p.Instances))
	}
	deps := 0
	for _, inst := range p.Instances {
		deps += len(inst.DependsOn)
	}
	for _, tc := range []struct {
		name  string
		draw  func(io.Writer, *plan.Plan, views.GraphOptions) error
		opts  views.GraphOptions
		edges int // arrows drawn
	}{
		{"dot", views.PlanDOT, views.GraphOptions{}, 2000},
		{"dot/all-edges", views.PlanDOT, views.GraphOptions{AllEdges: true}, deps},
		{"mermaid", views.PlanMermaid, views.GraphOptions{}, 2000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var sb strings.Builder
			if err := tc.draw(&sb, p, tc.opts); err != nil {
				b.Fatal(err)
			}
			arrow := " -> "
			if strings.HasPrefix(tc.name, "mermaid") {
				arrow = " --> "
			}
			if got := strings.Count(sb.String(), arrow); got < tc.edges || got > tc.edges+1 {
				b.Fatalf("%d arrows, want %d (and the legend's)", got, tc.edges)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := tc.draw(io.Discard, p, tc.opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(deps), "deps")
			b.ReportMetric(float64(tc.edges), "arrows")
		})
	}
}
