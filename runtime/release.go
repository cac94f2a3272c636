package runtime

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/rokflow/rokflow/internal/debversion"
	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/runtime/plan"
)

// The Release invariant (DESIGN §11) has this one owner: a playbook acts
// only on a cluster whose discovered release its from allows, and nodes
// already at its to are not upgraded again.
//
// A playbook says where the release facts are in its playbook block:
//
//	release {
//	  nodes   = step.members.outputs.releases   # node name -> release
//	  cluster = …                                # optional
//	}
//
// Compilation orders that block before every root item it does not need
// and refuses a block that needs anything but locals and read-only steps
// (releaseFirst), so the facts are read before anything changes. The
// planner then classifies every node (at to, in from, outside): a cluster
// with a node outside is refused with an error naming the releases found;
// a cluster wholly at to plans every changing step as skipped; and a
// module call or group element whose upgrades names a node at to is
// skipped. While the facts are unknown, the executor holds every step
// that changes anything (sched.go).

// releaseState is what one plan knows of the cluster's release.
type releaseState struct {
	from  debversion.Constraint
	to    string
	known bool
	// unknown says what the facts wait for while they are not known.
	unknown string
	nodes   map[string]string
	// done: every node (and the cluster) is at to; refused: one is
	// outside the path, as diag says.
	done, refused bool
	diag          *hcl.Diagnostic
	plan          *plan.Release
}

// atTo reports whether a release counts as upgraded: in to's release
// line and not before it.
func (r *releaseState) atTo(rel string) bool {
	return rel != "" && debversion.Series(rel) == debversion.Series(r.to) && debversion.CompareRelease(rel, r.to) >= 0
}

// checkMeta checks the playbook block against itself and this binary:
// from, to and requires_rokflow parse; from does not start after to; this
// rokflow meets requires_rokflow; a release block has from and to.
func checkMeta(meta *lang.Meta, version string) hcl.Diagnostics {
	if meta == nil {
		return nil
	}
	var diags hcl.Diagnostics
	bad := func(attr, summary, detail string) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: meta.Range(attr)})
	}
	var from debversion.Constraint
	fromOK := false
	if meta.From != "" {
		c, err := debversion.ParseConstraint(meta.From)
		if err != nil {
			bad("from", "Invalid from", "from: "+err.Error()+".")
		} else {
			from, fromOK = c, true
		}
	}
	if meta.To != "" && !debversion.ValidRelease(meta.To) {
		bad("to", "Invalid to", fmt.Sprintf("to = %q: write the release this playbook upgrades to, such as \"0.11.0\".", meta.To))
	} else if fromOK && meta.To != "" {
		if low := from.Lowest(); debversion.CompareRelease(low, meta.To) >= 0 || from.Allows(meta.To) {
			bad("from", "Upgrade path goes backwards", fmt.Sprintf("from = %q starts at or after to = %q: a playbook upgrades from older releases to a newer one.", meta.From, meta.To))
		}
	}
	if meta.RequiresRokflow != "" {
		c, err := debversion.ParseConstraint(meta.RequiresRokflow)
		own := ownRelease(version)
		switch {
		case err != nil:
			bad("requires_rokflow", "Invalid requires_rokflow", "requires_rokflow: "+err.Error()+".")
		case own != "" && !c.Allows(own):
			bad("requires_rokflow", "This rokflow is too old or too new for the playbook",
				fmt.Sprintf("The playbook requires rokflow %s; this is rokflow %s. Install a rokflow that meets it.", meta.RequiresRokflow, version))
		}
	}
	if meta.Release != nil && (meta.From == "" || meta.To == "") {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Release facts without an upgrade path",
			Detail:   "A release block checks the cluster against the playbook's from and to; set both, such as from = \"0.10\" and to = \"0.11.0\".",
			Subject:  meta.Release.DeclRange.Ptr(),
		})
	}
	return diags
}

// ownRelease is the release number of a rokflow version ("0.1.0-dev",
// "v0.2.1+3-gabc"), "" for a build without one.
func ownRelease(version string) string {
	v := debversion.TrimTagPrefix(version)
	end := strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if end >= 0 {
		v = v[:end]
	}
	v = strings.TrimRight(v, ".")
	if !debversion.ValidRelease(v) || !strings.Contains(v, ".") {
		// A bare commit hash that starts with digits is no release.
		return ""
	}
	return v
}

