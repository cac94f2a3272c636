package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/rokflow/rokflow/cmd/rokflow/views"
	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/runtime/state"
)

// StateCmd groups the state commands.
type StateCmd struct {
	List StateListCmd `cmd:"" help:"List the runs recorded for a playbook."`
	Show StateShowCmd `cmd:"" help:"Show every step of a run: status, attempts, times, outputs, handles, errors."`
}

// playbookDir finds the directory a state command's default backend is in.
func playbookDir(path string) (string, error) {
	pb, diags := lang.Load(path)
	if diags.HasErrors() || pb.Dir == "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return "", err
		}
		return abs, nil
	}
	return pb.Dir, nil
}

// openState opens the backend of the playbook at path.
func (a *App) openState(path string, f StateFlags) (state.Backend, error) {
	dir, err := playbookDir(path)
	if err != nil {
		return nil, &exitError{code: exitFailed, msg: err.Error()}
	}
	return a.backend(a.Ctx, f, dir)
}

// StateListCmd lists runs.
type StateListCmd struct {
	Path string `arg:"" help:"Playbook directory or .hcl file."`
	StateFlags
	JSON bool `help:"Print JSON." name:"json"`
}

// Run lists the runs.
func (c *StateListCmd) Run(a *App) error {
	b, err := a.openState(c.Path, c.StateFlags)
	if err != nil {
		return err
	}
	defer b.Close()
	recs, err := b.Records(a.Ctx)
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	runs := views.SummarizeRuns(state.Fold(recs))
	if c.JSON {
		return views.StateListJSONText(a.Stdout, runs)
	}
	var holder *state.Holder
	if len(runs) > 0 {
		if h, err := b.Holder(a.Ctx); err == nil {
			holder = h
		}
	}
	return views.StateListText(a.Stdout, runs, fmt.Sprint(b), holder)
}

// StateShowCmd shows the steps of a run.
type StateShowCmd struct {
	Path    string `arg:"" help:"Playbook directory or .hcl file."`
	Address string `arg:"" optional:"" help:"Show only this step instance, or the instances a pattern selects. ${pattern_help}" placeholder:"ADDRESS"`
	StateFlags
	RunID string `help:"The run to show (default: the latest)." name:"run"`
	JSON  bool   `help:"Print JSON." name:"json"`
}

// Run shows the steps.
func (c *StateShowCmd) Run(a *App) error {
	var only *addrs.Pattern
	if c.Address != "" {
		p, err := addrs.ParsePattern(c.Address)
		if err != nil {
			return usageError("%s", err)
		}
		only = &p
	}
	b, err := a.openState(c.Path, c.StateFlags)
	if err != nil {
		return err
	}
	defer b.Close()
	recs, err := b.Records(a.Ctx)
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	h := state.Fold(recs)
	r := h.Last()
	if c.RunID != "" {
		r = h.Run(c.RunID)
		if r == nil {
			return &exitError{code: exitFailed, msg: fmt.Sprintf("no run %s is recorded in %s", c.RunID, b)}
		}
	}
	if r == nil {
		if c.JSON {
			return views.StateShowJSONText(a.Stdout, "", []*views.StepView{}, nil)
		}
		views.NoRuns(a.Stdout, fmt.Sprint(b))
		return nil
	}
	all, patterns := views.StateSteps(h, r, func(ho state.Holder) string { return identity(nopIdentity{}, ho) })
	list := make([]*views.StepView, 0, len(all))
	for _, v := range all {
		if only == nil || only.Match(v.Address) {
			list = append(list, v)
		}
	}
	if only != nil && len(list) == 0 {
		var names []string
		for _, v := range all {
			names = append(names, v.Address)
		}
		hint := ""
		if inside, err := addrs.ParsePattern(c.Address + ".*"); err == nil && slices.ContainsFunc(names, inside.Match) {
			hint = fmt.Sprintf(" %s names no step; %s selects the steps inside it.", c.Address, inside)
		} else if n := nearest(c.Address, names); n != "" {
			hint = fmt.Sprintf(" Did you mean %s?", n)
		}
		return &exitError{code: exitFailed, msg: fmt.Sprintf("no step of run %s matches %s.%s", r.ID, c.Address, hint)}
	}
	if c.JSON {
		return views.StateShowJSONText(a.Stdout, r.ID, list, patterns)
	}
	views.StateShowText(a.Stdout, r.ID, fmt.Sprint(b), list, patterns)
	return nil
}

// lastRun returns the latest run and the history it is in, or a nil run
// when none is recorded.
func lastRun(ctx context.Context, b state.Backend) (*state.History, *state.Run, error) {
	recs, err := b.Records(ctx)
	if err != nil {
		return nil, nil, err
	}
	h := state.Fold(recs)
	return h, h.Last(), nil
}
