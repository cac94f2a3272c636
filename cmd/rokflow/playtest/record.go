package playtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rokflow/rokflow/sim"
)

// The simulator's own record, read the way an operator reads a cluster
// after a crash: wait until it is quiet, then look whether the step in
// doubt acted — did its once-command run on its node, did its Ganeti job
// arrive — and answer `rokflow resolve` accordingly.

// onceCommands are the commands the simulator counts on each node, by the
// step kind that runs them.
var onceCommands = map[string]string{
	"rok.upgrade_cluster":  "upgrade-cluster",
	"rok.upgrade_node":     "upgrade-node",
	"rok.enable_etcd_auth": "enable-etcd-auth",
	"rok.gateway_migrate":  "gateway-migrate",
}

// OnceCommand is the command the simulator counts for a step of kind, ""
// when it counts none.
func OnceCommand(kind string) string { return onceCommands[kind] }

// JobPattern tells the Ganeti job a step submits among the simulator's.
type JobPattern struct {
	// Summary is one opcode summary the job has: INSTANCE_MIGRATE(vm1-1.gnt.sim).
	Summary string `json:"summary"`
	// To, for a migration that names its target node, is that node; Away,
	// for one that does not (an evacuation), the node it leaves.
	To   string `json:"to,omitempty"`
	Away string `json:"away,omitempty"`
}

// Matches reports whether j is a job the pattern describes.
func (p JobPattern) Matches(j sim.Job) bool {
	k := slices.Index(j.Summary, p.Summary)
	if k < 0 {
		return false
	}
	if k >= len(j.Ops) || p.To == "" && p.Away == "" {
		return true
	}
	to := j.Ops[k].TargetNode
	if p.To != "" {
		return to == p.To
	}
	return to != p.Away
}

// jobPatternOf describes job j, which step submitted in a clean run, so
// that the same step's job is found in another run: its first opcode, and
// for a migration whether it went home (to the instance's host before the
// run) or away from it.
func jobPatternOf(j sim.Job, home map[string]string) JobPattern {
	p := JobPattern{Summary: j.Summary[0]}
	if op := j.Ops[0]; op.ID == "OP_INSTANCE_MIGRATE" && home[op.Instance] != "" {
		if op.TargetNode == home[op.Instance] {
			p.To = op.TargetNode
		} else {
			p.Away = home[op.Instance]
		}
	}
	return p
}

// Doubt is a step left in doubt, as the simulator's record judges it.
type Doubt struct {
	Addr, Kind, Target string
	// Intent is when the step's latest attempt journaled its intent.
	Intent time.Time
	// Job describes the Ganeti job the step submits; nil for a step that
	// submits none.
	Job *JobPattern
}

// Acted says whether the step in doubt acted, from the simulator's record
// once it is quiet (st, jobs): for a once-command the simulator counts,
// whether it took effect on its node since before (the cluster before the
// run); for a step that submits a Ganeti job, whether such a job arrived
// after the step's intent and succeeded (job is its id). An error says the
// record cannot tell.
func Acted(before, st sim.Status, jobs []sim.Job, d Doubt) (acted bool, job int, err error) {
	if op := OnceCommand(d.Kind); op != "" {
		return st.Count(d.Target, op).OK > before.Count(d.Target, op).OK, 0, nil
	}
	if d.Job != nil {
		for _, j := range jobs {
			if d.Job.Matches(j) && !j.Received.Before(d.Intent) {
				return j.Status == "success", j.ID, nil
			}
		}
		return false, 0, nil
	}
	return false, 0, fmt.Errorf("%s (%s) is in doubt, and the simulator keeps no record that tells whether it acted: it counts only %s, and Ganeti jobs",
		d.Addr, d.Kind, strings.Join(sortedValues(onceCommands), ", "))
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// JobHandle is the Ganeti job id a journaled handle names ("17" or
// "17?…"), 0 for other handles.
func JobHandle(h string) int {
	id, _, _ := strings.Cut(h, "?")
	n, err := strconv.Atoi(id)
	if err != nil {
		return 0
	}
	return n
}

// Quiet waits until nothing moves on the simulator any more, as an
// operator checks before deciding anything after a crash: no command in
// flight on a node, every Ganeti job ended, and the members, instances,
// jobs and counters the same over several polls. (A field operator's BOOT
// disk swap under way moves the nodes, so it is waited for too.)
func Quiet(ctx context.Context, srv Cluster, limit time.Duration) (sim.Status, []sim.Job, error) {
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(limit)
	last, same := "", 0
	for {
		st, jobs := srv.Status(), srv.Jobs()
		busy := len(srv.InFlight()) > 0
		if e, ok := srv.(interface{ Err() error }); ok && e.Err() != nil {
			return st, jobs, fmt.Errorf("reading the simulator: %w", e.Err())
		}
		for _, j := range jobs {
			busy = busy || !j.Final()
		}
		if fp := fingerprint(st, jobs); fp == last && !busy {
			if same++; same >= 4 {
				return st, jobs, nil
			}
		} else {
			last, same = fp, 0
		}
		if time.Now().After(deadline) {
			return st, jobs, fmt.Errorf("the simulator did not become quiet within %s (%d commands in flight)", limit, len(srv.InFlight()))
		}
		select {
		case <-ctx.Done():
			return st, jobs, ctx.Err()
		case <-tick.C:
		}
	}
}

func fingerprint(st sim.Status, jobs []sim.Job) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%v|%v|%d|", st.Master, st.SharedState, st.EtcdAuth, st.Candidates, len(st.Migrations))
	for _, n := range st.Nodes {
		fmt.Fprintf(&b, "%s=%s,%s,%s;", n.Name, n.NodeState, n.Boot, n.Power)
	}
	for _, i := range st.Instances {
		fmt.Fprintf(&b, "%s@%s;", i.Name, i.PNode)
	}
	for _, j := range jobs {
		fmt.Fprintf(&b, "%d:%s;", j.ID, j.Status)
	}
	c, _ := json.Marshal(st.Counters) // maps marshal sorted
	b.Write(c)
	return b.String()
}
