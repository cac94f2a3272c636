package server

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/rokflow/rokflow/sim/internal/release"
	"github.com/rokflow/rokflow/sim/server/rapi"
)

func opStr(op map[string]any, k string) string { s, _ := op[k].(string); return s }
func opBool(op map[string]any, k string) bool  { b, _ := op[k].(bool); return b }

// execOp carries out one opcode. The caller holds s.mu.
func (s *Server) execOp(j *rapi.Job, op map[string]any, log func(string, ...any)) (any, *rapi.OpError) {
	switch opStr(op, "OP_ID") {
	case "OP_INSTANCE_MIGRATE":
		return s.opMigrate(op, log)
	case "OP_INSTANCE_SHUTDOWN":
		return s.opShutdown(op, j.DryRun, log)
	case "OP_INSTANCE_STARTUP":
		return s.opStartup(op, j.DryRun, log)
	case "OP_INSTANCE_REINSTALL":
		return s.opReinstall(op, log)
	case "OP_NODE_EVACUATE":
		return s.opEvacuate(j, op, log)
	case "OP_NODE_MIGRATE":
		return s.opNodeMigrate(j, op, log)
	case "OP_NODE_SET_PARAMS":
		return s.opNodeSetParams(op, log)
	case "OP_INSTANCE_QUERY_DATA":
		return s.opQueryData(op)
	}
	return nil, rapi.ExecError("Unsupported opcode %s in the simulator", opStr(op, "OP_ID"))
}

// fault returns the injected failure of an opcode, consuming one use.
func (s *Server) fault(opID, target, node string) *rapi.OpError {
	f := &s.st.Spec.Faults
	for k, jf := range f.FailJobs {
		if !jobFaultMatches(jf, opID, target) {
			continue
		}
		if jf.Times > 0 {
			f.FailJobs[k].Times--
			if f.FailJobs[k].Times == 0 {
				f.FailJobs = append(f.FailJobs[:k:k], f.FailJobs[k+1:]...)
			}
		}
		switch opID {
		case "OP_INSTANCE_REINSTALL":
			return rapi.ExecError("Could not install OS for instance '%s' on node '%s': OS create script failed (exited with exit code 1), last lines in the log file:\nsnf-image: image transfer failed: connection reset by peer (simulated fault)", target, node)
		case "OP_INSTANCE_MIGRATE":
			return rapi.ExecError("Could not migrate instance %s: Failed to migrate instance: migration to %s aborted: connection reset by peer (simulated fault)", target, node)
		}
		return rapi.ExecError("%s(%s) failed on node %s: simulated fault", strings.TrimPrefix(opID, "OP_"), target, node)
	}
	return nil
}

// iallocator picks the node hail would: a vm-capable, online, undrained
// node other than the instance's primary and those excluded, with room for
// the instance, fewest primary instances first.
func (s *Server) iallocator(i *instance, extra map[string]int) (string, *rapi.OpError) {
	type cand struct {
		name string
		load int
	}
	var cs []cand
	var why []string
	for _, h := range s.st.hosts() {
		switch {
		case h.Name == i.PNode:
			continue
		case h.GanetiRole == "offline" || h.GanetiRole == "drained":
			why = append(why, fmt.Sprintf("%s is %s", h.Name, h.GanetiRole))
			continue
		case s.st.memFree(h)-extra[h.Name]*i.Memory < i.Memory && i.Running:
			why = append(why, fmt.Sprintf("%s has too little free memory", h.Name))
			continue
		}
		cs = append(cs, cand{h.Name, len(s.st.Ganeti.primaries(h.Name)) + extra[h.Name]})
	}
	if len(cs) == 0 {
		return "", rapi.Prereq("insufficient_resources", "Can't compute nodes using iallocator 'hail': Request failed: No valid allocation solutions, failure reasons: %s", strings.Join(why, ", "))
	}
	sort.Slice(cs, func(a, b int) bool {
		if cs[a].load != cs[b].load {
			return cs[a].load < cs[b].load
		}
		return cs[a].name < cs[b].name
	})
	return cs[0].name, nil
}

// usableTarget checks a node an instance is moved to.
func (s *Server) usableTarget(name string) (*node, *rapi.OpError) {
	h := s.st.host(name)
	if h == nil {
		return nil, rapi.Prereq("unknown_entity", "Node '%s' not known", name)
	}
	switch h.GanetiRole {
	case "offline":
		return nil, rapi.Prereq("wrong_state", "Can't use offline node %s", name)
	case "drained":
		return nil, rapi.Prereq("wrong_state", "Can't use drained node %s", name)
	}
	return h, nil
}

