package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/cmd/rokflow/playtest"
	"github.com/rokflow/rokflow/sim"
)

// journalRecord is the part of a file journal record the matrix reads.
type journalRecord struct {
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"`
	Addr       string    `json:"addr"`
	Status     string    `json:"status"`
	Attempt    int       `json:"attempt"`
	Handle     string    `json:"handle"`
	Resolution string    `json:"resolution"`
	Undo       string    `json:"undo"`
}

// step reports whether the record is a transition of the step at addr.
func (r journalRecord) step(addr string) bool { return r.Kind == "step" && r.Addr == addr }

// journalPath is the file journal of the test's runs.
func (e *e2eSim) journalPath() string {
	return filepath.Join(strings.TrimPrefix(e.state, "file://"), "journal.jsonl")
}

// journalWatch follows a file journal as it grows: each poll returns the
// records of the lines completed since the last one. A line is the record
// rokflow wrote with one write(2) before it acted on it; a SIGKILL cannot
// take it back.
type journalWatch struct {
	path string
	off  int64
}

func (w *journalWatch) poll(tb testing.TB) []journalRecord {
	f, err := os.Open(w.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.NewSectionReader(f, w.off, 1<<40))
	if err != nil {
		tb.Fatal(err)
	}
	end := bytes.LastIndexByte(data, '\n')
	if end < 0 {
		return nil
	}
	w.off += int64(end + 1)
	return parseJournal(tb, w.path, data[:end+1])
}

// readJournal reads every record of a file journal.
func readJournal(tb testing.TB, path string) []journalRecord {
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if end := bytes.LastIndexByte(data, '\n'); end >= 0 {
		return parseJournal(tb, path, data[:end+1])
	}
	return nil
}

// parseJournal reads "<crc> <json>" lines.
func parseJournal(tb testing.TB, path string, data []byte) []journalRecord {
	var out []journalRecord
	for _, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		_, body, ok := bytes.Cut(line, []byte(" "))
		var rec journalRecord
		if !ok || json.Unmarshal(body, &rec) != nil {
			tb.Fatalf("%s: not a journal line: %q", path, line)
		}
		out = append(out, rec)
	}
	return out
}

// jobPattern tells the Ganeti job p submits among the simulator's jobs:
// one of its opcodes is p's (a re-install job shuts the instance down,
// re-installs and starts it), and a migration goes where p sends it — to
// p's target node, or, for an evacuation, anywhere but the guest's host.
func (ref *faultRef) jobPattern(p *planInstance) playtest.JobPattern {
	jp := playtest.JobPattern{Summary: p.jobSummary()}
	if p.Kind == "ganeti.instance_migrate" {
		if t := p.arg("target_node"); t != "" {
			jp.To = t
		} else {
			jp.Away = ref.home[p.arg("instance")]
		}
	}
	return jp
}

// submits reports whether job j is one step p submits.
func (ref *faultRef) submits(p *planInstance, j sim.Job) bool {
	return p.jobSummary() != "" && ref.jobPattern(p).Matches(j)
}

// countJobs counts the jobs step p submitted.
func (ref *faultRef) countJobs(jobs []sim.Job, p *planInstance) int {
	n := 0
	for _, j := range jobs {
		if ref.submits(p, j) {
			n++
		}
	}
	return n
}

// simJobs lists every Ganeti job of the simulator (none on appliances),
// in id order.
func simJobs(tb testing.TB, e *e2eSim) []sim.Job { return e.srv.Jobs() }

// quiet waits until nothing moves on the simulator any more, as an
// operator checks before deciding anything after a crash (playtest.Quiet,
// as rokflow test --crash does): no command in flight, every Ganeti job
// final, and the counters, jobs, instances and nodes the same over
// several polls.
func (r *cellRun) quiet() sim.Status {
	r.t.Helper()
	st, _, err := playtest.Quiet(context.Background(), r.e.srv, 30*time.Second)
	if err != nil {
		r.t.Fatal(err)
	}
	return st
}

// simSnapshot is the simulator at one moment, for the hold checks.
type simSnapshot struct {
	st   sim.Status
	jobs []sim.Job
}

func (r *cellRun) snapshot(st sim.Status) simSnapshot {
	return simSnapshot{st: st, jobs: simJobs(r.t, r.e)}
}

