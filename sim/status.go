package sim

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
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

// Counter counts the executions of one once-command on one node.
type Counter struct {
	// Runs counts every execution, refused or not.
	Runs int `json:"runs"`
	// OK counts the executions that succeeded.
	OK int `json:"ok"`
}

// Event is one line of the simulator's history.
type Event struct {
	Time time.Time `json:"time"`
	Node string    `json:"node,omitempty"`
	Text string    `json:"text"`
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