func (s *Server) opMigrate(op map[string]any, log func(string, ...any)) (any, *rapi.OpError) {
	g := s.st.Ganeti
	name := opStr(op, "instance_name")
	i := g.instance(name)
	if i == nil {
		return nil, rapi.Prereq("unknown_entity", "Instance '%s' not known", name)
	}
	if opBool(op, "cleanup") {
		log("Migrating instance %s", name)
		log("* checking where the instance actually runs (if this hangs, the hypervisor might be in a bad state)")
		log("* instance running on: %s", i.PNode)
		log("* instance confirmed to be running on its primary node (%s)", i.PNode)
		log("* done")
		return nil, nil
	}
	if i.DiskTemplate != "ext" && i.DiskTemplate != "sharedfile" {
		return nil, rapi.Prereq("wrong_state", "Instance's disk layout '%s' does not allow migrations", i.DiskTemplate)
	}
	target := opStr(op, "target_node")
	if target == "" {
		t, err := s.iallocator(i, nil)
		if err != nil {
			return nil, err
		}
		target = t
		op["target_node"] = t
		log(" - INFO: Selected nodes for instance %s via iallocator hail: %s", name, t)
	}
	h, perr := s.usableTarget(target)
	if perr != nil {
		return nil, perr
	}
	if target == i.PNode {
		return nil, rapi.Prereq("wrong_state", "Cannot migrate instance %s to its primary (%s)", name, i.PNode)
	}
	failover := false
	if !i.Running {
		if !opBool(op, "allow_failover") {
			return nil, rapi.Prereq("wrong_state", "Can't migrate, please use failover: Instance %s is not running", name)
		}
		failover = true
	}
	if f := s.fault("OP_INSTANCE_MIGRATE", name, target); f != nil {
		log("Migrating instance %s", name)
		return nil, f
	}
	source := i.PNode
	if failover {
		log("Failover instance %s", name)
		log(" - INFO: Not checking memory on the secondary node as instance will not be started")
		log("* checking disk consistency between source and target")
		log("* shutting down instance on source node")
		log("* deactivating the instance's disks on source node")
	} else {
		log("Migrating instance %s", name)
		log("* checking disk consistency between source and target")
		log("* closing instance disks on node %s", target)
		log("* opening instance disks on node %s in shared mode", source)
		log("* opening instance disks on node %s in shared mode", target)
		if i.Kind == instGuest {
			if ok, why := s.hostCompatible(s.st, h); !ok {
				return nil, rapi.ExecError("Could not open the disks of instance %s on node %s: ExtStorage provider 'rok' failed to attach disk/0: %s", name, target, why)
			}
		}
		log("* preparing %s to accept the instance", target)
		log("* migrating instance to %s", target)
		log("* starting memory transfer")
		log("* memory transfer complete")
		log("* closing instance disks on node %s", source)
		log("* opening instance disks on node %s in exclusive mode", target)
		log("* done")
	}
	i.PNode = target
	i.Serial++
	i.MTime = nowFloat()
	s.st.event("", "instance %s %s %s -> %s", name, map[bool]string{true: "failed over", false: "migrated"}[failover], source, target)
	return nil, nil
}

func (s *Server) opShutdown(op map[string]any, dry bool, log func(string, ...any)) (any, *rapi.OpError) {
	name := opStr(op, "instance_name")
	i := s.st.Ganeti.instance(name)
	if i == nil {
		return nil, rapi.Prereq("unknown_entity", "Instance '%s' not known", name)
	}
	if dry {
		log(" - INFO: dry-run mode requested, not actually executing the operation")
		return nil, nil
	}
	if f := s.fault("OP_INSTANCE_SHUTDOWN", name, i.PNode); f != nil {
		return nil, f
	}
	if !opBool(op, "no_remember") {
		i.AdminUp = false
	}
	if !i.Running {
		log(" - WARNING: Instance %s is already stopped", name)
	}
	i.Running = false
	i.Serial++
	i.MTime = nowFloat()
	if n := s.applianceNode(i); n != nil {
		s.powerOff(s.st, n, "Ganeti instance "+name+" shut down")
	}
	return nil, nil
}