// footprint is what the simulator shows of what the instances do: their
// once-commands' counters and their Ganeti jobs, and with nodes set, the
// state of the members, hosts and instances they act on.
func (s simSnapshot) footprint(ref *faultRef, insts []*planInstance, nodes bool) map[string]string {
	out := map[string]string{}
	for _, p := range insts {
		if op := playtest.OnceCommand(p.Kind); op != "" {
			out["once-command "+op+" on "+p.Target] = fmt.Sprint(s.st.Count(p.Target, op))
		}
		if p.jobSummary() != "" {
			out["the Ganeti jobs of "+p.Address] = strconv.Itoa(ref.countJobs(s.jobs, p))
		}
		if !nodes {
			continue
		}
		if n := s.st.Node(p.Target); n != nil {
			out["member "+n.Name] = fmt.Sprintf("node state %s, BOOT disk %s, power %s, services %v", n.NodeState, n.Boot, n.Power, n.Services)
		}
		for _, h := range s.st.Hosts {
			if h.Name == p.Target {
				out["host "+h.Name] = fmt.Sprintf("rok-base %s, rok-common %s, endpoints %v", h.RokBase, h.RokCommon, h.Endpoints)
			}
		}
		for _, i := range s.st.Instances {
			if i.Name == p.arg("instance") {
				out["instance "+i.Name] = fmt.Sprintf("on %s, %s", i.PNode, i.Status)
			}
		}
	}
	return out
}

// logNode is the node an event line of the simulator's log is about.
var logNode = regexp.MustCompile(`^\S+ ([a-z0-9.-]+): `)

// checkHeld checks the Doubt invariant from the simulator while steps are
// in doubt: since the kill, no once-command or Ganeti job of anything that
// depends on them ran, and no later element of their rolling group was
// touched — its members, hosts and instances as they were, and no event
// about its nodes.
func (r *cellRun) checkHeld(doubt []string) {
	t := r.t
	now := r.snapshot(r.quiet())
	events := r.e.log.String()[r.killedAt:]
	for _, addr := range doubt {
		inst := r.ref.byAddr[addr]
		if inst == nil {
			t.Fatalf("%s is in doubt and not in the plan", addr)
		}
		held := map[string]*planInstance{}
		for _, p := range r.ref.dependentsOf(addr) {
			held[p.Address] = p
		}
		later := r.ref.laterElements(inst)
		for _, p := range later {
			held[p.Address] = p
		}
		list := sortedInstances(held)
		before, after := r.atKill.footprint(r.ref, list, false), now.footprint(r.ref, list, false)
		for k, v := range r.atKill.footprint(r.ref, later, true) {
			before[k] = v
		}
		for k, v := range now.footprint(r.ref, later, true) {
			after[k] = v
		}
		for _, k := range sortedKeysOf(after) {
			if before[k] != after[k] {
				t.Errorf("%s changed from %q to %q while %s was in doubt", k, before[k], after[k], addr)
			}
		}
		nodes := map[string]bool{}
		for _, p := range later {
			nodes[p.Target] = true
		}
		for _, line := range strings.Split(events, "\n") {
			if m := logNode.FindStringSubmatch(line); m != nil && nodes[m[1]] {
				t.Errorf("a later element of %s's rolling group was touched while it was in doubt: %s", addr, line)
			}
		}
		r.stats.add(func(s *faultStats) { s.held++ })
	}
}

func sortedInstances(m map[string]*planInstance) []*planInstance {
	out := make([]*planInstance, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, k int) bool { return out[i].index < out[k].index })
	return out
}

