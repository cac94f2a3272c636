package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rokflow/rokflow/internal/jsondoc"
	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
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

// stateListJSON is what state list --json prints (docs/json.md).
type stateListJSON struct {
	jsondoc.Header
	Runs []*runSummary `json:"runs"`
}

type runSummary struct {
	Run      string         `json:"run"`
	Playbook string         `json:"playbook"`
	Started  time.Time      `json:"started"`
	By       string         `json:"by"`
	PlanHash string         `json:"plan_hash"`
	Status   string         `json:"status"`
	Steps    map[string]int `json:"steps"`
}

func summarizeRuns(h *state.History) []*runSummary {
	runs := make([]*runSummary, 0, len(h.Runs))
	for _, r := range h.Runs {
		rs := &runSummary{Run: r.ID, Playbook: r.Playbook, Started: r.Started, PlanHash: r.PlanHash, Status: string(r.Ended), Steps: r.Counts()}
		if rs.Status == "" {
			rs.Status = "running or interrupted"
		}
		if r.Holder != nil {
			rs.By = r.Holder.User + "@" + r.Holder.Host
		}
		runs = append(runs, rs)
	}
	return runs
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
	runs := summarizeRuns(state.Fold(recs))
	if c.JSON {
		return jsondoc.StateList.Write(a.Stdout, stateListJSON{jsondoc.StateList.Header(), runs})
	}
	if len(runs) == 0 {
		fmt.Fprintf(a.Stdout, "No runs recorded in %s.\n", b)
		return nil
	}
	tw := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tBY\tSTATUS\tSTEPS")
	for _, rs := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", rs.Run, rs.Started.Local().Format("2006-01-02 15:04:05"), rs.By, rs.Status, countText(rs.Steps))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if h, err := b.Holder(a.Ctx); err == nil && h != nil {
		fmt.Fprintf(a.Stdout, "\nLocked by %s@%s pid %d since %s (%s).\n", h.User, h.Host, h.PID, h.Since.Local().Format(time.RFC3339), h.Operation)
	}
	return nil
}

