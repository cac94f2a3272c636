package sim

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Status is a snapshot of the simulated cluster for people and tests.
type Status struct {
	Dir      string `json:"dir"`
	Running  bool   `json:"running"`
	PID      int    `json:"pid,omitempty"`
	Platform string `json:"platform"`
	Cluster  string `json:"cluster"`
	// StartRelease is the release the cluster was created at; Upgrades
	// the releases it can be upgraded to, in order.
	StartRelease string   `json:"start_release"`
	Upgrades     []string `json:"upgrades"`
	// Finalized is the release whose finalize ran, "" when none did.
	Finalized   string   `json:"finalized,omitempty"`
	Master      string   `json:"master"`
	Error       string   `json:"error,omitempty"`
	SharedState string   `json:"shared_state_version"`
	Candidates  []string `json:"master_candidates"`
	EtcdAuth    bool     `json:"etcd_auth"`
	Etcd        string   `json:"etcd,omitempty"`
	RAPI        string   `json:"rapi,omitempty"`
	Control     string   `json:"control,omitempty"`
	// AutoOperator says a simulated operator swaps BOOT disks by itself.
	AutoOperator bool `json:"auto_operator"`
	// Migrations are the Gateway migrations applied to its store.
	Migrations []string             `json:"gateway_migrations"`
	Nodes      []NodeStatus         `json:"nodes"`
	Hosts      []HostStatus         `json:"hosts,omitempty"`
	Instances  []InstanceStatus     `json:"instances,omitempty"`
	Jobs       []JobStatus          `json:"jobs,omitempty"`
	Counters   map[string]NodeCount `json:"counters"`
	Faults     Faults               `json:"faults"`
	Operator   []OperatorTask       `json:"operator,omitempty"`
	Events     []Event              `json:"events"`
}

// NodeCount maps a once-command to its counter on one node.
type NodeCount map[string]Counter

// NodeStatus is one Rok appliance.
type NodeStatus struct {
	Name          string            `json:"name"`
	Address       string            `json:"address"`
	SSH           string            `json:"ssh"`
	Role          string            `json:"role"`
	MasterCapable bool              `json:"master_capable"`
	Power         string            `json:"power"`
	State         string            `json:"state"`
	Boot          string            `json:"boot"`
	NodeState     string            `json:"node_state"`
	Services      map[string]string `json:"services"`
	Endpoints     map[string]string `json:"endpoints"`
	Host          string            `json:"host,omitempty"`
	Instance      string            `json:"instance,omitempty"`
}

// HostStatus is one Ganeti host.
type HostStatus struct {
	Name       string            `json:"name"`
	SSH        string            `json:"ssh"`
	Role       string            `json:"ganeti_role"`
	RokBase    string            `json:"rok_base"`
	RokCommon  string            `json:"rok_common"`
	Endpoints  map[string]string `json:"endpoints"`
	Appliance  string            `json:"appliance"`
	Compatible bool              `json:"compatible"`
	Why        string            `json:"why,omitempty"`
	Instances  []string          `json:"instances"`
}

// InstanceStatus is one Ganeti instance; IO says whether a guest reaches
// its disks.
type InstanceStatus struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	PNode  string `json:"pnode"`
	Status string `json:"status"`
	OS     string `json:"os"`
	IO     string `json:"io"`
}

// JobStatus is one Ganeti job.
type JobStatus struct {
	ID      int      `json:"id"`
	Status  string   `json:"status"`
	Summary []string `json:"summary"`
	Error   string   `json:"error,omitempty"`
}

// OperatorTask is a BOOT disk swap under way.
type OperatorTask struct {
	Node    string `json:"node"`
	Version string `json:"version"`
	Phase   string `json:"phase"`
	Why     string `json:"why"`
}

// Status returns the cluster's status.
func (s *Server) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.statusLocked()
	st.Running, st.PID = true, os.Getpid()
	st.Control = s.controlAddr()
	return st
}

// endpointScheme says which OpenStore scheme a file uses.
func endpointScheme(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "missing"
	}
	t := string(data)
	tcp, http := strings.Contains(t, "tcp:"), strings.Contains(t, "http:")
	switch {
	case tcp && http:
		return "mixed"
	case tcp:
		return "tcp"
	case http:
		return "http"
	}
	return "none"
}

