package ganeti

import (
	"context"
	"net/http"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// Info is the kind ganeti.info: GET /2/info and /2/features.
type Info struct{}

// Nodes is the kind ganeti.nodes: GET /2/nodes?bulk=1.
type Nodes struct{}

// Node is the kind ganeti.node: GET /2/nodes/NAME.
type Node struct{}

// Instances is the kind ganeti.instances: GET /2/instances?bulk=1.
type Instances struct{}

// Instance is the kind ganeti.instance: GET /2/instances/NAME.
type Instance struct{}

var (
	_ steps.Kind = Info{}
	_ steps.Kind = Nodes{}
	_ steps.Kind = Node{}
	_ steps.Kind = Instances{}
	_ steps.Kind = Instance{}
)

// roleNames maps the role letters of node objects to the words of
// /2/nodes/NAME/role, which ganeti.node_role takes.
var roleNames = map[string]string{
	"M": "master",
	"C": "master-candidate",
	"R": "regular",
	"D": "drained",
	"O": "offline",
}

var nodeAttrs = map[string]cty.Type{
	"name":             cty.String,
	"role":             cty.String,
	"offline":          cty.Bool,
	"drained":          cty.Bool,
	"master_candidate": cty.Bool,
	"master_capable":   cty.Bool,
	"vm_capable":       cty.Bool,
	"pinst_list":       cty.List(cty.String),
	"sinst_list":       cty.List(cty.String),
	"pip":              cty.String,
	"sip":              cty.String,
	"group_uuid":       cty.String,
	"uuid":             cty.String,
	"tags":             cty.List(cty.String),
	"mtotal":           cty.Number,
	"mfree":            cty.Number,
	"ctotal":           cty.Number,
}

// nodeType is the object type of one node in the outputs.
var nodeType = cty.Object(nodeAttrs)

const nodeDoc = "name, role (master, master-candidate, regular, drained or offline), offline, drained, " +
	"master_candidate, master_capable, vm_capable, pinst_list and sinst_list (primary and secondary " +
	"instances), pip and sip (primary and secondary IP), group_uuid, uuid, tags, mtotal and mfree " +
	"(memory, MiB; null when the node is offline), ctotal (CPUs)"

func nodeValue(o object) cty.Value {
	role := cty.NullVal(cty.String)
	if r, ok := o["role"].(string); ok {
		if w, ok := roleNames[r]; ok {
			role = cty.StringVal(w)
		} else {
			role = cty.StringVal(r)
		}
	}
	return cty.ObjectVal(map[string]cty.Value{
		"name":             o.str("name"),
		"role":             role,
		"offline":          o.boolean("offline"),
		"drained":          o.boolean("drained"),
		"master_candidate": o.boolean("master_candidate"),
		"master_capable":   o.boolean("master_capable"),
		"vm_capable":       o.boolean("vm_capable"),
		"pinst_list":       o.strings("pinst_list"),
		"sinst_list":       o.strings("sinst_list"),
		"pip":              o.str("pip"),
		"sip":              o.str("sip"),
		"group_uuid":       o.str("group.uuid"),
		"uuid":             o.str("uuid"),
		"tags":             o.strings("tags"),
		"mtotal":           o.number("mtotal"),
		"mfree":            o.number("mfree"),
		"ctotal":           o.number("ctotal"),
	})
}

var instanceType = cty.Object(map[string]cty.Type{
	"name":          cty.String,
	"pnode":         cty.String,
	"snodes":        cty.List(cty.String),
	"status":        cty.String,
	"admin_state":   cty.String,
	"oper_state":    cty.Bool,
	"os":            cty.String,
	"disk_template": cty.String,
	"nic_ips":       cty.List(cty.String),
	"nic_macs":      cty.List(cty.String),
	"nic_links":     cty.List(cty.String),
	"nic_modes":     cty.List(cty.String),
	"disk_sizes":    cty.List(cty.Number),
	"tags":          cty.List(cty.String),
	"uuid":          cty.String,
})

const instanceDoc = "name, pnode (primary node), snodes (secondary nodes), status (running, ADMIN_down, " +
	"ERROR_down, …), admin_state (up, down, offline), oper_state (whether it runs), os (name+variant), " +
	"disk_template, nic_ips (null for a NIC without an address), nic_macs, nic_links, nic_modes, " +
	"disk_sizes (MiB), tags, uuid"

func instanceValue(o object) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"name":          o.str("name"),
		"pnode":         o.str("pnode"),
		"snodes":        o.strings("snodes"),
		"status":        o.str("status"),
		"admin_state":   o.str("admin_state"),
		"oper_state":    o.boolean("oper_state"),
		"os":            o.str("os"),
		"disk_template": o.str("disk_template"),
		"nic_ips":       o.strings("nic.ips"),
		"nic_macs":      o.strings("nic.macs"),
		"nic_links":     o.strings("nic.links"),
		"nic_modes":     o.strings("nic.modes"),
		"disk_sizes":    o.numbers("disk.sizes"),
		"tags":          o.strings("tags"),
		"uuid":          o.str("uuid"),
	})
}

