package main

// The fault matrix (issue 8): rokflow apply of the shipped
// playbooks/rok-v0.11, on both platforms against the simulator, is
// SIGKILLed at a chosen point of a chosen step — (a) once the step's intent
// is journaled, (b) once its handle is, (c) during compensation, once the
// undo owed for it has begun — then resumed, its steps in doubt resolved as
// an operator would (by looking at the simulator), and finished. What
// happened is read from the simulator, not from rokflow: no once-command
// ran twice, nothing ran past a step in doubt (no later rolling element,
// no dependent), every owed undo ran or is reported, and the cluster ends
// upgraded with every Ganeti instance back on its host.
//
// The cells are not listed by hand: a reference run per platform plans the
// playbook against a fresh simulator (plan --discover --json, so rolling
// groups have their elements) and applies it; every instance the plan
// marks once, every instance the reference journal shows recording a
// handle, and every instance with an undo makes cells. `make test` runs a
// sample (sampleCells); ROKFLOW_TORTURE=1 (`make torture`) runs them all.

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rokflow/rokflow/cmd/rokflow/playtest"
	"github.com/rokflow/rokflow/sim"
)

// tortureEnv asks for the whole fault matrix instead of its sample.
const tortureEnv = "ROKFLOW_TORTURE"

// killPoint is where in a step's life rokflow is killed.
type killPoint string

const (
	// atIntent: once the step's running record (its intent) is journaled.
	atIntent killPoint = "a"
	// atHandle: once a running record with its external handle is.
	atHandle killPoint = "b"
	// inUndo: a later step fails, compensation begins, and the undo owed
	// for the step journals its running record.
	inUndo killPoint = "c"
)

// planInstance is the part of an instance of plan --json the matrix uses.
type planInstance struct {
	Address   string   `json:"address"`
	Kind      string   `json:"kind"`
	Action    string   `json:"action"`
	Target    string   `json:"target"`
	DependsOn []string `json:"depends_on"`
	Once      bool     `json:"once"`
	Group     string   `json:"group"`
	Key       string   `json:"key"`
	Undo      string   `json:"undo"`
	Command   []string `json:"command"`
	Args      map[string]struct {
		Value json.RawMessage `json:"value"`
	} `json:"args"`

	index int // position in the plan
}

// arg returns a string argument, "" when it is not a known string.
func (p *planInstance) arg(name string) string {
	var s string
	if a, ok := p.Args[name]; ok && json.Unmarshal(a.Value, &s) == nil && !strings.HasPrefix(s, "(") {
		return s
	}
	return ""
}

// hostCommand reports whether the step runs one command on a node, which
// the simulator lists while it is in flight.
func (p *planInstance) hostCommand() bool {
	return len(p.Command) > 0 && p.Target != "" && p.Target != "local" && !strings.HasPrefix(p.Target, "(")
}

// The Ganeti opcodes of the job-submitting kinds. (The once-commands the
// simulator counts are playtest.OnceCommand's: the record rokflow test
// --crash decides doubts with.)
var ganetiOps = map[string]string{
	"ganeti.instance_migrate":   "INSTANCE_MIGRATE",
	"ganeti.instance_reinstall": "INSTANCE_REINSTALL",
}

// jobSummary is how the simulator's Ganeti names the job of a
// job-submitting step: INSTANCE_MIGRATE(vm1-1.gnt.sim); "" for other kinds.
func (p *planInstance) jobSummary() string {
	if op, ok := ganetiOps[p.Kind]; ok && p.arg("instance") != "" {
		return op + "(" + p.arg("instance") + ")"
	}
	return ""
}

// faultRef is what a reference run of one platform found: the plan, which
// steps recorded handles, and the simulator's counts after a clean upgrade.
type faultRef struct {
	platform   string
	plan       []*planInstance // in plan order, skipped instances left out
	byAddr     map[string]*planInstance
	groups     map[string][]string // element keys of each group, in order
	dependents map[string][]string // reverse depends_on
	handles    map[string]bool
	counters   map[string]sim.NodeCount
	jobs       map[string]int    // Ganeti jobs by the step that submitted them
	home       map[string]string // the host of each Ganeti instance
}

