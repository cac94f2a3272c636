package playtest

import (
	"fmt"
	"slices"
	"sort"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/rokflow/rokflow/sim"
)

// The data an assertion's condition sees: `cluster`, the simulator after
// the run (with `cluster.before`, the same before it), and `run`, what the
// journal and apply say of the run. The fields a case asserts most have
// precomputed forms, so each of the usual checks is one line:
//
//	every node at the playbook's to:  cluster.release == playbook.to
//	etcd auth on:                     cluster.etcd_auth
//	candidates restored:              cluster.candidates_restored
//	instances home:                   cluster.instances_home
//	once-commands at most once each:  length(cluster.ran_twice) == 0
//	failed at a step:                 contains(run.failed, "step.x")   (or expect.failed_at)

// clusterData is the cluster an assertion sees.
type clusterData struct {
	Platform    string `cty:"platform"`
	Name        string `cty:"name"`
	Master      string `cty:"master"`
	Error       string `cty:"error"`
	SharedState string `cty:"shared_state"`
	// Release is the release of every member's node-local state (what
	// upgrade-node sets), "" while they differ; Releases lists them.
	Release          string   `cty:"release"`
	Releases         []string `cty:"releases"`
	EtcdAuth         bool     `cty:"etcd_auth"`
	MasterCandidates []string `cty:"master_candidates"`
	// CandidatesRestored: the master candidates are those before the run.
	CandidatesRestored bool `cty:"candidates_restored"`
	// InstancesHome: every Ganeti instance runs on the host it ran on
	// before the run (true without Ganeti); InstancesAway lists the others.
	InstancesHome bool                `cty:"instances_home"`
	InstancesAway []string            `cty:"instances_away"`
	Nodes         []nodeData          `cty:"nodes"`
	Node          map[string]nodeData `cty:"node"`
	Hosts         []hostData          `cty:"hosts"`
	Instances     []instanceData      `cty:"instances"`
	// OnceCommands are the simulator's counters of the commands that must
	// never take effect twice on a node (upgrade-cluster, upgrade-node,
	// enable-etcd-auth, gateway-migrate); RanTwice names those that did.
	OnceCommands []onceData `cty:"once_commands"`
	RanTwice     []string   `cty:"ran_twice"`
	Migrations   []string   `cty:"gateway_migrations"`
	// Events are the simulator's latest events, oldest first.
	Events []string `cty:"events"`
}

type nodeData struct {
	Name          string            `cty:"name"`
	Address       string            `cty:"address"`
	Role          string            `cty:"role"`
	MasterCapable bool              `cty:"master_capable"`
	Power         string            `cty:"power"`
	State         string            `cty:"state"`
	Boot          string            `cty:"boot"`
	BootRelease   string            `cty:"boot_release"`
	Release       string            `cty:"release"`
	Services      map[string]string `cty:"services"`
	Endpoints     map[string]string `cty:"endpoints"`
	Host          string            `cty:"host"`
	Instance      string            `cty:"instance"`
}

type hostData struct {
	Name       string   `cty:"name"`
	Role       string   `cty:"role"`
	RokBase    string   `cty:"rok_base"`
	RokCommon  string   `cty:"rok_common"`
	Compatible bool     `cty:"compatible"`
	Instances  []string `cty:"instances"`
}

type instanceData struct {
	Name   string `cty:"name"`
	Kind   string `cty:"kind"`
	PNode  string `cty:"pnode"`
	Home   string `cty:"home"`
	AtHome bool   `cty:"at_home"`
	Status string `cty:"status"`
	IO     string `cty:"io"`
}

type onceData struct {
	Node    string `cty:"node"`
	Command string `cty:"command"`
	Runs    int    `cty:"runs"`
	OK      int    `cty:"ok"`
}

var clusterType = mustImplied(clusterData{})

func mustImplied(v any) cty.Type {
	ty, err := gocty.ImpliedType(v)
	if err != nil {
		panic(err)
	}
	return ty
}

// clusterValue is the cluster an assertion sees: st after the run, with
// before as cluster.before.
func clusterValue(st, before sim.Status) cty.Value {
	after := toValue(clusterOf(st, before))
	m := after.AsValueMap()
	m["before"] = toValue(clusterOf(before, before))
	return tuplify(cty.ObjectVal(m))
}

func toValue(c clusterData) cty.Value {
	v, err := gocty.ToCtyValue(c, clusterType)
	if err != nil {
		panic(fmt.Sprintf("the cluster as data: %v", err)) // the types are fixed above
	}
	return v
}

