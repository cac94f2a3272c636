package rok

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/internal/debversion"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// MemberList is the kind rok.member_list: it runs `rok-cluster-ctl
// member-list` on a node and parses the cluster's members, finding the
// master by its role.
type MemberList struct{}

var _ steps.Kind = MemberList{}

// memberType is the object type of one member in the kind's outputs.
var memberType = cty.Object(map[string]cty.Type{
	"name":           cty.String,
	"address":        cty.String,
	"role":           cty.String,
	"master_capable": cty.Bool,
	"state":          cty.String,
	"version":        cty.String,
})

var memberListSchema = &steps.Schema{
	Name:    "rok.member_list",
	Summary: "List the Rok cluster's members and find the master (rok-cluster-ctl member-list).",
	Description: "Runs `rok-cluster-ctl member-list` on the target node (with `--output json` " +
		"unless format = \"table\") and parses the members: name (<hostname>.<cluster>), address, " +
		"role, master capability, state and version. The master is the one member whose ROLE is " +
		"\"master\", whatever its row; the step fails if no member or more than one member claims " +
		"that role, since every later step of an upgrade depends on knowing it. The table form " +
		"tolerates extra and reordered columns (only NAME and ROLE are required). The step is " +
		"read-only, so `plan --discover` runs it to make the master and the slave set concrete.",
	Effect: steps.ReadOnly,
	Target: steps.TargetHost,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"format": {
			Type:        cty.String,
			Default:     cty.StringVal("json"),
			Description: "Output form to request and parse: \"json\" (runs with `--output json`) or \"table\" (the default human table).",
		},
		"command": {
			Type: cty.List(cty.String),
			Description: "The whole argv to run instead of `rok-cluster-ctl member-list [--output json]`, for wrappers " +
				"or non-standard paths; its output must be in the form named by format.",
		},
		"sudo": {
			Type:        cty.Bool,
			Default:     cty.False,
			Description: "Run the command as root through `sudo -n`.",
		},
	}},
	Outputs: map[string]*schema.Attribute{
		"cluster": {Type: cty.String, Description: "The cluster name (ROK_CLUSTERNAME); from the JSON, or the part of the master's name after its first dot."},
		"master":  {Type: cty.String, Description: "The master's member name, <hostname>.<cluster>."},
		"master_address": {
			Type: cty.String, Description: "The master's address as listed."},
		"members": {Type: cty.List(memberType), Description: "Every member, in the order listed."},
		"slaves":  {Type: cty.List(cty.String), Description: "The names of every member other than the master, sorted."},
		"slaves_by_name": {
			Type:        cty.Map(memberType),
			Description: "The members other than the master keyed by name, for for_each over the slaves.",
		},
		"versions": {Type: cty.Map(cty.String), Description: "Each member's version, keyed by member name."},
		"releases": {
			Type: cty.Map(cty.String),
			Description: "The release each member is upgraded to, keyed by member name: the release number of its version " +
				"(\"0.11.0\" for 0.11.0-1, \"0.11\" for 0.11~rc1-…), or \"\" for a member whose state is needs-upgrade " +
				"(it boots a newer release whose upgrade-node has not run) or whose version is not a release. " +
				"For a playbook's release block: release { nodes = step.members.outputs.releases }.",
		},
	},
}

// Schema implements steps.Kind.
func (MemberList) Schema() *steps.Schema { return memberListSchema }

// memberListArgv returns the argv to run and its display form.
func memberListArgv(args cty.Value) (argv, shown []string, diags hcl.Diagnostics) {
	fv := steps.Attr(args, "format")
	format, fok := "json", true
	if !fv.IsNull() {
		format, fok = steps.Str(fv)
	}
	if fok && format != "json" && format != "table" {
		diags = append(diags, steps.Errorf("Invalid member-list format",
			"The format argument must be \"json\" or \"table\", not %q.", format))
	}
	cmd := steps.Attr(args, "command")
	if !cmd.IsNull() {
		shown = steps.DisplayArgv(cmd)
		if l, ok := steps.StrList(cmd); ok {
			if len(l) == 0 {
				diags = append(diags, steps.Errorf("Empty command", "The command argument, when set, must hold at least the program to run."))
			}
			argv = l
		}
		return argv, shown, diags
	}
	argv = []string{"rok-cluster-ctl", "member-list"}
	switch {
	case !fok:
		shown = append(append([]string{}, argv...), "(format "+steps.Display(fv)+")")
		return argv, shown, diags
	case format == "json":
		argv = append(argv, "--output", "json")
	}
	return argv, argv, diags
}

// Plan implements steps.Kind.
func (MemberList) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	_, shown, diags := memberListArgv(req.Args)
	return steps.PlanResponse{
		Summary:     "list Rok cluster members and find the master",
		Command:     shown,
		Diagnostics: diags,
	}
}