func (s *Server) statusLocked() Status {
	st := s.st
	out := Status{
		Dir: s.dir, Platform: st.Spec.Platform, Cluster: st.Cluster.Name,
		StartRelease: upstream(st.Spec.FromVersion), Upgrades: append([]string(nil), st.Spec.Upgrades...), Finalized: st.Cluster.Finalized,
		Master: st.Cluster.Master, Error: st.Cluster.Error, SharedState: st.Cluster.SharedState,
		Candidates: st.candidates(), EtcdAuth: st.Cluster.EtcdAuth,
		Migrations: append([]string(nil), st.Cluster.Migrations...),
		Counters:   map[string]NodeCount{}, Faults: st.Spec.Faults, AutoOperator: st.Spec.AutoOperator,
	}
	if st.Ports.Etcd != 0 && !st.Spec.NoEtcd {
		out.Etcd = "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(st.Ports.Etcd))
	}
	if st.Ports.RAPI != 0 {
		out.RAPI = "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(st.Ports.RAPI))
	}
	ssh := func(n *node) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.SSHPort)) }
	for _, m := range st.memberList() {
		n := st.node(m.Name)
		ns := NodeStatus{Name: n.Name, Address: n.Address, SSH: ssh(n), Role: m.Role, MasterCapable: m.MasterCapable,
			Power: map[bool]string{true: "on", false: "off"}[n.On], State: m.State, Boot: n.Boot, NodeState: n.NodeState,
			Services: copyMap(n.Services), Endpoints: map[string]string{}, Host: n.Host, Instance: n.Instance}
		for _, f := range append(append([]string{"/etc/rok/daemons.conf"}, envFiles...), s.unitFiles(n)...) {
			ns.Endpoints[f] = endpointScheme(filepath.Join(nodeRoot(s.dir, n.Name), f))
		}
		out.Nodes = append(out.Nodes, ns)
	}
	for _, h := range st.hosts() {
		ok, why := s.hostCompatible(st, h)
		hs := HostStatus{Name: h.Name, SSH: ssh(h), Role: h.GanetiRole, RokBase: h.Packages["rok-base"],
			RokCommon: h.Packages["rok-common"], Endpoints: map[string]string{}, Appliance: applianceOn(st, h.Name),
			Compatible: ok, Why: why}
		for _, f := range hostFiles {
			hs.Endpoints[f] = endpointScheme(filepath.Join(nodeRoot(s.dir, h.Name), f))
		}
		for _, i := range st.Ganeti.primaries(h.Name) {
			hs.Instances = append(hs.Instances, i.Name)
		}
		out.Hosts = append(out.Hosts, hs)
	}
	if g := st.Ganeti; g != nil {
		for _, i := range g.Instances {
			is := InstanceStatus{Name: i.Name, Kind: i.Kind, PNode: i.PNode, Status: i.status(st), OS: i.OS, IO: "-"}
			if i.Kind == instGuest && i.Running {
				if ok, why := s.hostCompatible(st, st.host(i.PNode)); ok {
					is.IO = "ok"
				} else {
					is.IO = "stalled: " + why
				}
			}
			out.Instances = append(out.Instances, is)
		}
		jobs := g.Jobs
		if len(jobs) > 20 {
			jobs = jobs[len(jobs)-20:]
		}
		for _, j := range jobs {
			js := JobStatus{ID: j.ID, Status: j.Status, Summary: j.Summary}
			for k, r := range j.OpResult {
				if j.OpStatus[k] == jobError {
					js.Error = fmt.Sprint(r)
					break
				}
			}
			out.Jobs = append(out.Jobs, js)
		}
	}
	for n, m := range st.Counters {
		nc := NodeCount{}
		for op, c := range m {
			nc[op] = *c
		}
		out.Counters[n] = nc
	}
	for _, t := range st.Operator {
		if t.Phase != "done" {
			out.Operator = append(out.Operator, OperatorTask{Node: t.Node, Version: t.Version, Phase: t.Phase, Why: t.Why})
		}
	}
	ev := st.Events
	if len(ev) > 30 {
		ev = ev[len(ev)-30:]
	}
	out.Events = append([]Event(nil), ev...)
	return out
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// StatusFromDisk reads the status of a simulator that is not running from
// its state file.
func StatusFromDisk(dir string) (*Status, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := loadState(abs)
	if err != nil {
		return nil, err
	}
	s := &Server{dir: abs, st: st}
	out := s.statusLocked()
	return &out, nil
}

// Count returns how often op ran on node (all runs, and successful ones).
func (st Status) Count(node, op string) Counter { return st.Counters[node][op] }

// Node returns the status of a member, nil when there is none.
func (st Status) Node(name string) *NodeStatus {
	for i := range st.Nodes {
		if st.Nodes[i].Name == name {
			return &st.Nodes[i]
		}
	}
	return nil
}