func clusterOf(st, before sim.Status) clusterData {
	c := clusterData{
		Platform: st.Platform, Name: st.Cluster, Master: st.Master, Error: st.Error, SharedState: st.SharedState,
		EtcdAuth: st.EtcdAuth, MasterCandidates: nonNil(st.Candidates), Migrations: nonNil(st.Migrations),
		CandidatesRestored: slices.Equal(st.Candidates, before.Candidates),
		Node:               map[string]nodeData{}, Releases: []string{}, InstancesAway: []string{}, RanTwice: []string{},
		Nodes: []nodeData{}, Hosts: []hostData{}, Instances: []instanceData{}, OnceCommands: []onceData{}, Events: []string{},
	}
	releases := map[string]bool{}
	for _, n := range st.Nodes {
		nd := nodeData{Name: n.Name, Address: n.Address, Role: n.Role, MasterCapable: n.MasterCapable, Power: n.Power,
			State: n.State, Boot: n.Boot, BootRelease: upstreamVersion(n.Boot), Release: n.NodeState,
			Services: nonNilMap(n.Services), Endpoints: nonNilMap(n.Endpoints), Host: n.Host, Instance: n.Instance}
		c.Nodes = append(c.Nodes, nd)
		c.Node[n.Name] = nd
		releases[n.NodeState] = true
	}
	for r := range releases {
		c.Releases = append(c.Releases, r)
	}
	sort.Strings(c.Releases)
	if len(c.Releases) == 1 {
		c.Release = c.Releases[0]
	}
	for _, h := range st.Hosts {
		c.Hosts = append(c.Hosts, hostData{Name: h.Name, Role: h.Role, RokBase: h.RokBase, RokCommon: h.RokCommon,
			Compatible: h.Compatible, Instances: nonNil(h.Instances)})
	}
	home := map[string]string{}
	for _, i := range before.Instances {
		home[i.Name] = i.PNode
	}
	for _, i := range st.Instances {
		id := instanceData{Name: i.Name, Kind: i.Kind, PNode: i.PNode, Home: home[i.Name], Status: i.Status, IO: i.IO}
		id.AtHome = id.Home == "" || id.Home == i.PNode
		if !id.AtHome {
			c.InstancesAway = append(c.InstancesAway, fmt.Sprintf("%s on %s (its host is %s)", i.Name, i.PNode, id.Home))
		}
		c.Instances = append(c.Instances, id)
	}
	c.InstancesHome = len(c.InstancesAway) == 0
	nodes := make([]string, 0, len(st.Counters))
	for n := range st.Counters {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		ops := make([]string, 0, len(st.Counters[n]))
		for op := range st.Counters[n] {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		for _, op := range ops {
			cnt := st.Counters[n][op]
			c.OnceCommands = append(c.OnceCommands, onceData{Node: n, Command: op, Runs: cnt.Runs, OK: cnt.OK})
			if cnt.OK > 1 {
				c.RanTwice = append(c.RanTwice, fmt.Sprintf("%s on %s (%d times)", op, n, cnt.OK))
			}
		}
	}
	for _, e := range st.Events {
		line := e.Text
		if e.Node != "" {
			line = e.Node + ": " + line
		}
		c.Events = append(c.Events, line)
	}
	return c
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// tuplify turns the lists in v into tuples (and maps whose elements then
// differ in type into objects), so that a condition can compare them with
// literals: in HCL a list never equals a tuple, and ["a"] is a tuple, so
// cluster.master_candidates == [cluster.master] would always be false.
func tuplify(v cty.Value) cty.Value {
	if v.IsNull() || !v.IsKnown() {
		return v
	}
	ty := v.Type()
	switch {
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		var elems []cty.Value
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			elems = append(elems, tuplify(e))
		}
		if len(elems) == 0 {
			return cty.EmptyTupleVal
		}
		return cty.TupleVal(elems)
	case ty.IsObjectType() || ty.IsMapType():
		m := map[string]cty.Value{}
		var first cty.Type
		same := true
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			e = tuplify(e)
			if first == cty.NilType {
				first = e.Type()
			}
			same = same && e.Type().Equals(first)
			m[k.AsString()] = e
		}
		switch {
		case len(m) == 0 && ty.IsMapType():
			return v
		case len(m) == 0:
			return cty.EmptyObjectVal
		case ty.IsMapType() && same:
			return cty.MapVal(m)
		}
		return cty.ObjectVal(m)
	}
	return v
}
