package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/internal/debversion"
	"github.com/rokflow/rokflow/lang"
)

// A catalogue is a directory of playbook directories, each a release's
// upgrade from its from to its to: together, the upgrade paths a team
// ships. Chain finds the playbooks that take a cluster from the release
// it runs to a target, one hop after another, the way kubeadm's upgrade
// plan does: every hop's from must allow the release the hop before
// reaches.

// IsCatalogue reports whether dir holds no playbook files of its own but
// playbook directories: a catalogue rather than a playbook.
func IsCatalogue(dir string) bool {
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return false
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	sub := false
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") {
			continue
		}
		if !e.IsDir() && (strings.HasSuffix(n, ".hcl") || strings.HasSuffix(n, ".hcl.json")) && !strings.HasSuffix(n, ".vars.hcl") {
			return false
		}
		if e.IsDir() {
			sub = true
		} else if info, err := os.Stat(filepath.Join(dir, n)); err == nil && info.IsDir() {
			sub = true // a link to a playbook kept elsewhere
		}
	}
	return sub
}

// LoadCatalogue loads the playbooks of a catalogue: the directories right
// inside dir whose playbook block says from and to. Directories of
// modules (no playbook block) and those without .hcl files are passed
// over; a playbook that does not load is an error. The playbooks are
// sorted by to.
func LoadCatalogue(dir string) ([]*lang.Playbook, map[string]*hcl.File, hcl.Diagnostics) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the catalogue", Detail: err.Error()}}
	}
	files := map[string]*hcl.File{}
	var out []*lang.Playbook
	var diags hcl.Diagnostics
	for _, e := range entries {
		if !e.IsDir() && e.Type()&os.ModeSymlink == 0 || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		if info, err := os.Stat(sub); err != nil || !info.IsDir() || !hasHCL(sub) {
			continue
		}
		// A catalogue may link to playbooks kept elsewhere: their module
		// sources are relative to where they really are.
		if real, err := filepath.EvalSymlinks(sub); err == nil {
			sub = real
		}
		pb, ds := lang.Load(sub)
		if pb.Meta == nil && !ds.HasErrors() {
			continue // a module, not a playbook
		}
		for n, f := range pb.Files {
			files[n] = f
		}
		diags = append(diags, ds...)
		if ds.HasErrors() || pb.Meta == nil || pb.Meta.From == "" || pb.Meta.To == "" {
			continue
		}
		out = append(out, pb)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return debversion.CompareRelease(out[i].Meta.To, out[j].Meta.To) < 0
	})
	if len(out) == 0 && !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Empty catalogue",
			Detail: fmt.Sprintf("%s holds no playbook directory whose playbook block says from and to.", dir)})
	}
	return out, files, diags
}

// hasHCL reports whether a directory has files of HCL code.
func hasHCL(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".hcl") || strings.HasSuffix(n, ".hcl.json")) && !strings.HasSuffix(n, ".vars.hcl") {
			return true
		}
	}
	return false
}

// Chain returns the playbooks that take a cluster at release current to
// target, in order: each hop starts where the one before ends. Of several
// playbooks that start at a release, the one reaching furthest without
// passing target is taken (fewest hops). An empty chain means the
// cluster is already at target. A gap is an error naming the releases
// the catalogue knows.
func Chain(catalogue []*lang.Playbook, current, target string) ([]*lang.Playbook, error) {
	if !debversion.ValidRelease(target) {
		return nil, fmt.Errorf("--to %q: give a release such as 0.12.0", target)
	}
	var chain []*lang.Playbook
	at := current
	for debversion.CompareRelease(at, target) < 0 {
		var best *lang.Playbook
		for _, pb := range catalogue {
			from, err := debversion.ParseConstraint(pb.Meta.From)
			if err != nil || !from.Allows(at) || debversion.CompareRelease(pb.Meta.To, target) > 0 || debversion.CompareRelease(pb.Meta.To, at) <= 0 {
				continue
			}
			if best == nil || debversion.CompareRelease(pb.Meta.To, best.Meta.To) > 0 {
				best = pb
			}
		}
		if best == nil {
			how := "the cluster runs " + current
			if len(chain) > 0 {
				how = fmt.Sprintf("the chain reaches %s", at)
			}
			return chain, fmt.Errorf("no playbook upgrades from %s towards %s (%s); the catalogue knows: %s", at, target, how, KnownPaths(catalogue))
		}
		chain = append(chain, best)
		at = debversion.TrimTagPrefix(best.Meta.To)
	}
	if len(chain) > 0 && debversion.CompareRelease(at, target) != 0 {
		return nil, fmt.Errorf("no chain of playbooks ends at %s; the catalogue knows: %s", target, KnownPaths(catalogue))
	}
	return chain, nil
}

// KnownPaths lists a catalogue's hops for people: "rok-v0.11 (0.10 →
// 0.11.0), rok-v0.12 (0.11 → 0.12.0)".
func KnownPaths(catalogue []*lang.Playbook) string {
	var parts []string
	for _, pb := range catalogue {
		parts = append(parts, fmt.Sprintf("%s (%s → %s)", pb.Meta.Name, pb.Meta.From, pb.Meta.To))
	}
	if len(parts) == 0 {
		return "no playbooks"
	}
	return strings.Join(parts, ", ")
}
