package playtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/internal/debversion"
	"github.com/rokflow/rokflow/sim"
)

// Simulator is a case's simulator block: the cluster it runs against.
type Simulator struct {
	Platform string
	// Nodes (appliances) or Hosts (Ganeti hosts, each with a RokE
	// appliance and Guests guests); 0 takes the simulator's default.
	Nodes, Hosts, Guests int
	Cluster              string
	Candidates           []string
	// Release is the release every node runs at first ("0.10.2", or a
	// rok-base version "0.10.2-1"); UpgradeTo the releases the cluster
	// can be upgraded to.
	Release   string
	UpgradeTo []string
	// AutoOperator: a simulated field operator swaps BOOT disks when a
	// gate polls for them (default true).
	AutoOperator            bool
	OperatorDelay, JobDelay time.Duration
	Faults                  sim.Faults
	DeclRange               hcl.Range
}

var simulatorSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "platform"}, {Name: "nodes"}, {Name: "hosts"}, {Name: "guests"}, {Name: "cluster"},
		{Name: "master_candidates"}, {Name: "release"}, {Name: "upgrade_to"},
		{Name: "auto_operator"}, {Name: "operator_delay"}, {Name: "job_delay"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "faults"}},
}

var faultsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "fail_upgrade_node"}, {Name: "no_power_on"}, {Name: "slow"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "fail_job"}},
}

var failJobSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "op", Required: true}, {Name: "target"}, {Name: "times"}},
}

// Quick defaults: the simulated operator and Ganeti take little time, so a
// case runs in seconds.
const (
	defaultOperatorDelay = 50 * time.Millisecond
	defaultJobDelay      = 20 * time.Millisecond
)

var platforms = []string{sim.PlatformAppliance, sim.PlatformGaneti}

func decodeSimulator(b *hcl.Block, ctx *hcl.EvalContext, s *Simulator) hcl.Diagnostics {
	*s = Simulator{Platform: sim.PlatformAppliance, AutoOperator: true, OperatorDelay: defaultOperatorDelay,
		JobDelay: defaultJobDelay, DeclRange: b.DefRange}
	content, diags := b.Body.Content(simulatorSchema)
	a := attrs{content.Attributes, ctx}
	diags = append(diags, a.str("platform", &s.Platform)...)
	if at := content.Attributes["platform"]; at != nil && !contains(platforms, s.Platform) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Unknown platform",
			Detail:  fmt.Sprintf("The simulator runs Rok on %q or %q, not %q.%s", sim.PlatformAppliance, sim.PlatformGaneti, s.Platform, didYouMean(s.Platform, platforms)),
			Subject: at.Expr.Range().Ptr(),
		})
	}
	diags = append(diags, a.integer("nodes", &s.Nodes)...)
	diags = append(diags, a.integer("hosts", &s.Hosts)...)
	diags = append(diags, a.integer("guests", &s.Guests)...)
	diags = append(diags, a.str("cluster", &s.Cluster)...)
	diags = append(diags, a.strs("master_candidates", &s.Candidates)...)
	diags = append(diags, a.str("release", &s.Release)...)
	diags = append(diags, a.strs("upgrade_to", &s.UpgradeTo)...)
	diags = append(diags, a.boolean("auto_operator", &s.AutoOperator)...)
	diags = append(diags, a.duration("operator_delay", &s.OperatorDelay)...)
	diags = append(diags, a.duration("job_delay", &s.JobDelay)...)
	for _, name := range []string{"release", "upgrade_to"} {
		at := content.Attributes[name]
		if at == nil {
			continue
		}
		vs := s.UpgradeTo
		if name == "release" {
			vs = []string{s.Release}
		}
		for _, v := range vs {
			if _, err := debversion.Parse(v); err != nil || v == "" {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError, Summary: "Invalid release",
					Detail:  fmt.Sprintf("%q is not a release such as \"0.10.2\" (or a rok-base version such as \"0.10.2-1\").", v),
					Subject: at.Expr.Range().Ptr(),
				})
			}
		}
	}
	faults := 0
	for _, fb := range content.Blocks {
		if faults++; faults > 1 {
			diags = append(diags, duplicateBlock(fb))
			continue
		}
		diags = append(diags, decodeFaults(fb, ctx, &s.Faults)...)
	}
	return diags
}

func decodeFaults(b *hcl.Block, ctx *hcl.EvalContext, f *sim.Faults) hcl.Diagnostics {
	content, diags := b.Body.Content(faultsSchema)
	a := attrs{content.Attributes, ctx}
	diags = append(diags, a.strs("fail_upgrade_node", &f.FailUpgradeNode)...)
	diags = append(diags, a.strs("no_power_on", &f.NoPowerOn)...)
	var slow map[string]string
	diags = append(diags, a.strMap("slow", &slow)...)
	for node, s := range slow {
		d, err := time.ParseDuration(s)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Invalid duration",
				Detail:  fmt.Sprintf("slow maps a node or host to the latency it adds, such as \"200ms\"; %q for %s is not a duration.", s, node),
				Subject: content.Attributes["slow"].Expr.Range().Ptr(),
			})
			continue
		}
		if f.Slow == nil {
			f.Slow = map[string]sim.Duration{}
		}
		f.Slow[node] = sim.Duration(d)
	}
	for _, jb := range content.Blocks {
		jc, ds := jb.Body.Content(failJobSchema)
		diags = append(diags, ds...)
		ja := attrs{jc.Attributes, ctx}
		var j sim.JobFault
		diags = append(diags, ja.str("op", &j.Op)...)
		diags = append(diags, ja.str("target", &j.Target)...)
		diags = append(diags, ja.integer("times", &j.Times)...)
		f.FailJobs = append(f.FailJobs, j)
	}
	return diags
}

// Spec is the sim.Spec of the simulator block. This is the one place that
// knows how a case's releases map onto the simulator's versions.
func (s Simulator) Spec() (sim.Spec, error) {
	spec := sim.Spec{
		Platform: s.Platform, Nodes: s.Nodes, Hosts: s.Hosts, Guests: s.Guests, Cluster: s.Cluster,
		Candidates: s.Candidates, AutoOperator: s.AutoOperator, OperatorDelay: sim.Duration(s.OperatorDelay),
		JobDelay: sim.Duration(s.JobDelay), Faults: s.Faults,
		// A RAPI long poll answers within 2s, so a killed apply's wait does
		// not hold a job's end back for long.
		WaitTimeout: sim.Duration(2 * time.Second),
	}
	if s.Release != "" {
		spec.FromVersion = debianVersion(s.Release)
	}
	for _, r := range s.UpgradeTo {
		spec.Upgrades = append(spec.Upgrades, upstreamVersion(r))
	}
	if err := spec.Check(); err != nil {
		return spec, err
	}
	return spec, nil
}

// debianVersion is the rok-base package version of a release: 0.10.2 is
// packaged as 0.10.2-1; a version with a Debian revision is kept.
func debianVersion(release string) string {
	if strings.Contains(release, "-") {
		return release
	}
	return release + "-1"
}

// upstreamVersion is the release of a rok-base version: 0.11.0-1 is 0.11.0.
func upstreamVersion(v string) string {
	if p, err := debversion.Parse(v); err == nil {
		return p.Upstream
	}
	return v
}