// faultSpec is the simulated cluster of a platform: three members (three
// Ganeti hosts with two guests each), so the rolling group has an element
// after the first one.
func faultSpec(platform string) sim.Spec {
	if platform == sim.PlatformGaneti {
		return sim.Spec{Platform: sim.PlatformGaneti, Hosts: 3, Guests: 2, JobDelay: sim.Duration(20 * time.Millisecond)}
	}
	return sim.Spec{Nodes: 3, AutoOperator: true, OperatorDelay: sim.Duration(50 * time.Millisecond)}
}

// faultReference plans and applies the shipped playbook on a fresh
// simulator of the platform, checks the upgrade, and keeps what the
// matrix is generated from.
func faultReference(t *testing.T, platform string) *faultRef {
	e := startSim(t, faultSpec(platform))
	code, out, stderr := runChild(t, e.rokflow("plan", shipped, "--var-file", e.vars, "--discover", "--json"), time.Minute)
	if code != 0 {
		t.Fatalf("plan --discover --json exited %d:\n%s", code, stderr)
	}
	var doc struct {
		Instances []*planInstance `json:"instances"`
		Groups    []struct {
			Address string   `json:"address"`
			Keys    []string `json:"keys"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("plan --json: %v", err)
	}
	ref := &faultRef{platform: platform, byAddr: map[string]*planInstance{}, groups: map[string][]string{},
		dependents: map[string][]string{}, handles: map[string]bool{}, jobs: map[string]int{}, home: map[string]string{}}
	for _, i := range e.before.Instances {
		ref.home[i.Name] = i.PNode
	}
	for _, g := range doc.Groups {
		ref.groups[g.Address] = g.Keys
	}
	for _, inst := range doc.Instances {
		if inst.Action == "skip" {
			continue
		}
		if strings.Contains(inst.Address, "[*]") {
			t.Fatalf("%s: the plan left a template; --discover should make every element known", inst.Address)
		}
		inst.index = len(ref.plan)
		ref.plan = append(ref.plan, inst)
		ref.byAddr[inst.Address] = inst
		for _, d := range inst.DependsOn {
			ref.dependents[d] = append(ref.dependents[d], inst.Address)
		}
	}
	code, out, stderr = e.apply(shipped)
	if code != 0 {
		t.Fatalf("the reference apply exited %d:\n%s\n%s", code, lastLines(out, 30), stderr)
	}
	st := e.checkUpgraded(upgradedCounters(e.before))
	ref.counters = st.Counters
	for _, r := range readJournal(t, e.journalPath()) {
		if r.Kind == "step" && r.Handle != "" {
			ref.handles[r.Addr] = true
		}
	}
	jobs := simJobs(t, e)
	for _, p := range ref.plan {
		if p.jobSummary() != "" {
			ref.jobs[p.Address] = ref.countJobs(jobs, p)
		}
	}
	if len(ref.handles) == 0 {
		t.Fatal("no step of the reference run journaled a handle")
	}
	if err := e.srv.Close(); err != nil { // the cells start their own
		t.Fatalf("stopping the simulator: %v", err)
	}
	return ref
}

// lastElement reports whether inst belongs to the last element of its
// rolling group, after which no element comes.
func (ref *faultRef) lastElement(inst *planInstance) bool {
	keys := ref.groups[inst.Group]
	return inst.Group != "" && len(keys) > 0 && keys[len(keys)-1] == inst.Key
}

// eachKey is the for_each key at the end of an address.
var eachKey = regexp.MustCompile(`\["[^"]*"\]$`)

// undoOf is the instance of inst's undo: the element with inst's own
// for_each key when the undo has one (evacuate["g"] ⇒ migrate_back["g"]).
func (ref *faultRef) undoOf(inst *planInstance) *planInstance {
	if k := eachKey.FindString(inst.Address); k != "" {
		if u := ref.byAddr[inst.Undo+k]; u != nil {
			return u
		}
	}
	return ref.byAddr[inst.Undo]
}

// dependentsOf returns every instance that depends on addr, directly or
// not, in plan order.
func (ref *faultRef) dependentsOf(addr string) []*planInstance {
	seen := map[string]bool{}
	queue := []string{addr}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		for _, d := range ref.dependents[a] {
			if !seen[d] {
				seen[d] = true
				queue = append(queue, d)
			}
		}
	}
	var out []*planInstance
	for _, inst := range ref.plan {
		if seen[inst.Address] {
			out = append(out, inst)
		}
	}
	return out
}

// laterElements returns the instances of the elements of inst's rolling
// group that come after inst's element.
func (ref *faultRef) laterElements(inst *planInstance) []*planInstance {
	keys := ref.groups[inst.Group]
	at := slices.Index(keys, inst.Key)
	if inst.Group == "" || at < 0 {
		return nil
	}
	var out []*planInstance
	for _, p := range ref.plan {
		if p.Group == inst.Group && slices.Index(keys, p.Key) > at {
			out = append(out, p)
		}
	}
	return out
}

// simFault is a fault the simulator can inject to fail the step inst.
// Each fails once: the run that meets it fails and compensates, and the
// resumed run finds the cluster healed.
func simFault(inst *planInstance) (sim.Faults, bool) {
	switch inst.Kind {
	case "rok.upgrade_node":
		return sim.Faults{FailUpgradeNode: []string{inst.Target}}, true
	case "ganeti.instance_reinstall":
		// The job's first opcode, the shutdown, fails: a re-install that
		// failed after it would leave the appliance down, and no undo could
		// bring guests back to a host whose appliance is down.
		return sim.Faults{FailJobs: []sim.JobFault{{Op: "shutdown", Target: inst.arg("instance"), Times: 1}}}, inst.arg("instance") != ""
	case "ganeti.instance_migrate":
		return sim.Faults{FailJobs: []sim.JobFault{{Op: "migrate", Target: inst.arg("instance"), Times: 1}}}, inst.arg("instance") != ""
	}
	return sim.Faults{}, false
}

// failureAfter is the first step after inst, and before its undo, that
// depends on inst and that the simulator can fail: its failure makes the
// run compensate while inst's undo is owed.
func (ref *faultRef) failureAfter(inst, undo *planInstance) *planInstance {
	for _, d := range ref.dependentsOf(inst.Address) {
		if d.index >= undo.index {
			break
		}
		if _, ok := simFault(d); ok && d != undo {
			return d
		}
	}
	return nil
}

// faultCell is one cell of the matrix.
type faultCell struct {
	platform string
	point    killPoint
	// step is the instance whose journal record is the kill point: the
	// step itself, or for inUndo its undo.
	step *planInstance
	// pair is the step whose undo step is (inUndo only), and fail the
	// step the injected fault fails.
	pair, fail *planInstance
	// acted: the kill waits until the step's command has acted on its
	// node (the process is stopped first, so it cannot journal the end).
	acted bool
	// wrong: the step in doubt is resolved the wrong way, to see the run
	// refuse or report it.
	wrong bool
}

func (c faultCell) name() string {
	how := string(c.point)
	if c.acted {
		how += "-acted"
	}
	if c.wrong {
		how += "-wrong"
	}
	addr := c.step.Address
	if c.pair != nil {
		addr = c.pair.Address
	}
	return c.platform + "/" + how + "/" + addr
}

// faultCells generates the matrix of a platform from its reference run.
func faultCells(t *testing.T, ref *faultRef) []faultCell {
	var cells []faultCell
	add := func(c faultCell) {
		c.platform = ref.platform
		cells = append(cells, c)
	}
	for _, inst := range ref.plan {
		if inst.Action != "run" && inst.Action != "conditional" || ref.lastElement(inst) {
			continue
		}
		if inst.Once {
			add(faultCell{point: atIntent, step: inst})
			if inst.hostCommand() {
				add(faultCell{point: atIntent, step: inst, acted: true})
			}
		}
		if ref.handles[inst.Address] {
			add(faultCell{point: atHandle, step: inst})
			if inst.hostCommand() {
				add(faultCell{point: atHandle, step: inst, acted: true})
			}
		}
		if inst.Undo != "" {
			undo := ref.undoOf(inst)
			if undo == nil {
				t.Errorf("%s: its undo %s is not in the plan", inst.Address, inst.Undo)
				continue
			}
			fail := ref.failureAfter(inst, undo)
			if fail == nil {
				t.Errorf("%s: no step after it and before %s that the simulator can fail", inst.Address, undo.Address)
				continue
			}
			add(faultCell{point: inUndo, step: undo, pair: inst, fail: fail})
			if undo.hostCommand() {
				add(faultCell{point: inUndo, step: undo, pair: inst, fail: fail, acted: true})
			}
		}
	}
	// The wrong answers, on the first once-command of the plan: --retry
	// after it acted, --done when it did not.
	for _, inst := range ref.plan {
		if inst.Once && inst.hostCommand() && playtest.OnceCommand(inst.Kind) != "" {
			add(faultCell{point: atIntent, step: inst, acted: true, wrong: true})
			add(faultCell{point: atIntent, step: inst, wrong: true})
			break
		}
	}
	return cells
}

// sampleCells is what `make test` runs of a platform's matrix: for each
// kill point the first cell in plan order, preferring on appliances the
// kill after the command acted and on Ganeti the job-submitting steps;
// (a) in a rolling group's element, so that the hold of later elements is
// checked; and on appliances the wrong --done answer.
func sampleCells(cells []faultCell) []faultCell {
	var out []faultCell
	for _, point := range []killPoint{atIntent, atHandle, inUndo} {
		best, score := -1, -1
		for i, c := range cells {
			if c.point != point || c.wrong {
				continue
			}
			s := 0
			if c.acted == (c.platform == sim.PlatformAppliance) {
				s += 2
			}
			if point == atIntent && c.step.Group != "" || point != atIntent && c.step.jobSummary() != "" {
				s++
			}
			if s > score {
				best, score = i, s
			}
		}
		if best >= 0 {
			out = append(out, cells[best])
		}
	}
	for _, c := range cells {
		if c.wrong && !c.acted && c.platform == sim.PlatformAppliance {
			out = append(out, c)
			break
		}
	}
	return out
}

// faultStats are the figures of a matrix run.
type faultStats struct {
	mu                          sync.Mutex
	cells, kills, missed        int
	done, retried, wrong        int
	reattached, held, refused   int
	undosHeld                   int
	skipped                     []string
	danglingObligations         int
	applies, resolves, maxRound int
}

func (s *faultStats) add(f func(s *faultStats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// TestFaultMatrix runs the fault matrix: its sample, or all of it with
// ROKFLOW_TORTURE=1.
func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault matrix runs the v0.11 upgrade many times")
	}
	full := os.Getenv(tortureEnv) == "1"
	start := time.Now()
	stats := &faultStats{}
	total := 0
	for _, platform := range []string{sim.PlatformAppliance, sim.PlatformGaneti} {
		ref := faultReference(t, platform)
		cells := faultCells(t, ref)
		generated := len(cells)
		total += generated
		if !full {
			cells = sampleCells(cells)
		}
		t.Logf("%s: %d cells generated, running %d", platform, generated, len(cells))
		for _, c := range cells {
			t.Run(c.name(), func(t *testing.T) { runCell(t, ref, c, stats) })
		}
	}
	stats.mu.Lock()
	defer stats.mu.Unlock()
	t.Logf("fault matrix: %d of %d cells in %s; %d kills (%d retried for a missed kill point), %d applies, %d resolves "+
		"(%d --done, %d --retry, %d wrong answers refused or reported), %d re-attached to a handle, %d holds checked, "+
		"%d resolves of a step not in doubt refused, %d undos held back by their condition (no kill), at most %d resumes in a cell, %d obligations naming no step; skipped: %v",
		stats.cells, total, time.Since(start).Round(time.Second), stats.kills, stats.missed, stats.applies, stats.resolves,
		stats.done, stats.retried, stats.wrong, stats.reattached, stats.held, stats.refused, stats.undosHeld, stats.maxRound,
		stats.danglingObligations, stats.skipped)
}

// String names a cell's kill point for messages.
func (c faultCell) String() string {
	what := map[killPoint]string{atIntent: "its intent was journaled", atHandle: "its handle was journaled", inUndo: "its undo began during compensation"}[c.point]
	if c.acted {
		what += " and its command acted"
	}
	return fmt.Sprintf("%s, killed once %s", c.step.Address, what)
}
