package main

import (
	"fmt"
	"strings"

	"github.com/rokflow/rokflow/cmd/rokflow/playtest"
)

// undoCutShortPending marks a gap the matrix found in compensation: when
// rokflow is killed after an undo acted (cluster.master_candidates put
// back, a guest migrated home) and before its end was journaled, the
// resumed run neither finishes the compensation nor does the undone step
// again: its dependents go on without its effect (the upgrade goes on
// unpinned, a host is re-imaged with its guests back on it). While it is
// set, a cell that shows it is skipped after its other checks; the engine
// is not this branch's to change.
const undoCutShortPending = false

// effectHolds follows, along the simulator's event log, whether the effect
// of step x holds: for rok.config_set of the master candidates, whether
// they are x's value; for a migration away (an evacuation), whether the
// guest is away from its host.
type effectHolds struct {
	holds  bool
	update func(line string) // reads one event line
}

// effectOf starts following x's effect from the simulator's state at the
// kill; false when the matrix cannot follow the effect of x's kind.
func (r *cellRun) effectOf(x *planInstance) (*effectHolds, bool) {
	at := r.atKill.st
	switch x.Kind {
	case "rok.config_set":
		key, value := x.arg("key"), x.arg("value")
		if key != "cluster.master_candidates" || value == "" {
			return nil, false
		}
		f := &effectHolds{holds: strings.Join(at.Candidates, ",") == value}
		f.update = func(line string) {
			if _, set, ok := strings.Cut(line, ": rok-config set "+key+"="); ok {
				v, _, _ := strings.Cut(set, " ")
				f.holds = v == value
			}
		}
		return f, true
	case "ganeti.instance_migrate":
		g := x.arg("instance")
		home := ""
		for _, i := range r.e.before.Instances {
			if i.Name == g {
				home = i.PNode
			}
		}
		if home == "" || x.arg("target_node") != "" {
			return nil, false // a migration back is not an evacuation
		}
		f := &effectHolds{}
		for _, i := range at.Instances {
			if i.Name == g {
				f.holds = i.PNode != home
			}
		}
		f.update = func(line string) {
			for _, how := range []string{" migrated ", " failed over "} {
				if _, move, ok := strings.Cut(line, "instance "+g+how); ok {
					_, to, _ := strings.Cut(move, " -> ")
					f.holds = strings.TrimSpace(to) != home
				}
			}
		}
		return f, true
	}
	return nil, false
}

// actsOf returns a function that says whether an event line of the
// simulator's log is an act of one of insts: a once-command it counts, or
// the submission of a Ganeti job.
func actsOf(insts []*planInstance) func(line string) (string, bool) {
	words := map[string]string{opUpgradeCluster: "upgrade-cluster", opUpgradeNode: "upgrade-node",
		opEnableEtcdAuth: "enable-etcd-auth", opGatewayMigrate: "rok-gw-manage migrate"}
	return func(line string) (string, bool) {
		for _, p := range insts {
			if op := playtest.OnceCommand(p.Kind); op != "" && strings.Contains(line, " "+p.Target+": ") && strings.Contains(line, words[op]) {
				return p.Address, true
			}
			if to := p.arg("target_node"); p.Kind == "ganeti.instance_migrate" && to != "" {
				// A migration back submits the same job as the evacuation
				// of the same guest: only where the guest went tells
				// them apart.
				if strings.Contains(line, "instance "+p.arg("instance")+" migrated ") && strings.HasSuffix(strings.TrimSpace(line), "-> "+to) {
					return p.Address, true
				}
				continue
			}
			if sum := p.jobSummary(); sum != "" && strings.Contains(line, " submitted: ") && strings.Contains(line, sum) {
				return p.Address, true
			}
		}
		return "", false
	}
}

// checkRedone checks, in a compensation cell, that from the kill on
// nothing that must run while the compensated step's effect holds — what
// depends on it and not on its undo — acted while it did not hold: an undo
// that acted before the kill must be followed by the step again (or by the
// rest of the compensation) before those go on. It returns what it found,
// "" when the invariant held.
func (r *cellRun) checkRedone() string {
	c := r.cell
	if c.point != inUndo {
		return ""
	}
	effect, ok := r.effectOf(c.pair)
	if !ok {
		r.t.Fatalf("the matrix cannot follow the effect of %s (%s) in the simulator", c.pair.Address, c.pair.Kind)
	}
	after := map[*planInstance]bool{c.step: true}
	for _, d := range r.ref.dependentsOf(c.step.Address) {
		after[d] = true
	}
	var within []*planInstance
	for _, d := range r.ref.dependentsOf(c.pair.Address) {
		if !after[d] {
			within = append(within, d)
		}
	}
	act := actsOf(within)
	redone := false
	for _, line := range strings.Split(r.e.log.String()[r.killedAt:], "\n") {
		was := effect.holds
		effect.update(line)
		switch {
		case !was && effect.holds:
			redone = true // the step was done again
		case was && !effect.holds && redone:
			// Redone, then undone again: the run reached the undo's own
			// place (guests come back together, once confirmed); from
			// here on the effect ends by design.
			return ""
		}
		if addr, ok := act(line); ok && !effect.holds {
			return fmt.Sprintf("%s acted while the effect of %s did not hold: the compensation the kill cut short had undone it (%s), "+
				"and the resumed run went on without doing it again: %s", addr, c.pair.Address, c.step.Address, strings.TrimSpace(line))
		}
	}
	return ""
}

// skipIfCutShort skips the cell, with what it found, when it shows the
// compensation gap undoCutShortPending marks; whatever else the gap led to
// (a run that fails on a cluster that failed over, an end state off) would
// only repeat it.
func (r *cellRun) skipIfCutShort() {
	msg := r.checkRedone()
	if msg == "" {
		return
	}
	if !undoCutShortPending || r.t.Failed() {
		r.t.Fatal(msg)
	}
	r.t.Logf("the simulator's events (the kill came after %q):\n%s", lastLines(r.e.log.String()[:r.killedAt], 1), r.e.log.String())
	r.stats.add(func(s *faultStats) { s.skipped = append(s.skipped, r.cell.name()) })
	// A genuine gap in the engine, which other branches own: remove this
	// skip (clear undoCutShortPending) once it is fixed.
	r.t.Skip("compensation cut short by a kill, then resumed: pending: " + msg)
}