var rawOutput = &schema.Attribute{Type: cty.DynamicPseudoType, Description: "The whole RAPI answer, for fields not listed here."}

var infoSchema = &steps.Schema{
	Name:    "ganeti.info",
	Summary: "Read the Ganeti cluster's information (GET /2/info) and RAPI features.",
	Description: "Reads GET /2/info (cluster name, master node, software version, default iallocator, …) and " +
		"GET /2/features, whose entries (node-evac-res1, node-migrate-reqv1, instance-reinstall-reqv1) " +
		"the write kinds rely on. The master's name is where the RAPI runs. Read-only: plan --discover runs it.",
	Effect: steps.ReadOnly,
	Target: steps.TargetNone,
	Args:   &schema.Block{Attributes: map[string]*schema.Attribute{"rapi": rapiArg}},
	Outputs: map[string]*schema.Attribute{
		"name":                   {Type: cty.String, Description: "The cluster name."},
		"master":                 {Type: cty.String, Description: "The master node's name."},
		"software_version":       {Type: cty.String, Description: "Ganeti's version, e.g. 3.0.2."},
		"default_iallocator":     {Type: cty.String, Description: "The cluster's default iallocator (e.g. hail), used when a request names none."},
		"enabled_hypervisors":    {Type: cty.List(cty.String), Description: "Enabled hypervisors."},
		"enabled_disk_templates": {Type: cty.List(cty.String), Description: "Enabled disk templates."},
		"candidate_pool_size":    {Type: cty.Number, Description: "How many master candidates the cluster keeps."},
		"uuid":                   {Type: cty.String, Description: "The cluster's UUID."},
		"features":               {Type: cty.List(cty.String), Description: "The RAPI's optional features (GET /2/features)."},
		"raw":                    rawOutput,
	},
	Secrets: rapiSecrets,
}

var nodesSchema = &steps.Schema{
	Name:    "ganeti.nodes",
	Summary: "List the Ganeti cluster's nodes with their roles and instances (GET /2/nodes?bulk=1).",
	Description: "Reads every node with GET /2/nodes?bulk=1. Each node has " + nodeDoc + ". " +
		"by_name serves for_each over nodes. Read-only: plan --discover runs it.",
	Effect: steps.ReadOnly,
	Target: steps.TargetNone,
	Args:   &schema.Block{Attributes: map[string]*schema.Attribute{"rapi": rapiArg}},
	Outputs: map[string]*schema.Attribute{
		"nodes":   {Type: cty.List(nodeType), Description: "Every node, sorted by name."},
		"names":   {Type: cty.List(cty.String), Description: "The node names, sorted."},
		"by_name": {Type: cty.Map(nodeType), Description: "The nodes keyed by name."},
		"master":  {Type: cty.String, Description: "The name of the node whose role is master."},
	},
	Secrets: rapiSecrets,
}

var nodeSchema = &steps.Schema{
	Name:    "ganeti.node",
	Summary: "Read one Ganeti node (GET /2/nodes/NAME).",
	Description: "Reads one node with GET /2/nodes/NAME: " + nodeDoc + ". An unknown node fails the step " +
		"(HTTP 404). Read-only: plan --discover runs it.",
	Effect: steps.ReadOnly,
	Target: steps.TargetNone,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"rapi": rapiArg,
		"node": {Type: cty.String, Required: true, Description: "The node's name as Ganeti knows it."},
	}},
	Outputs: nodeOutputs(),
	Secrets: rapiSecrets,
}

