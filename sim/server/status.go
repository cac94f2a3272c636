package server

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rokflow/rokflow/sim"

	"github.com/rokflow/rokflow/sim/internal/release"
	"github.com/rokflow/rokflow/sim/server/rapi"
)

// Status returns the cluster's status.
func (s *Server) Status() sim.Status {
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

func (s *Server) statusLocked() sim.Status {
	st := s.st
	out := sim.Status{
		Dir: s.dir, Platform: st.Spec.Platform, Cluster: st.Cluster.Name,
		StartRelease: release.Upstream(st.Spec.FromVersion), Upgrades: append([]string(nil), st.Spec.Upgrades...), Finalized: st.Cluster.Finalized,
		Master: st.Cluster.Master, Error: st.Cluster.Error, SharedState: st.Cluster.SharedState,
		Candidates: st.candidates(), EtcdAuth: st.Cluster.EtcdAuth,
		Migrations: append([]string(nil), st.Cluster.Migrations...),
		Counters:   map[string]sim.NodeCount{}, Faults: st.Spec.Faults, AutoOperator: st.Spec.AutoOperator,
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
		ns := sim.NodeStatus{Name: n.Name, Address: n.Address, SSH: ssh(n), Role: m.Role, MasterCapable: m.MasterCapable,
			Power: map[bool]string{true: "on", false: "off"}[n.On], State: m.State, Boot: n.Boot, NodeState: n.NodeState,
			Services: copyMap(n.Services), Endpoints: map[string]string{}, Host: n.Host, Instance: n.Instance}
		for _, f := range append(append([]string{"/etc/rok/daemons.conf"}, envFiles...), s.unitFiles(n)...) {
			ns.Endpoints[f] = endpointScheme(filepath.Join(nodeRoot(s.dir, n.Name), f))
		}
		out.Nodes = append(out.Nodes, ns)
	}
	for _, h := range st.hosts() {
		ok, why := s.hostCompatible(st, h)
		hs := sim.HostStatus{Name: h.Name, SSH: ssh(h), Role: h.GanetiRole, RokBase: h.Packages["rok-base"],
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
			is := sim.InstanceStatus{Name: i.Name, Kind: i.Kind, PNode: i.PNode, Status: i.status(st), OS: i.OS, IO: "-"}
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
			js := sim.JobStatus{ID: j.ID, Status: j.Status, Summary: j.Summary}
			for k, r := range j.OpResult {
				if j.OpStatus[k] == rapi.JobError {
					js.Error = fmt.Sprint(r)
					break
				}
			}
			out.Jobs = append(out.Jobs, js)
		}
	}
	for n, m := range st.Counters {
		nc := sim.NodeCount{}
		for op, c := range m {
			nc[op] = *c
		}
		out.Counters[n] = nc
	}
	for _, t := range st.Operator {
		if t.Phase != "done" {
			out.Operator = append(out.Operator, sim.OperatorTask{Node: t.Node, Version: t.Version, Phase: t.Phase, Why: t.Why})
		}
	}
	ev := st.Events
	if len(ev) > 30 {
		ev = ev[len(ev)-30:]
	}
	for _, e := range ev {
		out.Events = append(out.Events, e.Event)
	}
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
func StatusFromDisk(dir string) (*sim.Status, error) {
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