func sortedKeysOf(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkJobs checks that every Ganeti job the simulator received belongs to
// exactly one step: the one whose journaled handle names it, or the one
// left in doubt that the test found it was submitted by. Without an
// injected failure, each step's jobs are as many as in the reference run:
// none was submitted twice.
func (r *cellRun) checkJobs(journal []journalRecord) {
	t := r.t
	owners := map[int]map[string]bool{}
	own := func(id int, addr string) {
		if owners[id] == nil {
			owners[id] = map[string]bool{}
		}
		owners[id][addr] = true
	}
	for _, rec := range journal {
		if id := playtest.JobHandle(rec.Handle); rec.Kind == "step" && id > 0 {
			own(id, rec.Addr)
		}
	}
	for id, addr := range r.attributed {
		own(id, addr)
	}
	jobs := simJobs(t, r.e)
	for _, j := range jobs {
		if len(owners[j.ID]) != 1 {
			t.Errorf("Ganeti job %d %s belongs to %d steps %v; want exactly one", j.ID, strings.Join(j.Summary, ", "), len(owners[j.ID]), sortedSet(owners[j.ID]))
		}
	}
	if r.cell.fail != nil {
		return
	}
	for _, p := range r.ref.plan {
		if p.jobSummary() == "" {
			continue
		}
		if n := r.ref.countJobs(jobs, p); n != r.ref.jobs[p.Address] {
			t.Errorf("%s submitted %d Ganeti jobs %s, %d in the reference run", p.Address, n, p.jobSummary(), r.ref.jobs[p.Address])
		}
	}
}

// checkHandles checks that a handle belongs to one attempt: between two
// ends of a step (success, failure, its undo putting it back to pending)
// or an operator's --retry, the step journals at most one handle. A second
// one means an attempt acted anew where it should have re-attached.
func (r *cellRun) checkHandles(journal []journalRecord) {
	current := map[string]string{}
	for _, rec := range journal {
		switch {
		case rec.Kind == "resolve":
			delete(current, rec.Addr)
		case rec.Kind != "step":
		case rec.Status == "running" && rec.Handle != "":
			if h, ok := current[rec.Addr]; ok && h != rec.Handle {
				r.t.Errorf("%s journaled handle %q (record %d) while its attempt held %q: a handle of another attempt", rec.Addr, rec.Handle, rec.Seq, h)
			}
			current[rec.Addr] = rec.Handle
		case rec.Status != "running" && rec.Status != "in_doubt":
			delete(current, rec.Addr)
		}
	}
}

// checkObligations checks that the finished run owes no undo: every
// obligation is settled, or it names no step of the plan (the keyed-undo
// gap, while keyedUndoPending).
func (r *cellRun) checkObligations() {
	var dangling []string
	for _, s := range r.showSteps() {
		if s.UndoOwed == "" {
			continue
		}
		if r.ref.byAddr[s.UndoOwed] == nil && keyedUndoPending {
			dangling = append(dangling, s.Address)
			continue
		}
		r.t.Errorf("the run succeeded and %s still owes its undo %s", s.Address, s.UndoOwed)
	}
	if len(dangling) > 0 {
		r.t.Logf("%d obligations name no step of the plan (undo resolution for keyed steps: pending): %s", len(dangling), strings.Join(dangling, ", "))
		r.stats.add(func(st *faultStats) { st.danglingObligations += len(dangling) })
	}
}

// checkOwedReported checks, right after a kill during compensation, that
// the journal still reports the undo owed: its end was never journaled.
func (r *cellRun) checkOwedReported() {
	for _, s := range r.showSteps() {
		if s.Address == r.cell.pair.Address {
			if s.UndoOwed != r.cell.step.Address {
				r.t.Errorf("killed while %s ran, state show reports %s owing %q; want the undo reported owed", r.cell.step.Address, s.Address, s.UndoOwed)
			}
			return
		}
	}
	r.t.Errorf("state show does not show %s, whose undo the kill cut short", r.cell.pair.Address)
}

// undoNotRun looks at a compensation cell whose apply failed without
// beginning the undo: when an obligation names no step (the keyed-undo
// gap) it fails the cell, or while keyedUndoPending skips it, saying which
// instances the failed run left away from their host. It returns when the
// cause is another.
func (r *cellRun) undoNotRun() {
	t, c := r.t, r.cell
	st := r.quiet()
	var dangling []string
	for _, s := range r.showSteps() {
		if s.UndoOwed != "" && r.ref.byAddr[s.UndoOwed] == nil {
			dangling = append(dangling, s.Address+" owes "+s.UndoOwed)
		}
	}
	home := map[string]string{}
	for _, i := range r.e.before.Instances {
		home[i.Name] = i.PNode
	}
	var away []string
	for _, i := range st.Instances {
		if i.PNode != home[i.Name] {
			away = append(away, fmt.Sprintf("%s on %s (its host is %s)", i.Name, i.PNode, home[i.Name]))
		}
	}
	if len(dangling) == 0 {
		return
	}
	msg := fmt.Sprintf("the failure of %s ran no undo for %s: the obligation names no step (%s); left away from their host: %v",
		c.fail.Address, c.pair.Address, strings.Join(dangling, "; "), away)
	if !keyedUndoPending || t.Failed() {
		t.Fatal(msg)
	}
	r.stats.add(func(s *faultStats) { s.skipped = append(s.skipped, c.name()) })
	// Undo resolution for keyed steps inside a group is being fixed on
	// another branch; remove this skip (clear keyedUndoPending) once it
	// is merged.
	t.Skip("undo resolution for keyed steps: pending: " + msg)
}