func (s *Server) opStartup(op map[string]any, dry bool, log func(string, ...any)) (any, *rapi.OpError) {
	name := opStr(op, "instance_name")
	i := s.st.Ganeti.instance(name)
	if i == nil {
		return nil, rapi.Prereq("unknown_entity", "Instance '%s' not known", name)
	}
	h := s.st.host(i.PNode)
	if h.GanetiRole == "offline" {
		return nil, rapi.Prereq("wrong_state", "Can't use offline node %s", h.Name)
	}
	if dry {
		log(" - INFO: dry-run mode requested, not actually executing the operation")
		return nil, nil
	}
	if f := s.fault("OP_INSTANCE_STARTUP", name, i.PNode); f != nil {
		return nil, f
	}
	n := s.applianceNode(i)
	if n != nil && has(s.st.Spec.Faults.NoPowerOn, n.Name) {
		return nil, rapi.ExecError("Could not start instance '%s': Hypervisor error: the instance did not come up on %s (simulated fault no_power_on)", name, i.PNode)
	}
	if i.Kind == instGuest {
		if ok, why := s.hostCompatible(s.st, h); !ok {
			return nil, rapi.ExecError("Could not start instance '%s': Cannot activate block devices: ExtStorage provider 'rok' failed to attach disk/0: %s", name, why)
		}
	}
	if !opBool(op, "no_remember") {
		i.AdminUp = true
	}
	i.Running = true
	i.Serial++
	i.MTime = nowFloat()
	if n != nil {
		s.powerOn(s.st, n, "Ganeti instance "+name+" started")
	}
	return nil, nil
}

// applianceNode returns the Rok member an appliance instance is.
func (s *Server) applianceNode(i *instance) *node {
	if i.Kind != instAppliance {
		return nil
	}
	for _, m := range s.st.members() {
		if m.Instance == i.Name {
			return m
		}
	}
	return nil
}