func countText(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

// StateShowCmd shows the steps of a run.
type StateShowCmd struct {
	Path    string `arg:"" help:"Playbook directory or .hcl file."`
	Address string `arg:"" optional:"" help:"Show only this step instance, or the instances a pattern selects. ${pattern_help}" placeholder:"ADDRESS"`
	StateFlags
	RunID string `help:"The run to show (default: the latest)." name:"run"`
	JSON  bool   `help:"Print JSON." name:"json"`
}

type stepView struct {
	Address  string          `json:"address"`
	Status   string          `json:"status"`
	Attempts int             `json:"attempts"`
	Started  time.Time       `json:"started,omitzero"`
	Finished time.Time       `json:"finished,omitzero"`
	Handle   string          `json:"handle,omitempty"`
	Error    string          `json:"error,omitempty"`
	Outputs  json.RawMessage `json:"outputs,omitempty"`
	Approved string          `json:"approved_by,omitempty"`
	// Needed is how many approvals from distinct identities a waiting
	// gate needs.
	Needed int `json:"needed,omitempty"`
	// WaitsFor says what a waiting gate waits for, for people.
	WaitsFor string `json:"waits_for,omitempty"`
	// Approvals are the gate's approvals, one per identity and way.
	Approvals []approvalView `json:"approvals,omitempty"`
	Resolved  string         `json:"resolved,omitempty"`
	UndoOwed  string         `json:"undo_owed,omitempty"`
	UndoState string         `json:"undo_status,omitempty"` // owed, held or unmet
	UndoWhy   string         `json:"undo_reason,omitempty"` // why it is held or unmet
	firstSeen int
}

// stateShowJSON is what state show --json prints (docs/json.md): the run
// ("" when none is recorded) and its steps.
type stateShowJSON struct {
	jsondoc.Header
	Run       string            `json:"run"`
	Steps     []*stepView       `json:"steps"`
	Approvals []patternApproval `json:"pattern_approvals,omitempty"`
}

// approvalView is one approval of a gate: who, how, when.
type approvalView struct {
	By   string    `json:"by"`
	How  string    `json:"how"`
	Time time.Time `json:"time"`
}

// patternApproval is an approval given for an address pattern.
type patternApproval struct {
	Pattern  string `json:"pattern"`
	Approved string `json:"approved_by"`
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
			return jsondoc.StateShow.Write(a.Stdout, stateShowJSON{Header: jsondoc.StateShow.Header(), Steps: []*stepView{}})
		}
		fmt.Fprintf(a.Stdout, "No runs recorded in %s.\n", b)
		return nil
	}
	run := r.ID
	steps := map[string]*stepView{}
	get := func(addr string) *stepView {
		v := steps[addr]
		if v == nil {
			v = &stepView{Address: addr, firstSeen: len(steps)}
			steps[addr] = v
		}
		return v
	}
	for _, s := range r.Steps {
		v := get(s.Addr)
		v.Status, v.Attempts, v.Handle, v.Error = string(s.Status), s.Attempt, s.Handle, s.Error
		v.Started, v.Finished = s.Started, s.Finished
		if s.Status == state.Waiting {
			v.Needed, v.WaitsFor = s.Needed, s.WaitsFor
		}
		if len(s.Outputs) > 0 {
			v.Outputs = showOutputs(s.Outputs)
		}
		if s.Resolution != "" {
			v.Resolved = s.Resolution
		} else if s.ResolvedDone {
			v.Resolved = state.ResolutionDone
		}
	}
	var patterns []patternApproval
	for _, ap := range h.ApprovalsFor(run) {
		if ap.Holder == nil {
			continue
		}
		by, how := ap.By, ap.How
		if by == "" {
			by = identity(nopIdentity{}, *ap.Holder)
		}
		if how == "" {
			how = runtime.HowApprove
		}
		who := by + " (" + how + ") at " + ap.Time.Local().Format(time.RFC3339)
		if strings.Contains(ap.Addr, "*") {
			// A pattern is not a step: it approves the gates it matches,
			// started or not.
			patterns = append(patterns, patternApproval{Pattern: ap.Addr, Approved: who})
			continue
		}
		v := get(ap.Addr)
		if v.Approved != "" {
			who = v.Approved + "; " + who
		}
		v.Approved = who
		v.Approvals = append(v.Approvals, approvalView{By: by, How: how, Time: ap.Time.UTC()})
	}
	for _, o := range r.Obligations {
		if o.Status != state.Settled {
			v := get(o.Addr)
			v.UndoOwed, v.UndoState, v.UndoWhy = o.Undo, string(o.Status), o.Reason
			if len(o.UndoAddrs) == 1 {
				v.UndoOwed = o.UndoAddrs[0]
			}
		}
	}
	list := make([]*stepView, 0, len(steps))
	for _, v := range steps {
		if only == nil || only.Match(v.Address) {
			list = append(list, v)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].firstSeen < list[j].firstSeen })
	if only != nil && len(list) == 0 {
		var names []string
		for addr := range steps {
			names = append(names, addr)
		}
		hint := ""
		if inside, err := addrs.ParsePattern(c.Address + ".*"); err == nil && slices.ContainsFunc(names, inside.Match) {
			hint = fmt.Sprintf(" %s names no step; %s selects the steps inside it.", c.Address, inside)
		} else if n := nearest(c.Address, names); n != "" {
			hint = fmt.Sprintf(" Did you mean %s?", n)
		}
		return &exitError{code: exitFailed, msg: fmt.Sprintf("no step of run %s matches %s.%s", run, c.Address, hint)}
	}
	if c.JSON {
		return jsondoc.StateShow.Write(a.Stdout, stateShowJSON{jsondoc.StateShow.Header(), run, list, patterns})
	}
	fmt.Fprintf(a.Stdout, "Run %s (%s)\n", run, b)
	defer func() {
		if len(patterns) > 0 {
			fmt.Fprintf(a.Stdout, "\n  Approved by pattern:\n")
			for _, p := range patterns {
				fmt.Fprintf(a.Stdout, "    %s  by %s\n", p.Pattern, p.Approved)
			}
		}
	}()
	for _, v := range list {
		fmt.Fprintf(a.Stdout, "\n  %s  %s", v.Address, strings.ToUpper(v.Status))
		if v.Attempts > 1 {
			fmt.Fprintf(a.Stdout, "  (%d attempts)", v.Attempts)
		}
		fmt.Fprintln(a.Stdout)
		if !v.Started.IsZero() {
			fmt.Fprintf(a.Stdout, "    started:  %s\n", v.Started.Local().Format("2006-01-02 15:04:05.000"))
		}
		if !v.Finished.IsZero() {
			fmt.Fprintf(a.Stdout, "    finished: %s\n", v.Finished.Local().Format("2006-01-02 15:04:05.000"))
		}
		if v.Handle != "" {
			fmt.Fprintf(a.Stdout, "    handle:   %s\n", v.Handle)
		}
		if v.Needed > 0 {
			fmt.Fprintf(a.Stdout, "    waits for: %s\n", approvalsWanted(v))
		}
		if v.Approved != "" {
			fmt.Fprintf(a.Stdout, "    approved: %s\n", v.Approved)
		}
		if v.Resolved != "" {
			fmt.Fprintf(a.Stdout, "    resolved: %s\n", v.Resolved)
		}
		if v.UndoOwed != "" {
			what := v.UndoState
			if what == string(state.Undoing) {
				what = "begun, unfinished" // a resumed run finishes it first
			}
			fmt.Fprintf(a.Stdout, "    undo %s: %s\n", what, v.UndoOwed)
			if v.UndoWhy != "" {
				fmt.Fprintf(a.Stdout, "      because: %s\n", v.UndoWhy)
			}
		}
		if v.Error != "" {
			fmt.Fprintf(a.Stdout, "    error:    %s\n", v.Error)
		}
		if len(v.Outputs) > 0 {
			fmt.Fprintf(a.Stdout, "    outputs:  %s\n", string(v.Outputs))
		}
	}
	return nil
}

// showOutputs turns stored outputs into their plain JSON value; parts left
// out because they were sensitive show as null, flagged by "(sensitive)".
func showOutputs(raw json.RawMessage) json.RawMessage {
	var so struct {
		Value  json.RawMessage `json:"value"`
		Masked bool            `json:"masked"`
	}
	if err := json.Unmarshal(raw, &so); err != nil || len(so.Value) == 0 {
		return nil
	}
	if so.Masked {
		return json.RawMessage(`{"(sensitive)": "some outputs are sensitive and were not recorded", "value": ` + string(so.Value) + `}`)
	}
	return so.Value
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

// approvalsWanted says what a waiting gate waits for: "its check, or an
// approval", or "2 approvals from distinct people (1 given)".
func approvalsWanted(v *stepView) string {
	what := v.WaitsFor
	if what == "" {
		what = fmt.Sprintf("%d approval(s)", v.Needed)
	}
	if v.Needed < 2 {
		return what
	}
	given := map[string]bool{}
	for _, ap := range v.Approvals {
		given[ap.By] = true
	}
	return fmt.Sprintf("%s (%d given)", what, len(given))
}
