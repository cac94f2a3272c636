package server

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/rokflow/rokflow/sim/internal/release"
	"github.com/rokflow/rokflow/sim/server/rapi"
)

// ganeti is the Ganeti cluster under RokE: its hosts are nodes of kind
// host in state.Nodes; its instances and job queue live here.
type ganeti struct {
	Name      string      `json:"name"`
	Master    string      `json:"master"`
	UUID      string      `json:"uuid"`
	GroupUUID string      `json:"group_uuid"`
	CTime     float64     `json:"ctime"`
	Instances []*instance `json:"instances"`
	Jobs      []*rapi.Job `json:"jobs"`
	NextJob   int         `json:"next_job"`
}

// Instance kinds.
const (
	instAppliance = "appliance"
	instGuest     = "guest"
)

// instance is a Ganeti instance: a RokE appliance (disk template plain,
// bound to its host) or a guest whose disks the Rok ExtStorage provider
// serves (template ext, migratable).
type instance struct {
	Name         string            `json:"name"`
	Kind         string            `json:"kind"`
	PNode        string            `json:"pnode"`
	OS           string            `json:"os"`
	DiskTemplate string            `json:"disk_template"`
	AdminUp      bool              `json:"admin_up"`
	Running      bool              `json:"running"`
	IP           string            `json:"ip"`
	MAC          string            `json:"mac"`
	DiskSize     int               `json:"disk_size"`
	Memory       int               `json:"memory"`
	VCPUs        int               `json:"vcpus"`
	OSParams     map[string]string `json:"osparams"`
	UUID         string            `json:"uuid"`
	NICUUID      string            `json:"nic_uuid"`
	DiskUUID     string            `json:"disk_uuid"`
	Serial       int               `json:"serial"`
	CTime        float64           `json:"ctime"`
	MTime        float64           `json:"mtime"`
}

// Ganeti host memory, MiB.
const (
	hostMemory = 65536
	hostMNode  = 1024
)

// supportedOS are the OS definitions installed on the hosts, with the
// parameters each declares.
var supportedOS = map[string][]string{
	"snf-image": {"img_id", "img_format", "img_passwd", "img_properties", "img_personality", "config_url"},
	"noop":      nil,
}

func nowFloat() float64 { return float64(time.Now().UnixNano()) / 1e9 }

func mac() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("aa:00:00:%02x:%02x:%02x", b[0], b[1], b[2])
}

// addGaneti adds one Ganeti host per appliance, the appliances as
// instances on them and the guests.
func addGaneti(st *state) {
	domain := "gnt." + st.Spec.Cluster
	now := nowFloat()
	g := &ganeti{Name: "cluster." + domain, UUID: newUUID(), GroupUUID: newUUID(), CTime: now, NextJob: 1}
	var hosts []*node
	for i, app := range st.members() {
		h := &node{
			Name:     fmt.Sprintf("node%d.%s", i+1, domain),
			Kind:     kindHost,
			Hostname: fmt.Sprintf("node%d", i+1),
			Address:  fmt.Sprintf("10.0.1.%d", 11+i),
			On:       true,
			Packages: map[string]string{
				"rok-base": st.Spec.FromVersion, "rok-common": st.Spec.FromVersion,
				"ganeti": "3.0.2-3", "snf-image": "0.20.1-1", "qemu-system-x86": "1:7.2+dfsg-7+deb12u7",
			},
			Services:   map[string]string{"ganeti": svcActive, "ssh": svcActive},
			GanetiRole: "master-candidate",
			UUID:       newUUID(),
		}
		if i == 0 {
			h.GanetiRole = "master"
			g.Master = h.Name
		}
		hosts = append(hosts, h)
		app.Host = h.Name
		app.Instance = app.Hostname + "." + domain
		g.Instances = append(g.Instances, &instance{
			Name: app.Instance, Kind: instAppliance, PNode: h.Name, OS: "snf-image+default", DiskTemplate: "plain",
			AdminUp: true, Running: true, IP: app.Address, MAC: mac(), DiskSize: 20480, Memory: 8192, VCPUs: 4,
			OSParams: map[string]string{"img_id": release.ImageID(st.Spec.FromVersion), "img_format": "diskdump",
				"img_properties": fmt.Sprintf(`{"ROK_VERSION": %q}`, st.Spec.FromVersion)},
			UUID: newUUID(), NICUUID: newUUID(), DiskUUID: newUUID(), Serial: 3, CTime: now, MTime: now,
		})
		for j := 1; j <= st.Spec.Guests; j++ {
			g.Instances = append(g.Instances, &instance{
				Name: fmt.Sprintf("vm%d-%d.%s", i+1, j, domain), Kind: instGuest, PNode: h.Name, OS: "snf-image+default",
				DiskTemplate: "ext", AdminUp: true, Running: true, IP: fmt.Sprintf("10.1.%d.%d", i+1, 10+j), MAC: mac(),
				DiskSize: 10240, Memory: 2048, VCPUs: 2,
				OSParams: map[string]string{"img_id": "debian-12-base", "img_format": "diskdump"},
				UUID:     newUUID(), NICUUID: newUUID(), DiskUUID: newUUID(), Serial: 3, CTime: now, MTime: now,
			})
		}
	}
	st.Nodes = append(st.Nodes, hosts...)
	st.Ganeti = g
}

// applianceOn returns the member whose RokE appliance runs on host.
func applianceOn(st *state, host string) string {
	for _, m := range st.members() {
		if m.Host == host {
			return m.Name
		}
	}
	return ""
}

func (g *ganeti) instance(name string) *instance {
	for _, i := range g.Instances {
		if i.Name == name {
			return i
		}
	}
	return nil
}