func (s *Server) opReinstall(op map[string]any, log func(string, ...any)) (any, *rapi.OpError) {
	name := opStr(op, "instance_name")
	i := s.st.Ganeti.instance(name)
	if i == nil {
		return nil, rapi.Prereq("unknown_entity", "Instance '%s' not known", name)
	}
	if i.Running {
		return nil, rapi.Prereq("wrong_state", "Instance %s is running, cannot reinstall", name)
	}
	osName := opStr(op, "os_type")
	if osName == "" {
		osName = i.OS
	}
	base, _, _ := strings.Cut(osName, "+")
	declared, known := supportedOS[base]
	params := map[string]string{}
	if m, ok := op["osparams"].(map[string]any); ok {
		for k, v := range m {
			params[k] = fmt.Sprint(v)
		}
	}
	// Ganeti stores the parameters on the instance before it validates them.
	if len(params) > 0 {
		if i.OSParams == nil {
			i.OSParams = map[string]string{}
		}
		for k, v := range params {
			i.OSParams[k] = v
		}
	}
	if !known {
		return nil, rapi.ExecError("OS Parameters validation failed on node %s: Directory for OS %s not found in search path", i.PNode, osName)
	}
	var unknown []string
	for k := range params {
		if !has(declared, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, rapi.ExecError("OS Parameters validation failed on node %s: The following parameters are not supported by the OS %s: %s", i.PNode, base, strings.Join(unknown, ", "))
	}
	if opStr(op, "os_type") != "" {
		log("Changing OS scripts to '%s'...", osName)
	}
	log(" - INFO: Running instance OS create scripts...")
	fail := func(msg string) (any, *rapi.OpError) {
		return nil, rapi.ExecError("Could not install OS for instance '%s' on node '%s': OS create script failed (exited with exit code 1), last lines in the log file:\n%s", name, i.PNode, msg)
	}
	all := i.OSParams
	var version string
	if base == "snf-image" {
		if all["img_id"] == "" {
			return fail("snf-image: the img_id OS parameter is missing")
		}
		switch f := all["img_format"]; f {
		case "diskdump", "extdump", "ntfsdump", "":
		default:
			return fail(fmt.Sprintf("snf-image: unknown image format '%s'", f))
		}
		var props map[string]any
		if p := all["img_properties"]; p != "" {
			if err := json.Unmarshal([]byte(p), &props); err != nil {
				return fail(fmt.Sprintf("snf-image: img_properties is not a JSON object: %v", err))
			}
		}
		if i.Kind == instAppliance {
			v, msg := s.st.rokeImage(all["img_id"], props)
			if msg != "" {
				return fail(msg)
			}
			version = v
		}
	}
	if f := s.fault("OP_INSTANCE_REINSTALL", name, i.PNode); f != nil {
		return nil, f
	}
	i.OS = osName
	i.Serial++
	i.MTime = nowFloat()
	if n := s.applianceNode(i); n != nil && version != "" {
		s.replaceDisk(s.st, n, version)
	}
	s.st.event("", "instance %s reinstalled with %s", name, osName)
	return nil, nil
}

func (s *Server) opEvacuate(j *rapi.Job, op map[string]any, log func(string, ...any)) (any, *rapi.OpError) {
	nodeName := opStr(op, "node_name")
	h := s.st.host(nodeName)
	if h == nil {
		return nil, rapi.Prereq("unknown_entity", "Node '%s' not known", nodeName)
	}
	mode := opStr(op, "mode")
	remote := opStr(op, "remote_node")
	ialloc := opStr(op, "iallocator")
	if remote != "" && mode == "primary-only" {
		return nil, rapi.Prereq("wrong_input", "Without the use of an iallocator only secondary instances can be evacuated")
	}
	if mode == "all" && remote == "" {
		return nil, rapi.Prereq("wrong_input", "Due to an issue with the iallocator interface it is not possible to evacuate all instances at once; specify explicitly whether to evacuate primary or secondary instances")
	}
	var insts []*instance
	if mode == "primary-only" {
		insts = s.st.Ganeti.primaries(nodeName)
	}
	names := make([]string, len(insts))
	for k, i := range insts {
		names[k] = i.Name
	}
	if len(insts) > 0 {
		log(" - INFO: Evacuating instances from node '%s': %s", nodeName, strings.Join(names, ", "))
	}
	if ialloc == "" {
		ialloc = "hail"
	}
	extra := map[string]int{}
	var moves []string
	targets := map[string]string{}
	var failed []string
	for _, i := range insts {
		if i.DiskTemplate != "ext" && i.DiskTemplate != "sharedfile" {
			failed = append(failed, fmt.Sprintf("%s (Instance's disk layout '%s' does not allow migrations)", i.Name, i.DiskTemplate))
			continue
		}
		t, err := s.iallocator(i, extra)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s (%s)", i.Name, err.Msg))
			continue
		}
		extra[t]++
		targets[i.Name] = t
		moves = append(moves, fmt.Sprintf("%s (to %s)", i.Name, t))
	}
	if len(failed) > 0 {
		log(" - WARNING: Unable to evacuate instances %s", strings.Join(failed, ", "))
		return nil, rapi.ExecError("Unable to evacuate instances %s", strings.Join(failed, ", "))
	}
	if len(moves) > 0 {
		log(" - INFO: Instances to be moved: %s", strings.Join(moves, ", "))
	}
	if j.DryRun {
		log(" - INFO: dry-run mode requested, not actually executing the operation")
		return nil, nil
	}
	if f := s.fault("OP_NODE_EVACUATE", nodeName, nodeName); f != nil {
		return nil, f
	}
	jobs := []any{}
	for _, i := range insts {
		sub := s.submit("", false, map[string]any{
			"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": i.Name, "instance_uuid": i.UUID, "mode": "live",
			"target_node": targets[i.Name], "target_node_uuid": s.st.host(targets[i.Name]).UUID,
			"allow_runtime_changes": false, "ignore_ipolicy": false, "cleanup": false, "allow_failover": true,
			"ignore_hvversions": true, "_reason": j.Ops[0]["reason"], "comment": "Submitted by OP_NODE_EVACUATE",
		})
		jobs = append(jobs, []any{true, sub.ID})
	}
	return map[string]any{"jobs": jobs}, nil
}

func (s *Server) opNodeMigrate(j *rapi.Job, op map[string]any, log func(string, ...any)) (any, *rapi.OpError) {
	nodeName := opStr(op, "node_name")
	if s.st.host(nodeName) == nil {
		return nil, rapi.Prereq("unknown_entity", "Node '%s' not known", nodeName)
	}
	target := opStr(op, "target_node")
	if target != "" {
		if _, err := s.usableTarget(target); err != nil {
			return nil, err
		}
	}
	if f := s.fault("OP_NODE_MIGRATE", nodeName, nodeName); f != nil {
		return nil, f
	}
	mode := opStr(op, "mode")
	if mode == "" {
		mode = "live"
	}
	jobs := []any{}
	for _, i := range s.st.Ganeti.primaries(nodeName) {
		sub := map[string]any{
			"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": i.Name, "instance_uuid": i.UUID, "mode": mode,
			"allow_runtime_changes": true, "ignore_ipolicy": false, "cleanup": false, "allow_failover": false,
			"ignore_hvversions": false, "_reason": j.Ops[0]["reason"], "comment": "Submitted by OP_NODE_MIGRATE",
		}
		if target != "" {
			sub["target_node"] = target
			sub["target_node_uuid"] = s.st.host(target).UUID
		} else {
			sub["iallocator"] = "hail"
		}
		jobs = append(jobs, []any{true, s.submit("", false, sub).ID})
	}
	return map[string]any{"jobs": jobs}, nil
}