// nodeAttrDocs describes each attribute of a node.
var nodeAttrDocs = map[string]string{
	"name":             "The node's name.",
	"role":             "master, master-candidate, regular, drained or offline.",
	"offline":          "Whether the node is marked offline.",
	"drained":          "Whether the node is drained (gets no new instances).",
	"master_candidate": "Whether the node is a master candidate.",
	"master_capable":   "Whether the node may become master.",
	"vm_capable":       "Whether the node may run instances.",
	"pinst_list":       "The instances it is primary for.",
	"sinst_list":       "The instances it is secondary for.",
	"pip":              "Its primary IP address.",
	"sip":              "Its secondary IP address.",
	"group_uuid":       "Its node group's UUID.",
	"uuid":             "Its UUID.",
	"tags":             "Its tags.",
	"mtotal":           "Its total memory in MiB (null when offline).",
	"mfree":            "Its free memory in MiB (null when offline).",
	"ctotal":           "Its CPU count (null when offline).",
}

func nodeOutputs() map[string]*schema.Attribute {
	out := map[string]*schema.Attribute{"raw": rawOutput}
	for n, ty := range nodeAttrs {
		out[n] = &schema.Attribute{Type: ty, Description: nodeAttrDocs[n]}
	}
	return out
}

var instancesSchema = &steps.Schema{
	Name:    "ganeti.instances",
	Summary: "List the Ganeti cluster's instances and where they run (GET /2/instances?bulk=1).",
	Description: "Reads every instance with GET /2/instances?bulk=1. Each has " + instanceDoc + ". " +
		"by_primary maps each node to the instances it is primary for (nodes without any are absent; " +
		"use lookup(…, node, [])), which is what an evacuation moves and a migration brings back. " +
		"Read-only: plan --discover runs it.",
	Effect: steps.ReadOnly,
	Target: steps.TargetNone,
	Args:   &schema.Block{Attributes: map[string]*schema.Attribute{"rapi": rapiArg}},
	Outputs: map[string]*schema.Attribute{
		"instances":  {Type: cty.List(instanceType), Description: "Every instance, sorted by name."},
		"names":      {Type: cty.List(cty.String), Description: "The instance names, sorted."},
		"by_name":    {Type: cty.Map(instanceType), Description: "The instances keyed by name."},
		"by_primary": {Type: cty.Map(cty.List(cty.String)), Description: "For each primary node, its instances' names, sorted."},
	},
	Secrets: rapiSecrets,
}

var instanceSchema = &steps.Schema{
	Name:    "ganeti.instance",
	Summary: "Read one Ganeti instance: its primary node, IP and state (GET /2/instances/NAME).",
	Description: "Reads one instance with GET /2/instances/NAME: where it runs (primary_node, secondary_nodes), " +
		"its first IP address (ip; ips has them all), and its state. This is how the RokE master's " +
		"physical host and address are found. An unknown instance fails the step (HTTP 404). Instance " +
		"osparams are not part of this answer. Read-only: plan --discover runs it.",
	Effect: steps.ReadOnly,
	Target: steps.TargetNone,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"rapi":     rapiArg,
		"instance": {Type: cty.String, Required: true, Description: "The instance's name as Ganeti knows it."},
	}},
	Outputs: map[string]*schema.Attribute{
		"name":            {Type: cty.String, Description: "The instance's name."},
		"primary_node":    {Type: cty.String, Description: "The node it runs on (pnode)."},
		"secondary_nodes": {Type: cty.List(cty.String), Description: "Its secondary nodes (snodes)."},
		"ip":              {Type: cty.String, Description: "The first NIC address that is set (\"\" when none is)."},
		"ips":             {Type: cty.List(cty.String), Description: "Every NIC address that is set."},
		"macs":            {Type: cty.List(cty.String), Description: "The NICs' MAC addresses."},
		"status":          {Type: cty.String, Description: "running, ADMIN_down, ERROR_down, …"},
		"admin_state":     {Type: cty.String, Description: "up, down or offline."},
		"oper_state":      {Type: cty.Bool, Description: "Whether it is running now."},
		"os":              {Type: cty.String, Description: "Its OS as name+variant."},
		"disk_template":   {Type: cty.String, Description: "Its disk template (sharedfile, ext, drbd, …)."},
		"tags":            {Type: cty.List(cty.String), Description: "Its tags."},
		"uuid":            {Type: cty.String, Description: "Its UUID."},
		"raw":             rawOutput,
	},
	Secrets: rapiSecrets,
}