// evalRelease evaluates the release block in the root scope and decides
// where the cluster stands.
func (p *planner) evalRelease(s *scope, rf *lang.ReleaseFacts) {
	meta := p.pb.Meta
	from, err := debversion.ParseConstraint(meta.From)
	if err != nil || !debversion.ValidRelease(meta.To) {
		return // checkMeta reported it
	}
	r := &releaseState{from: from, to: debversion.TrimTagPrefix(meta.To)}
	p.release = r
	pr := &plan.Release{From: meta.From, To: meta.To, Status: "unknown"}
	p.plan.Release, r.plan = pr, pr

	nodes, ok := p.releaseValue(s, rf.Nodes, cty.Map(cty.String), "nodes")
	if !ok {
		r.unknown, pr.KnownAfter = "when the release facts are known", ""
		return
	}
	cluster := cty.NullVal(cty.String)
	if rf.Cluster != nil {
		cluster, ok = p.releaseValue(s, rf.Cluster, cty.String, "cluster")
		if !ok {
			return
		}
	}
	for _, v := range []cty.Value{nodes, cluster} {
		if !v.IsWhollyKnown() {
			r.unknown = marks.UnknownText(v)
			pr.KnownAfter = marks.KnownAfterOf(v)
			return
		}
	}
	r.known = true
	r.nodes = map[string]string{}
	pr.Nodes = map[string]string{}
	var outside []string
	lowest := ""
	classify := func(who, raw string) string {
		if raw == "" {
			return ""
		}
		rel, err := debversion.Release(raw)
		if err != nil {
			p.diags = append(p.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid release fact",
				Detail:   fmt.Sprintf("The release of %s is %q, which is not a release or package version.", who, raw),
				Subject:  rf.DeclRange.Ptr(),
			})
			return ""
		}
		if !r.atTo(rel) && !from.Allows(rel) {
			outside = append(outside, who+" "+rel)
			pr.Outside = append(pr.Outside, who)
		}
		if lowest == "" || debversion.CompareRelease(rel, lowest) < 0 {
			lowest = rel
		}
		return rel
	}
	if !nodes.IsNull() {
		for it := nodes.ElementIterator(); it.Next(); {
			k, v := it.Element()
			name := k.AsString()
			raw := ""
			if !v.IsNull() {
				raw = v.AsString()
			}
			rel := classify(name, raw)
			r.nodes[name], pr.Nodes[name] = rel, rel
			if !r.atTo(rel) {
				pr.Pending = append(pr.Pending, name)
			}
		}
	}
	sort.Strings(pr.Pending)
	clusterAtTo := true
	if !cluster.IsNull() {
		rel := classify("the cluster", cluster.AsString())
		lowest = rel
		clusterAtTo = r.atTo(rel)
	}
	pr.Current = lowest
	switch {
	case len(outside) > 0:
		r.refused = true
		pr.Status = "refused"
		r.diag = &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "The cluster is not on this playbook's upgrade path",
			Detail: fmt.Sprintf("This playbook upgrades from %s to %s, and refuses to change a cluster on any other release: found %s. Nothing was changed. Upgrade the cluster to a release this playbook starts from first (rokflow plan with a directory of playbooks and --to finds the chain).",
				meta.From, meta.To, strings.Join(outside, ", ")),
			Subject: rf.DeclRange.Ptr(),
		}
		p.diags = append(p.diags, r.diag)
	case len(pr.Pending) == 0 && clusterAtTo:
		r.done = true
		pr.Status = "nothing_to_do"
	default:
		pr.Status = "upgrade"
	}
}

// releaseValue evaluates one attribute of the release block; false when
// it cannot be used (reported, or unknown in a way that says nothing).
func (p *planner) releaseValue(s *scope, expr hcl.Expression, ty cty.Type, what string) (cty.Value, bool) {
	v, ds := p.eval(s, expr)
	p.diags = append(p.diags, ds...)
	if ds.HasErrors() {
		return cty.NilVal, false
	}
	if hasSensitive(v.v) {
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Sensitive release fact",
			Detail:   "The release block decides what runs, so it cannot depend on a sensitive value.",
			Subject:  expr.Range().Ptr(),
		})
		return cty.NilVal, false
	}
	raw, vm := v.v.Unmark()
	conv, err := convert.Convert(raw, ty)
	if err != nil {
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid release fact",
			Detail:   fmt.Sprintf("The release block's %s must be %s: %s.", what, typeName(ty), err),
			Subject:  expr.Range().Ptr(),
		})
		return cty.NilVal, false
	}
	return conv.WithMarks(vm), true
}

// upgradesCond adds to c what an upgrades argument says: the block is
// skipped when its node is already at to, and runs only if it is not
// while the release facts are not known.
func (p *planner) upgradesCond(s *scope, expr hcl.Expression, c cond) cond {
	if expr == nil || c.skip || p.release == nil {
		return c
	}
	v, ds := p.eval(s, expr)
	p.diags = append(p.diags, ds...)
	if ds.HasErrors() {
		return c
	}
	switch {
	case !p.release.known:
		if c.unknown == "" {
			c.unknown = p.release.unknown
		}
		return c
	case !v.v.IsKnown():
		if c.unknown == "" {
			c.unknown = marks.UnknownText(v.v)
		}
		return c
	}
	raw, _ := v.v.Unmark()
	name, err := convert.Convert(raw, cty.String)
	if err != nil || name.IsNull() {
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid upgrades",
			Detail:   "upgrades names the node a module call or group element upgrades, as a string.",
			Subject:  expr.Range().Ptr(),
		})
		return c
	}
	rel, ok := p.release.nodes[name.AsString()]
	if !ok {
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown node in upgrades",
			Detail: fmt.Sprintf("upgrades names %q, which the playbook's release facts do not list (they list %s).",
				name.AsString(), strings.Join(sortedKeys(p.release.nodes), ", ")),
			Subject: expr.Range().Ptr(),
		})
		return c
	}
	if p.release.atTo(rel) {
		c.skip = true
		c.reason = fmt.Sprintf("%s already runs %s (this playbook upgrades to %s)", name.AsString(), rel, p.release.to)
	}
	return c
}

// doneSkip says why a step that changes the cluster is skipped because
// the cluster is wholly at to, or "".
func (p *planner) doneSkip(readOnly bool) string {
	if p.release == nil || !p.release.done || readOnly {
		return ""
	}
	return "the cluster already runs " + p.release.to + ": nothing to do"
}