// Run implements steps.Kind.
func (MemberList) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	argv, shown, diags := memberListArgv(req.Args)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	sudo, _ := steps.Bool(steps.Attr(req.Args, "sudo"), false)
	res, rdiags := invocation{kind: memberListSchema.Name, argv: argv, shown: shown, sudo: sudo}.run(ctx, req)
	if rdiags.HasErrors() {
		return steps.RunResponse{Diagnostics: append(diags, rdiags...)}
	}
	format, _ := steps.Str(steps.Attr(req.Args, "format"))
	var ml *Members
	var err error
	if format == "table" {
		ml, err = ParseMemberTable(string(res.Stdout))
	} else {
		ml, err = ParseMemberJSON(res.Stdout)
	}
	if err != nil {
		return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Cannot read the member list",
			"The output of %q: %s.", strings.Join(shown, " "), err))}
	}
	return steps.RunResponse{Outputs: ml.Value(), Diagnostics: diags}
}

// Member is one member of a Rok cluster as member-list reports it.
type Member struct {
	Name          string
	Address       string
	Role          string
	MasterCapable bool
	State         string
	Version       string
}

// Members is a parsed member list with its master found.
type Members struct {
	Cluster string
	Master  *Member
	Members []Member
}

// ParseMemberTable parses the table form of `rok-cluster-ctl member-list`: a
// header line naming the columns (NAME and ROLE required; ADDRESS,
// MASTER-CAPABLE, STATE and VERSION read when present; others ignored) and
// one whitespace-separated row per member.
func ParseMemberTable(text string) (*Members, error) {
	var cols map[string]int
	var ncols int
	ml := &Members{}
	for i, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if cols == nil {
			cols = make(map[string]int, len(fields))
			for j, f := range fields {
				cols[normColumn(f)] = j
			}
			ncols = len(fields)
			for _, need := range []string{"NAME", "ROLE"} {
				if _, ok := cols[need]; !ok {
					return nil, fmt.Errorf("the header line %q has no %s column", strings.TrimSpace(line), need)
				}
			}
			continue
		}
		if len(fields) != ncols {
			return nil, fmt.Errorf("line %d has %d fields where the header has %d columns: %q", i+1, len(fields), ncols, strings.TrimSpace(line))
		}
		get := func(col string) string {
			if j, ok := cols[col]; ok {
				return fields[j]
			}
			return ""
		}
		capable, err := parseYesNo(get("MASTER-CAPABLE"))
		if err != nil {
			return nil, fmt.Errorf("line %d: MASTER-CAPABLE: %v", i+1, err)
		}
		ml.Members = append(ml.Members, Member{
			Name: get("NAME"), Address: get("ADDRESS"), Role: get("ROLE"),
			MasterCapable: capable, State: get("STATE"), Version: get("VERSION"),
		})
	}
	if cols == nil {
		return nil, fmt.Errorf("it is empty; expected a header line and one line per member")
	}
	return ml, ml.finish("")
}

// normColumn maps header spellings to one name: "master_capable" and
// "Master-Capable" are both MASTER-CAPABLE.
func normColumn(s string) string {
	return strings.ReplaceAll(strings.ToUpper(s), "_", "-")
}

func parseYesNo(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "y", "true", "1":
		return true, nil
	case "no", "n", "false", "0", "", "-":
		return false, nil
	}
	return false, fmt.Errorf("%q is neither yes nor no", s)
}

// yesNo accepts a JSON bool or a yes/no string.
type yesNo bool

func (b *yesNo) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case bool:
		*b = yesNo(v)
		return nil
	case string:
		x, err := parseYesNo(v)
		*b = yesNo(x)
		return err
	case nil:
		*b = false
		return nil
	}
	return fmt.Errorf("master_capable is %s, not a bool", data)
}