// Schema implements steps.Kind.
func (Info) Schema() *steps.Schema { return infoSchema }

// Schema implements steps.Kind.
func (Nodes) Schema() *steps.Schema { return nodesSchema }

// Schema implements steps.Kind.
func (Node) Schema() *steps.Schema { return nodeSchema }

// Schema implements steps.Kind.
func (Instances) Schema() *steps.Schema { return instancesSchema }

// Schema implements steps.Kind.
func (Instance) Schema() *steps.Schema { return instanceSchema }

func get(path ...any) request { return request{method: http.MethodGet, path: path} }

// readPlan describes a read of req.
func readPlan(args cty.Value, summary string, r request, extra hcl.Diagnostics) steps.PlanResponse {
	_, _, diags := parseRapi(steps.Attr(args, "rapi"))
	return steps.PlanResponse{
		Summary:     summary + " from " + displayRapi(steps.Attr(args, "rapi")),
		Request:     r.Display(),
		Diagnostics: append(diags, extra...),
	}
}

// readRun connects and GETs r into out; the client is usable for more
// requests when there are no errors.
func readRun(ctx context.Context, kind string, args cty.Value, r request, out any) (*rapiClient, hcl.Diagnostics) {
	c, diags := connect(kind, args)
	if c == nil {
		return nil, diags
	}
	if !r.known() {
		return nil, append(diags, steps.Errorf("Arguments not known", "Kind %s needs known arguments.", kind))
	}
	path, _ := r.encode()
	if err := c.call(ctx, r.method, path, nil, out); err != nil {
		return nil, append(diags, steps.Errorf("RAPI request failed", "%s.", err))
	}
	return c, diags
}

// connect decodes the rapi argument and makes a client.
func connect(kind string, args cty.Value) (*rapiClient, hcl.Diagnostics) {
	e, ok, diags := parseRapi(steps.Attr(args, "rapi"))
	if !ok {
		if !diags.HasErrors() {
			diags = append(diags, steps.Errorf("RAPI connection not known", "Kind %s needs a wholly known rapi argument.", kind))
		}
		return nil, diags
	}
	c, err := newClient(e)
	if err != nil {
		return nil, append(diags, steps.Errorf("Cannot set up the RAPI client", "%s.", err))
	}
	return c, diags
}

func checkName(what string, v cty.Value) hcl.Diagnostics {
	if s, ok := steps.Str(v); ok && s == "" {
		return hcl.Diagnostics{steps.Errorf("Empty "+what+" name", "The %s argument must not be empty.", what)}
	}
	return nil
}

// Plan implements steps.Kind.
func (Info) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	p := readPlan(req.Args, "read the Ganeti cluster info", get("/2/info"), nil)
	p.Request += "; GET /2/features"
	return p
}

// Run implements steps.Kind.
func (Info) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	var info map[string]any
	c, diags := readRun(ctx, infoSchema.Name, req.Args, get("/2/info"), &info)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	fs, err := c.features(ctx)
	if err != nil {
		return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("RAPI request failed", "%s.", err))}
	}
	o := object(info)
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"name":                   o.str("name"),
		"master":                 o.str("master"),
		"software_version":       o.str("software_version"),
		"default_iallocator":     o.str("default_iallocator"),
		"enabled_hypervisors":    o.strings("enabled_hypervisors"),
		"enabled_disk_templates": o.strings("enabled_disk_templates"),
		"candidate_pool_size":    o.number("candidate_pool_size"),
		"uuid":                   o.str("uuid"),
		"features":               stringList(fs),
		"raw":                    anyToCty(info),
	}), Diagnostics: diags}
}

// Plan implements steps.Kind.
func (Nodes) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	return readPlan(req.Args, "list the Ganeti nodes", get("/2/nodes?bulk=1"), nil)
}