func (s *Server) opNodeSetParams(op map[string]any, log func(string, ...any)) (any, *rapi.OpError) {
	nodeName := opStr(op, "node_name")
	h := s.st.host(nodeName)
	if h == nil {
		return nil, rapi.Prereq("unknown_entity", "Node '%s' not known", nodeName)
	}
	if h.GanetiRole == "master" {
		return nil, rapi.Prereq("wrong_input", "The master role can be changed only via master-failover")
	}
	if f := s.fault("OP_NODE_SET_PARAMS", nodeName, nodeName); f != nil {
		return nil, f
	}
	old := map[string]bool{"master_candidate": h.GanetiRole == "master-candidate", "drained": h.GanetiRole == "drained", "offline": h.GanetiRole == "offline"}
	role := h.GanetiRole
	switch {
	case opBool(op, "offline"):
		role = "offline"
	case opBool(op, "drained"):
		role = "drained"
	case opBool(op, "master_candidate"):
		role = "master-candidate"
	case op["master_candidate"] == false || op["drained"] == false || op["offline"] == false:
		role = "regular"
	}
	now := map[string]bool{"master_candidate": role == "master-candidate", "drained": role == "drained", "offline": role == "offline"}
	result := []any{}
	for _, k := range []string{"master_candidate", "drained", "offline"} {
		if old[k] != now[k] {
			result = append(result, []any{k, map[bool]string{true: "True", false: "False"}[now[k]]})
		}
	}
	h.GanetiRole = role
	s.st.event(h.Name, "Ganeti role is now %s", role)
	return result, nil
}

func (s *Server) opQueryData(op map[string]any) (any, *rapi.OpError) {
	out := map[string]any{}
	names, _ := op["instances"].([]any)
	for _, n := range names {
		name, _ := n.(string)
		i := s.st.Ganeti.instance(name)
		if i == nil {
			return nil, rapi.Prereq("unknown_entity", "Instance '%s' not known", name)
		}
		state := "down"
		if i.AdminUp {
			state = "up"
		}
		var run any
		if !opBool(op, "static") {
			run = map[bool]string{true: "up", false: "down"}[i.Running]
		}
		out[name] = map[string]any{
			"name": name, "config_state": state, "run_state": run, "pnode": i.PNode,
			"pnode_group_uuid": s.st.Ganeti.GroupUUID, "pnode_group_name": "default", "snodes": []string{},
			"os": i.OS, "os_instance": map[string]any{}, "disk_template": i.DiskTemplate, "hypervisor": "kvm",
			"network_port": nil, "uuid": i.UUID, "serial_no": i.Serial, "ctime": i.CTime, "mtime": i.MTime,
		}
	}
	return out, nil
}

// rokeImage returns the Rok version a RokE appliance image installs, or
// why snf-image cannot install it. The image decides: roke-<version>
// (imageID), or an image named otherwise whose ROK_VERSION property says.
// The site's image store holds the images of the cluster's starting
// release and of each upgrade target (state.images).
func (st *state) rokeImage(id string, props map[string]any) (version, msg string) {
	version, ok := strings.CutPrefix(id, "roke-")
	if _, err := release.Series(version); !ok || err != nil {
		version, _ = props["ROK_VERSION"].(string)
		if _, err := release.Series(version); err != nil {
			return "", fmt.Sprintf("snf-image: image '%s' is not a RokE appliance image (no ROK_VERSION property)", id)
		}
	}
	if !has(st.images(), version) {
		var store []string
		for _, v := range st.images() {
			store = append(store, release.ImageID(v))
		}
		return "", fmt.Sprintf("snf-image: no RokE image of Rok %s (img_id '%s'): the image store has %s", version, id, strings.Join(store, ", "))
	}
	return version, ""
}