// WriteText renders the status as tables.
func (st *Status) WriteText(w io.Writer) error {
	b := &strings.Builder{}
	run := "stopped"
	if st.Running {
		run = fmt.Sprintf("running (pid %d, control %s)", st.PID, st.Control)
	}
	fmt.Fprintf(b, "Rok cluster %s on %s, started at %s, upgrades to %s; simulator %s\n  in %s\n",
		st.Cluster, st.Platform, st.StartRelease, strings.Join(st.Upgrades, ", then "), run, st.Dir)
	master := st.Master
	if master == "" {
		master = "(none)"
	}
	auth := "off"
	if st.EtcdAuth {
		auth = "on"
	}
	finalized := ""
	if st.Finalized != "" {
		finalized = ", finalized at " + st.Finalized
	}
	fmt.Fprintf(b, "master %s, shared state %s%s, master candidates %s, etcd auth %s\n", master, st.SharedState, finalized, strings.Join(st.Candidates, ","), auth)
	if st.Error != "" {
		fmt.Fprintf(b, "CLUSTER ERROR: %s\n", st.Error)
	}
	if st.Etcd != "" || st.RAPI != "" {
		fmt.Fprintf(b, "etcd %s", orDash(st.Etcd))
		if st.RAPI != "" {
			fmt.Fprintf(b, ", Ganeti RAPI %s", st.RAPI)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tSSH\tPOWER\tROLE\tCAPABLE\tSTATE\tBOOT DISK\tNODE STATE\tDAEMONS\tGATEWAY\tENDPOINTS")
	for _, n := range st.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.SSH, n.Power, n.Role, yesNo(n.MasterCapable), n.State,
			n.Boot, n.NodeState, n.Services["rok-daemons"], n.Services["rok-gw-gunicorn"], schemes(n.Endpoints))
	}
	tw.Flush()
	if len(st.Hosts) > 0 {
		b.WriteString("\n")
		tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "GANETI HOST\tSSH\tROLE\tROK-BASE\tENDPOINTS\tAPPLIANCE\tGUESTS CAN CONNECT\tINSTANCES")
		for _, h := range st.Hosts {
			ok := "yes"
			if !h.Compatible {
				ok = "no"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Name, h.SSH, h.Role, h.RokBase, schemes(h.Endpoints), h.Appliance, ok, strings.Join(h.Instances, ","))
		}
		tw.Flush()
		b.WriteString("\n")
		tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "INSTANCE\tKIND\tPRIMARY\tSTATUS\tDISK I/O")
		for _, i := range st.Instances {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", i.Name, i.Kind, i.PNode, i.Status, i.IO)
		}
		tw.Flush()
	}
	if len(st.Jobs) > 0 {
		b.WriteString("\nGaneti jobs (latest):\n")
		jobs := st.Jobs
		if len(jobs) > 8 {
			jobs = jobs[len(jobs)-8:]
		}
		for _, j := range jobs {
			fmt.Fprintf(b, "  %4d %-8s %s", j.ID, j.Status, strings.Join(j.Summary, ", "))
			if j.Error != "" {
				fmt.Fprintf(b, ": %s", j.Error)
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\nOnce-commands (runs/succeeded):")
	nodes := make([]string, 0, len(st.Counters))
	for n := range st.Counters {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	if len(nodes) == 0 {
		b.WriteString(" none yet")
	}
	b.WriteString("\n")
	for _, n := range nodes {
		ops := make([]string, 0, len(st.Counters[n]))
		for op := range st.Counters[n] {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		var parts []string
		for _, op := range ops {
			c := st.Counters[n][op]
			parts = append(parts, fmt.Sprintf("%s %d/%d", op, c.Runs, c.OK))
		}
		fmt.Fprintf(b, "  %s: %s\n", n, strings.Join(parts, ", "))
	}
	fmt.Fprintf(b, "Faults: %s\n", st.Faults.String())
	if st.AutoOperator {
		b.WriteString("Field operator: automatic (swaps a BOOT disk when a gate polls an old node)\n")
	}
	for _, t := range st.Operator {
		fmt.Fprintf(b, "Operator: %s: BOOT disk swap to %s, %s (%s)\n", t.Node, t.Version, t.Phase, t.Why)
	}
	if len(st.Events) > 0 {
		b.WriteString("\nRecent events:\n")
		ev := st.Events
		if len(ev) > 12 {
			ev = ev[len(ev)-12:]
		}
		for _, e := range ev {
			who := ""
			if e.Node != "" {
				who = e.Node + ": "
			}
			fmt.Fprintf(b, "  %s %s%s\n", e.Time.Local().Format("15:04:05"), who, e.Text)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// schemes summarises endpoint schemes: "tcp", "http", or per file.
func schemes(m map[string]string) string {
	seen := map[string]bool{}
	for _, v := range m {
		if v != "none" && v != "missing" {
			seen[v] = true
		}
	}
	if len(seen) == 1 {
		for k := range seen {
			return k
		}
	}
	if len(seen) == 0 {
		return "-"
	}
	var parts []string
	for _, f := range sortedKeys(m) {
		parts = append(parts, filepath.Base(f)+"="+m[f])
	}
	return strings.Join(parts, ",")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
