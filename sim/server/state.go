package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rokflow/rokflow/sim"

	"github.com/rokflow/rokflow/internal/pki"
)

// stateSchema is the version of the state file's layout.
const stateSchema = 1

// stateFile is the cluster state, rewritten atomically after every change.
const stateFile = "state.json"

// state is the whole simulated cluster; the node file systems live beside
// it under nodes/<name>/root. Every field is exported for encoding/json
// only; the server's mutex guards it.
type state struct {
	Schema  int       `json:"schema"`
	Created time.Time `json:"created"`
	Spec    sim.Spec  `json:"spec"`
	Cluster cluster   `json:"cluster"`
	// Nodes are the Rok appliances and, on Ganeti, the hosts, in order.
	Nodes    []*node                            `json:"nodes"`
	Ganeti   *ganeti                            `json:"ganeti,omitempty"`
	Ports    ports                              `json:"ports"`
	Counters map[string]map[string]*sim.Counter `json:"counters"`
	Operator []*operatorTask                    `json:"operator,omitempty"`
	NextTask int                                `json:"next_task"`
	// Events is the recent history, newest last, for status.
	Events []event `json:"events"`
}

// cluster is the Rok cluster's shared state.
type cluster struct {
	Name string `json:"name"`
	// Master is the current master's member name, "" when there is none.
	Master string `json:"master"`
	// ByFailover says the master took over from another one (rather than
	// being elected while there was none).
	ByFailover bool `json:"by_failover,omitempty"`
	// Error is set when the cluster broke (a failover to a node on an
	// older release); it stays until an operator repairs the cluster.
	Error string `json:"error,omitempty"`
	// SharedState is the release of the shared state in etcd, bumped by
	// upgrade-cluster.
	SharedState string `json:"shared_state"`
	// Config is what rok-config reads and writes.
	Config map[string]string `json:"config"`
	// EtcdAuth says whether enable-etcd-auth turned on etcd auth and RBAC.
	EtcdAuth bool `json:"etcd_auth"`
	// Migrations are the Gateway migrations applied to its store.
	Migrations []string `json:"migrations"`
	// Finalized is the release whose finalize ran, "" when none did.
	Finalized string `json:"finalized,omitempty"`
}

// Node kinds.
const (
	kindAppliance = "appliance"
	kindHost      = "host"
)

// Service states, as systemctl is-active prints them.
const (
	svcActive   = "active"
	svcInactive = "inactive"
	svcFailed   = "failed"
)

// node is a machine the simulator serves over SSH: a Rok appliance (a
// cluster member) or a Ganeti host.
type node struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Hostname string `json:"hostname"`
	Address  string `json:"address"`
	SSHPort  int    `json:"ssh_port"`
	On       bool   `json:"on"`
	// Boot is the rok-base version on the appliance's BOOT disk.
	Boot string `json:"boot,omitempty"`
	// NodeState is the release of the node-local state, bumped by
	// upgrade-node.
	NodeState string            `json:"node_state,omitempty"`
	Packages  map[string]string `json:"packages"`
	Services  map[string]string `json:"services"`
	// Journal holds recent service log lines, for journalctl.
	Journal []string `json:"journal,omitempty"`
	// Owners records chown'ed paths ("uid:gid"); others belong to root.
	Owners map[string]string `json:"owners,omitempty"`
	// Ganeti: the appliance's instance and the host it runs on; a host's
	// Ganeti role (master, master-candidate, regular, drained, offline).
	Instance   string `json:"instance,omitempty"`
	Host       string `json:"host,omitempty"`
	GanetiRole string `json:"ganeti_role,omitempty"`
	UUID       string `json:"uuid,omitempty"`
}

// ports are the loopback ports the simulator listens on, kept so that a
// restarted simulator is found where the var-file says.
type ports struct {
	Etcd     int `json:"etcd"`
	EtcdPeer int `json:"etcd_peer"`
	RAPI     int `json:"rapi,omitempty"`
	Control  int `json:"control"`
}

// event is an event of the history, and whether it went to the server's
// log writer.
type event struct {
	sim.Event
	logged bool
}

// maxEvents bounds the history kept in the state.
const maxEvents = 300

func (st *state) node(name string) *node {
	for _, n := range st.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// members returns the Rok cluster's members (the appliances), in order.
func (st *state) members() []*node {
	var out []*node
	for _, n := range st.Nodes {
		if n.Kind == kindAppliance {
			out = append(out, n)
		}
	}
	return out
}

func (st *state) event(node, format string, args ...any) {
	st.Events = append(st.Events, event{Event: sim.Event{Time: time.Now().UTC(), Node: node, Text: fmt.Sprintf(format, args...)}})
	if len(st.Events) > maxEvents {
		st.Events = append([]event(nil), st.Events[len(st.Events)-maxEvents:]...)
	}
}

// counter returns the counter of op on node, creating it.
func (st *state) counter(node, op string) *sim.Counter {
	m := st.Counters[node]
	if m == nil {
		m = map[string]*sim.Counter{}
		st.Counters[node] = m
	}
	c := m[op]
	if c == nil {
		c = &sim.Counter{}
		m[op] = c
	}
	return c
}

func loadState(dir string) (*state, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	if st.Schema != stateSchema {
		return nil, fmt.Errorf("%s has schema %d; this rokflow reads schema %d (remove the directory to start afresh)",
			filepath.Join(dir, stateFile), st.Schema, stateSchema)
	}
	if st.Counters == nil {
		st.Counters = map[string]map[string]*sim.Counter{}
	}
	return &st, nil
}

func saveState(dir string, st *state) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return pki.WriteFile(filepath.Join(dir, stateFile), append(data, '\n'), 0o600)
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
