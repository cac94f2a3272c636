package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/cmd/rokflow/views"
	"github.com/rokflow/rokflow/internal/jsondoc"
	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/plan"
)

// chain is a catalogue's upgrade path for one cluster: the playbooks that
// take it from the release it runs to the target, with their inputs.
type chain struct {
	dir     string
	current string
	target  string
	hops    []*loaded
	// first is the first hop's plan, made with discovery while finding
	// where the cluster stands.
	first *plan.Plan
}

// loadChain loads a catalogue, binds the inputs to each playbook (each
// takes the variables it declares; a variable no playbook declares is an
// error, unless the environment gives it), reads the cluster's release
// through the first playbook whose release facts can be read, and finds
// the chain to target.
func (a *App) loadChain(dir string, in InputFlags, target string) (*chain, error) {
	pbs, files, diags := runtime.LoadCatalogue(dir)
	if diags.HasErrors() {
		return nil, a.report(files, diags)
	}
	raw, ds := a.rawInputs(in, files)
	diags = append(diags, ds...)
	declared := map[string]bool{}
	for _, pb := range pbs {
		for name := range pb.Root.Variables {
			declared[name] = true
		}
	}
	var names []string
	for name := range raw.Values {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		// The environment may hold other playbooks' variables: each hop
		// takes what it declares of it, and the rest is ignored.
		if !declared[name] && !raw.Values[name].Env {
			var subj *hcl.Range
			if r, ok := raw.Ranges[name]; ok {
				subj = r.Ptr()
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("No playbook of the catalogue declares a variable named %q (set by %s).", name, raw.Values[name].Source),
				Subject:  subj,
			})
		}
	}
	if err := a.report(files, diags); err != nil {
		return nil, err
	}
	ch := &chain{dir: dir, target: target}
	all := make(map[*lang.Playbook]*loaded, len(pbs))
	for _, pb := range pbs {
		own := lang.NewInputSet()
		for name, v := range raw.Values {
			if _, ok := pb.Root.Variables[name]; ok {
				own.Values[name] = v
				if r, ok := raw.Ranges[name]; ok {
					own.Ranges[name] = r
				}
			}
		}
		vals, ds := lang.BindInputs(pb.Root, own, false)
		if err := a.report(files, ds); err != nil {
			return nil, err
		}
		all[pb] = &loaded{pb: pb, inputs: vals, raw: own, files: files}
	}
	// Where the cluster stands: the first playbook whose release facts
	// can be read says (they are read-only steps).
	var firstDiags hcl.Diagnostics
	var plans = map[*lang.Playbook]*plan.Plan{}
	found := false
	for _, pb := range pbs {
		l := all[pb]
		pl, ds := runtime.Plan(a.Ctx, pb, a.Registry, runtime.Options{Inputs: l.inputs, Discover: true, Hosts: a.hosts(), Version: Version})
		if pl != nil && pl.Release != nil && pl.Release.Status != "unknown" {
			ch.current = pl.Release.Current
			plans[pb] = pl
			found = true
			break
		}
		if firstDiags == nil {
			firstDiags = ds
		}
	}
	if !found {
		_ = a.report(files, firstDiags)
		return nil, &exitError{code: exitFailed, msg: "cannot tell which release the cluster runs: no playbook of the catalogue could read its release facts (see above)"}
	}
	hops, err := runtime.Chain(pbs, ch.current, target)
	if err != nil {
		return nil, &exitError{code: exitFailed, msg: err.Error()}
	}
	for i, pb := range hops {
		ch.hops = append(ch.hops, all[pb])
		if i == 0 {
			ch.first = plans[pb]
		}
	}
	return ch, nil
}

// pathText is the chain for people: "0.10.2 → 0.11.0 → 0.12.0".
func (ch *chain) pathText() string {
	parts := []string{ch.current}
	for _, h := range ch.hops {
		parts = append(parts, h.pb.Meta.To)
	}
	return strings.Join(parts, " → ")
}

// hopPath is how a hop's playbook is named to the operator.
func (ch *chain) hopPath(h *loaded) string {
	return filepath.Join(ch.dir, filepath.Base(h.pb.Dir))
}