// hosts returns the Ganeti nodes.
func (st *state) hosts() []*node {
	var out []*node
	for _, n := range st.Nodes {
		if n.Kind == kindHost {
			out = append(out, n)
		}
	}
	return out
}

func (st *state) host(name string) *node {
	if n := st.node(name); n != nil && n.Kind == kindHost {
		return n
	}
	return nil
}

// primaries lists the instances whose primary node is host, by name.
func (g *ganeti) primaries(host string) []*instance {
	var out []*instance
	for _, i := range g.Instances {
		if i.PNode == host {
			out = append(out, i)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

func (st *state) memFree(h *node) int {
	free := hostMemory - hostMNode
	for _, i := range st.Ganeti.primaries(h.Name) {
		if i.Running {
			free -= i.Memory
		}
	}
	return free
}

var roleLetter = map[string]string{"master": "M", "master-candidate": "C", "regular": "R", "drained": "D", "offline": "O"}

// nodeView is GET /2/nodes/NAME (and an element of ?bulk=1).
func (st *state) nodeView(h *node, single bool) map[string]any {
	var pinst []string
	for _, i := range st.Ganeti.primaries(h.Name) {
		pinst = append(pinst, i.Name)
	}
	if pinst == nil {
		pinst = []string{}
	}
	offline := h.GanetiRole == "offline"
	mem := func(v int) any {
		if offline {
			return nil
		}
		return v
	}
	v := map[string]any{
		"name": h.Name, "offline": offline, "master_candidate": h.GanetiRole == "master" || h.GanetiRole == "master-candidate",
		"drained": h.GanetiRole == "drained", "dtotal": mem(1907729), "dfree": mem(1602493), "sptotal": mem(1907729), "spfree": mem(1602493),
		"mtotal": mem(hostMemory), "mnode": mem(hostMNode), "mfree": mem(st.memFree(h)),
		"pinst_cnt": len(pinst), "sinst_cnt": 0, "ctotal": mem(16), "cnos": mem(16), "cnodes": mem(1), "csockets": mem(1),
		"pip": h.Address, "sip": h.Address, "role": roleLetter[h.GanetiRole], "pinst_list": pinst, "sinst_list": []string{},
		"master_capable": true, "vm_capable": true,
		"ndparams": map[string]any{"oob_program": "", "spindle_count": 1, "exclusive_storage": false, "ovs": false,
			"ovs_name": "switch1", "ovs_link": "", "ssh_port": 22, "cpu_speed": 1},
		"group.uuid": st.Ganeti.GroupUUID, "ctime": st.Ganeti.CTime, "mtime": st.Ganeti.CTime,
		"uuid": h.UUID, "serial_no": 1, "tags": []string{},
	}
	if single {
		v["secondary_ip"] = h.Address
	}
	return v
}

// status is the instance status Ganeti reports.
func (i *instance) status(st *state) string {
	h := st.host(i.PNode)
	switch {
	case h != nil && h.GanetiRole == "offline":
		return "ERROR_nodeoffline"
	case i.AdminUp && i.Running:
		return "running"
	case i.AdminUp:
		return "ERROR_down"
	case i.Running:
		return "ERROR_up"
	}
	return "ADMIN_down"
}

// instanceView is GET /2/instances/NAME (and an element of ?bulk=1).
func (st *state) instanceView(i *instance) map[string]any {
	admin := "down"
	if i.AdminUp {
		admin = "up"
	}
	var oram, ovcpus any
	if i.Running {
		oram, ovcpus = i.Memory, i.VCPUs
	}
	link := "br0"
	return map[string]any{
		"name": i.Name, "admin_state": admin, "os": i.OS, "pnode": i.PNode, "snodes": []string{},
		"disk_template": i.DiskTemplate, "nic.ips": []any{i.IP}, "nic.macs": []string{i.MAC}, "nic.modes": []string{"bridged"},
		"nic.uuids": []string{i.NICUUID}, "nic.names": []any{nil}, "nic.links": []string{link}, "nic.networks": []any{nil},
		"nic.networks.names": []any{nil}, "nic.bridges": []string{link}, "network_port": nil,
		"disk.sizes": []int{i.DiskSize}, "disk.spindles": []any{nil}, "disk_usage": i.DiskSize, "disk.uuids": []string{i.DiskUUID},
		"disk.names": []any{nil},
		"beparams": map[string]any{"minmem": i.Memory, "maxmem": i.Memory, "vcpus": i.VCPUs, "auto_balance": true,
			"always_failover": false, "spindle_use": 1, "memory": i.Memory},
		"hvparams": map[string]any{}, "oper_state": i.Running, "oper_ram": oram, "oper_vcpus": ovcpus,
		"status": i.status(st), "custom_hvparams": map[string]any{},
		"custom_beparams":  map[string]any{"minmem": i.Memory, "maxmem": i.Memory, "vcpus": i.VCPUs},
		"custom_nicparams": []any{map[string]any{"link": link}},
		"ctime":            i.CTime, "mtime": i.MTime, "uuid": i.UUID, "serial_no": i.Serial, "tags": []string{},
	}
}

// infoView is GET /2/info.
func (st *state) infoView() map[string]any {
	var v map[string]any
	if err := json.Unmarshal([]byte(infoTemplate), &v); err != nil {
		panic(err) // a constant
	}
	g := st.Ganeti
	v["name"], v["master"], v["uuid"], v["ctime"], v["mtime"] = g.Name, g.Master, g.UUID, g.CTime, g.CTime
	return v
}

// hostOf returns the host an instance or node name refers to, for the
// slow-host fault's latency on jobs.
func (st *state) hostOf(target string) string {
	if st.host(target) != nil {
		return target
	}
	if st.Ganeti != nil {
		if i := st.Ganeti.instance(target); i != nil {
			return i.PNode
		}
	}
	return ""
}