// Run implements steps.Kind.
func (Nodes) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	var list []map[string]any
	_, diags := readRun(ctx, nodesSchema.Name, req.Args, get("/2/nodes?bulk=1"), &list)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	sort.Slice(list, func(i, j int) bool {
		n1, _ := list[i]["name"].(string)
		n2, _ := list[j]["name"].(string)
		return n1 < n2
	})
	var nodes []cty.Value
	var names []string
	byName := map[string]cty.Value{}
	master := ""
	for _, n := range list {
		v := nodeValue(object(n))
		name, _ := n["name"].(string)
		if name == "" {
			continue
		}
		nodes = append(nodes, v)
		names = append(names, name)
		byName[name] = v
		if r, _ := n["role"].(string); r == "M" {
			master = name
		}
	}
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"nodes":   listOf(nodeType, nodes),
		"names":   stringList(names),
		"by_name": mapOf(nodeType, byName),
		"master":  cty.StringVal(master),
	}), Diagnostics: diags}
}

// Plan implements steps.Kind.
func (Node) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	node := steps.Attr(req.Args, "node")
	return readPlan(req.Args, "read Ganeti node "+steps.Display(node), get("/2/nodes/", node), checkName("node", node))
}

// Run implements steps.Kind.
func (Node) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	node := steps.Attr(req.Args, "node")
	if d := checkName("node", node); d.HasErrors() {
		return steps.RunResponse{Diagnostics: d}
	}
	var n map[string]any
	_, diags := readRun(ctx, nodeSchema.Name, req.Args, get("/2/nodes/", node), &n)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	out := nodeValue(object(n)).AsValueMap()
	out["raw"] = anyToCty(n)
	return steps.RunResponse{Outputs: cty.ObjectVal(out), Diagnostics: diags}
}

// Plan implements steps.Kind.
func (Instances) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	return readPlan(req.Args, "list the Ganeti instances", get("/2/instances?bulk=1"), nil)
}

// Run implements steps.Kind.
func (Instances) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	var list []map[string]any
	_, diags := readRun(ctx, instancesSchema.Name, req.Args, get("/2/instances?bulk=1"), &list)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	sort.Slice(list, func(i, j int) bool {
		n1, _ := list[i]["name"].(string)
		n2, _ := list[j]["name"].(string)
		return n1 < n2
	})
	var insts []cty.Value
	var names []string
	byName := map[string]cty.Value{}
	primaries := map[string][]string{}
	for _, in := range list {
		name, _ := in["name"].(string)
		if name == "" {
			continue
		}
		v := instanceValue(object(in))
		insts = append(insts, v)
		names = append(names, name)
		byName[name] = v
		if p, _ := in["pnode"].(string); p != "" {
			primaries[p] = append(primaries[p], name)
		}
	}
	byPrimary := map[string]cty.Value{}
	for p, ns := range primaries {
		sort.Strings(ns)
		byPrimary[p] = stringList(ns)
	}
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"instances":  listOf(instanceType, insts),
		"names":      stringList(names),
		"by_name":    mapOf(instanceType, byName),
		"by_primary": mapOf(cty.List(cty.String), byPrimary),
	}), Diagnostics: diags}
}

// Plan implements steps.Kind.
func (Instance) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	inst := steps.Attr(req.Args, "instance")
	return readPlan(req.Args, "read Ganeti instance "+steps.Display(inst), get("/2/instances/", inst), checkName("instance", inst))
}

// Run implements steps.Kind.
func (Instance) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	inst := steps.Attr(req.Args, "instance")
	if d := checkName("instance", inst); d.HasErrors() {
		return steps.RunResponse{Diagnostics: d}
	}
	var in map[string]any
	_, diags := readRun(ctx, instanceSchema.Name, req.Args, get("/2/instances/", inst), &in)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	o := object(in)
	var ips []string
	if l, ok := in["nic.ips"].([]any); ok {
		for _, e := range l {
			if s, ok := e.(string); ok && s != "" {
				ips = append(ips, s)
			}
		}
	}
	ip := ""
	if len(ips) > 0 {
		ip = ips[0]
	}
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"name":            o.str("name"),
		"primary_node":    o.str("pnode"),
		"secondary_nodes": o.strings("snodes"),
		"ip":              cty.StringVal(ip),
		"ips":             stringList(ips),
		"macs":            o.strings("nic.macs"),
		"status":          o.str("status"),
		"admin_state":     o.str("admin_state"),
		"oper_state":      o.boolean("oper_state"),
		"os":              o.str("os"),
		"disk_template":   o.str("disk_template"),
		"tags":            o.strings("tags"),
		"uuid":            o.str("uuid"),
		"raw":             anyToCty(in),
	}), Diagnostics: diags}
}