// planChain plans every hop: the first against the cluster as it is
// (with discovery, already made), the later ones as far as they can be
// known before the hops before them ran.
func (a *App) planChain(ch *chain, discover bool) ([]*plan.Plan, error) {
	var plans []*plan.Plan
	for i, h := range ch.hops {
		var p *plan.Plan
		if i == 0 && discover && ch.first != nil {
			p = ch.first
			if err := a.report(h.files, nil); err != nil {
				return nil, err
			}
		} else {
			var err error
			if p, err = a.plan(h, runtime.Options{Discover: discover && i == 0, Hosts: a.hosts()}); err != nil {
				return nil, err
			}
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// chainText shows a chain's plans.
func chainText(w io.Writer, ch *chain, plans []*plan.Plan, color bool) {
	if len(ch.hops) == 0 {
		fmt.Fprintf(w, "The cluster runs %s, already at %s: nothing to do.\n", ch.current, ch.target)
		return
	}
	fmt.Fprintf(w, "Upgrade path: %s (%d %s)\n", ch.pathText(), len(ch.hops), plural(len(ch.hops), "hop", "hops"))
	for i, p := range plans {
		fmt.Fprintf(w, "\n== Hop %d/%d: %s (%s → %s) ==\n", i+1, len(plans), ch.hopPath(ch.hops[i]), p.Playbook.From, p.Playbook.To)
		if i > 0 {
			fmt.Fprintf(w, "   planned before the hops before it ran: what it does per node is known once they did\n")
		}
		fmt.Fprintln(w)
		views.PlanText(w, p, color)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// chainJSON is the JSON form of a chain's plans (docs/plan-json.md).
type chainJSON struct {
	jsondoc.Header
	Current string            `json:"current"`
	To      string            `json:"to"`
	Hops    []chainHopJSON    `json:"hops"`
	Plans   []json.RawMessage `json:"plans"`
}

type chainHopJSON struct {
	Playbook string `json:"playbook"`
	Path     string `json:"path"`
	From     string `json:"from"`
	To       string `json:"to"`
}

func writeChainJSON(w io.Writer, ch *chain, plans []*plan.Plan) error {
	doc := chainJSON{Header: jsondoc.Plan.Header(), Current: ch.current, To: ch.target, Hops: []chainHopJSON{}, Plans: []json.RawMessage{}}
	for i, h := range ch.hops {
		doc.Hops = append(doc.Hops, chainHopJSON{Playbook: h.pb.Meta.Name, Path: ch.hopPath(h), From: h.pb.Meta.From, To: h.pb.Meta.To})
		var b strings.Builder
		if err := views.PlanJSON(&b, plans[i]); err != nil {
			return err
		}
		doc.Plans = append(doc.Plans, json.RawMessage(b.String()))
	}
	return jsondoc.Plan.Write(w, doc)
}

// chainMode tells a catalogue with --to from a playbook path; a catalogue
// without --to, or --to with one playbook, is a usage error.
func chainMode(path, to string) (bool, error) {
	cat := runtime.IsCatalogue(path)
	switch {
	case cat && to == "":
		return false, usageError("%s is a directory of playbooks: say which release to upgrade to with --to RELEASE", path)
	case !cat && to != "":
		return false, usageError("--to takes a directory of playbooks (a catalogue such as playbooks/), and %s is one playbook", path)
	}
	return cat, nil
}

// applyChain applies a catalogue's chain hop after hop, under one lock
// on one journal (the catalogue's): each hop is a run, a hop starts only
// when the one before succeeded, and running apply again resumes where
// the cluster and the journal say.
func (c *ApplyCmd) applyChain(a *App) error {
	if c.Path != "" && len(c.Approve) > 0 {
		return usageError("--approve names gates of one playbook; approve a chain's gates with rokflow approve on the hop's playbook")
	}
	ch, err := a.loadChain(c.Path, c.InputFlags, c.To)
	if err != nil {
		return err
	}
	if len(ch.hops) == 0 {
		fmt.Fprintf(c.say(a), "The cluster runs %s, already at %s: nothing to do.\n", ch.current, ch.target)
		return nil
	}
	backend, err := a.backend(a.Ctx, c.StateFlags, ch.dir)
	if err != nil {
		return err
	}
	defer backend.Close()
	h := holder("apply " + filepath.Base(ch.dir) + " --to " + ch.target)
	sess, err := c.lock(a, backend, h, c.Path)
	if err != nil {
		return err
	}
	defer sess.Unlock(context.WithoutCancel(a.Ctx))
	if c.StateFlags.State == "" {
		// Hints name the chain's journal, not the hop's own default.
		c.StateFlags.State = "file://" + filepath.Join(ch.dir, ".rokflow")
	}
	if !c.JSON {
		fmt.Fprintf(a.Stdout, "Upgrade path: %s (%d %s)\n", ch.pathText(), len(ch.hops), plural(len(ch.hops), "hop", "hops"))
	}
	for i, hop := range ch.hops {
		if !c.JSON {
			fmt.Fprintf(a.Stdout, "\n== Hop %d/%d: %s (%s → %s) ==\n\n", i+1, len(ch.hops), ch.hopPath(hop), hop.pb.Meta.From, hop.pb.Meta.To)
		}
		if err := c.applyLoaded(a, hop, ch.hopPath(hop), runtime.Hash(hop.pb, hop.inputs), nil, nil, backend, sess, h); err != nil {
			if !c.JSON && i+1 < len(ch.hops) {
				fmt.Fprintf(a.Stdout, "\nHop %d/%d did not finish; the hops after it wait. Run the same apply again to go on.\n", i+1, len(ch.hops))
			}
			return err
		}
	}
	if !c.JSON {
		fmt.Fprintf(a.Stdout, "\nThe cluster is upgraded along %s.\n", ch.pathText())
	}
	return nil
}