// ParseMemberJSON parses `rok-cluster-ctl member-list --output json`:
// {"cluster": ..., "master": ..., "members": [{name, address, role,
// master_capable, state, version}]}.
func ParseMemberJSON(data []byte) (*Members, error) {
	var doc struct {
		Cluster string `json:"cluster"`
		Master  string `json:"master"`
		Members []struct {
			Name          string `json:"name"`
			Address       string `json:"address"`
			Role          string `json:"role"`
			MasterCapable yesNo  `json:"master_capable"`
			State         string `json:"state"`
			Version       string `json:"version"`
		} `json:"members"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("it is not the expected JSON document: %v", err)
	}
	ml := &Members{Cluster: doc.Cluster}
	for i, m := range doc.Members {
		if m.Name == "" {
			return nil, fmt.Errorf("member %d has no name", i)
		}
		ml.Members = append(ml.Members, Member{
			Name: m.Name, Address: m.Address, Role: m.Role,
			MasterCapable: bool(m.MasterCapable), State: m.State, Version: m.Version,
		})
	}
	return ml, ml.finish(doc.Master)
}

// finish finds the master by role and checks it against the master the
// output names, if any, and fills in the cluster name.
func (ml *Members) finish(named string) error {
	if len(ml.Members) == 0 {
		return fmt.Errorf("it lists no members")
	}
	seen := make(map[string]bool, len(ml.Members))
	var masters []string
	for i := range ml.Members {
		m := &ml.Members[i]
		if seen[m.Name] {
			return fmt.Errorf("member %s is listed twice", m.Name)
		}
		seen[m.Name] = true
		if strings.EqualFold(m.Role, "master") {
			masters = append(masters, m.Name)
			if ml.Master == nil {
				ml.Master = m
			}
		}
	}
	switch len(masters) {
	case 0:
		return fmt.Errorf("no member has the role master, so the cluster has no master now (is the master powered off, or the candidates pinned to a node that is down?)")
	case 1:
	default:
		return fmt.Errorf("%d members claim the role master (%s); refusing to guess which one is the master", len(masters), strings.Join(masters, ", "))
	}
	if named != "" && named != ml.Master.Name {
		return fmt.Errorf("it names %s as the master, but the member with the role master is %s", named, ml.Master.Name)
	}
	if ml.Cluster == "" {
		if _, cluster, ok := strings.Cut(ml.Master.Name, "."); ok {
			ml.Cluster = cluster
		}
	}
	return nil
}

// Value returns the kind's outputs for ml.
func (ml *Members) Value() cty.Value {
	members := make([]cty.Value, 0, len(ml.Members))
	slavesByName := map[string]cty.Value{}
	versions := map[string]cty.Value{}
	releases := map[string]cty.Value{}
	var slaves []string
	for _, m := range ml.Members {
		mv := cty.ObjectVal(map[string]cty.Value{
			"name":           cty.StringVal(m.Name),
			"address":        cty.StringVal(m.Address),
			"role":           cty.StringVal(m.Role),
			"master_capable": cty.BoolVal(m.MasterCapable),
			"state":          cty.StringVal(m.State),
			"version":        cty.StringVal(m.Version),
		})
		members = append(members, mv)
		versions[m.Name] = cty.StringVal(m.Version)
		releases[m.Name] = cty.StringVal(memberRelease(m.State, m.Version))
		if m.Name != ml.Master.Name {
			slaves = append(slaves, m.Name)
			slavesByName[m.Name] = mv
		}
	}
	sort.Strings(slaves)
	return cty.ObjectVal(map[string]cty.Value{
		"cluster":        cty.StringVal(ml.Cluster),
		"master":         cty.StringVal(ml.Master.Name),
		"master_address": cty.StringVal(ml.Master.Address),
		"members":        listOf(memberType, members),
		"slaves":         stringList(slaves),
		"slaves_by_name": mapOf(memberType, slavesByName),
		"versions":       mapOf(cty.String, versions),
		"releases":       mapOf(cty.String, releases),
	})
}

// memberRelease is the release a member is upgraded to: its version's,
// unless the member still needs upgrade-node for the release it boots.
func memberRelease(state, version string) string {
	if state == "needs-upgrade" {
		return ""
	}
	rel, err := debversion.Release(version)
	if err != nil {
		return ""
	}
	return rel
}

func listOf(ty cty.Type, vs []cty.Value) cty.Value {
	if len(vs) == 0 {
		return cty.ListValEmpty(ty)
	}
	return cty.ListVal(vs)
}

func mapOf(ty cty.Type, m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.MapValEmpty(ty)
	}
	return cty.MapVal(m)
}

func stringList(ss []string) cty.Value {
	vs := make([]cty.Value, len(ss))
	for i, s := range ss {
		vs[i] = cty.StringVal(s)
	}
	return listOf(cty.String, vs)
}

func stringMap(m map[string]string) cty.Value {
	vs := make(map[string]cty.Value, len(m))
	for k, s := range m {
		vs[k] = cty.StringVal(s)
	}
	return mapOf(cty.String, vs)
}

var _ steps.Identifier = MemberList{}

// Identity implements steps.Identifier: a cluster is its name and the
// names of its members. Roles, versions and states change during an
// upgrade; who is in the cluster does not.
func (MemberList) Identity(out cty.Value) (string, bool) {
	out, _ = out.UnmarkDeep()
	if out.IsNull() || !out.IsWhollyKnown() || !out.Type().IsObjectType() || !out.Type().HasAttribute("cluster") || !out.Type().HasAttribute("members") {
		return "", false
	}
	var names []string
	for it := out.GetAttr("members").ElementIterator(); it.Next(); {
		_, m := it.Element()
		if m.Type().IsObjectType() && m.Type().HasAttribute("name") && m.GetAttr("name").Type() == cty.String {
			names = append(names, m.GetAttr("name").AsString())
		}
	}
	sort.Strings(names)
	return fmt.Sprintf("cluster %q, members %s", out.GetAttr("cluster").AsString(), strings.Join(names, ", ")), true
}
