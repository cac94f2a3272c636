package views

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rokflow/rokflow/internal/jsondoc"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/state"
)

// The views of the state commands: state list shows the runs of a
// journal, state show the steps of one run. The commands read the journal
// (state.Fold) and hand the history here.

// StateListJSON is what state list --json prints (docs/json.md).
type StateListJSON struct {
	jsondoc.Header
	Runs []*RunSummary `json:"runs"`
}

// RunSummary is one run of the journal: who started it when, how it
// ended and how many of its steps ended how.
type RunSummary struct {
	Run      string         `json:"run"`
	Playbook string         `json:"playbook"`
	Started  time.Time      `json:"started"`
	By       string         `json:"by"`
	PlanHash string         `json:"plan_hash"`
	Status   string         `json:"status"`
	Steps    map[string]int `json:"steps"`
}

// SummarizeRuns returns a summary of each run of h, in the journal's order.
func SummarizeRuns(h *state.History) []*RunSummary {
	runs := make([]*RunSummary, 0, len(h.Runs))
	for _, r := range h.Runs {
		rs := &RunSummary{Run: r.ID, Playbook: r.Playbook, Started: r.Started, PlanHash: r.PlanHash, Status: string(r.Ended), Steps: r.Counts()}
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

// NoRuns says that the journal at where holds no run.
func NoRuns(w io.Writer, where string) {
	fmt.Fprintf(w, "No runs recorded in %s.\n", where)
}

// StateListText writes the runs as a table, and who holds the lock when
// holder is set. With no runs it says so (NoRuns) and nothing else.
func StateListText(w io.Writer, runs []*RunSummary, where string, holder *state.Holder) error {
	if len(runs) == 0 {
		NoRuns(w, where)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tBY\tSTATUS\tSTEPS")
	for _, rs := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", rs.Run, rs.Started.Local().Format("2006-01-02 15:04:05"), rs.By, rs.Status, countText(rs.Steps))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if h := holder; h != nil {
		fmt.Fprintf(w, "\nLocked by %s@%s pid %d since %s (%s).\n", h.User, h.Host, h.PID, h.Since.Local().Format(time.RFC3339), h.Operation)
	}
	return nil
}

// StateListJSONText writes the state list --json document.
func StateListJSONText(w io.Writer, runs []*RunSummary) error {
	return jsondoc.StateList.Write(w, StateListJSON{jsondoc.StateList.Header(), runs})
}

// countText lists step counts by status: "2 failed, 5 succeeded".
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

// StepView is one step instance of a run as state show shows it: its
// journaled status, an approval of its gate, an undo it still owes.
type StepView struct {
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
	Approvals []ApprovalView `json:"approvals,omitempty"`
	Resolved  string         `json:"resolved,omitempty"`
	UndoOwed  string         `json:"undo_owed,omitempty"`
	UndoState string         `json:"undo_status,omitempty"` // owed, held or unmet
	UndoWhy   string         `json:"undo_reason,omitempty"` // why it is held or unmet
	firstSeen int
}

// StateShowJSON is what state show --json prints (docs/json.md): the run
// ("" when none is recorded) and its steps.
type StateShowJSON struct {
	jsondoc.Header
	Run       string            `json:"run"`
	Steps     []*StepView       `json:"steps"`
	Approvals []PatternApproval `json:"pattern_approvals,omitempty"`
}

// ApprovalView is one approval of a gate: who, how, when.
type ApprovalView struct {
	By   string    `json:"by"`
	How  string    `json:"how"`
	Time time.Time `json:"time"`
}

// PatternApproval is an approval given for an address pattern.
type PatternApproval struct {
	Pattern  string `json:"pattern"`
	Approved string `json:"approved_by"`
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

// approvalsWanted says what a waiting gate waits for: "its check, or an
// approval", or "2 approvals from distinct people (1 given)".
func approvalsWanted(v *StepView) string {
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

// StateSteps returns the steps of run r of h, in the order the journal
// first names them, and the approvals given for address patterns. by names
// the giver of an approval whose record does not (an older journal), from
// the lock holder that wrote it.
func StateSteps(h *state.History, r *state.Run, by func(state.Holder) string) ([]*StepView, []PatternApproval) {
	steps := map[string]*StepView{}
	get := func(addr string) *StepView {
		v := steps[addr]
		if v == nil {
			v = &StepView{Address: addr, firstSeen: len(steps)}
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
	var patterns []PatternApproval
	for _, ap := range h.ApprovalsFor(r.ID) {
		if ap.Holder == nil {
			continue
		}
		who, how := ap.By, ap.How
		if who == "" {
			who = by(*ap.Holder)
		}
		if how == "" {
			how = runtime.HowApprove
		}
		shown := who + " (" + how + ") at " + ap.Time.Local().Format(time.RFC3339)
		if strings.Contains(ap.Addr, "*") {
			// A pattern is not a step: it approves the gates it matches,
			// started or not.
			patterns = append(patterns, PatternApproval{Pattern: ap.Addr, Approved: shown})
			continue
		}
		v := get(ap.Addr)
		if v.Approved != "" {
			shown = v.Approved + "; " + shown
		}
		v.Approved = shown
		v.Approvals = append(v.Approvals, ApprovalView{By: who, How: how, Time: ap.Time.UTC()})
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
	list := make([]*StepView, 0, len(steps))
	for _, v := range steps {
		list = append(list, v)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].firstSeen < list[j].firstSeen })
	return list, patterns
}

// StateShowJSONText writes the state show --json document of run (""
// when none is recorded).
func StateShowJSONText(w io.Writer, run string, steps []*StepView, patterns []PatternApproval) error {
	return jsondoc.StateShow.Write(w, StateShowJSON{jsondoc.StateShow.Header(), run, steps, patterns})
}

// StateShowText writes the steps of run, recorded in the journal at
// where, one paragraph each, then the approvals given for patterns.
func StateShowText(w io.Writer, run, where string, steps []*StepView, patterns []PatternApproval) {
	fmt.Fprintf(w, "Run %s (%s)\n", run, where)
	for _, v := range steps {
		fmt.Fprintf(w, "\n  %s  %s", v.Address, strings.ToUpper(v.Status))
		if v.Attempts > 1 {
			fmt.Fprintf(w, "  (%d attempts)", v.Attempts)
		}
		fmt.Fprintln(w)
		if !v.Started.IsZero() {
			fmt.Fprintf(w, "    started:  %s\n", v.Started.Local().Format("2006-01-02 15:04:05.000"))
		}
		if !v.Finished.IsZero() {
			fmt.Fprintf(w, "    finished: %s\n", v.Finished.Local().Format("2006-01-02 15:04:05.000"))
		}
		if v.Handle != "" {
			fmt.Fprintf(w, "    handle:   %s\n", v.Handle)
		}
		if v.Needed > 0 {
			fmt.Fprintf(w, "    waits for: %s\n", approvalsWanted(v))
		}
		if v.Approved != "" {
			fmt.Fprintf(w, "    approved: %s\n", v.Approved)
		}
		if v.Resolved != "" {
			fmt.Fprintf(w, "    resolved: %s\n", v.Resolved)
		}
		if v.UndoOwed != "" {
			what := v.UndoState
			if what == string(state.Undoing) {
				what = "begun, unfinished" // a resumed run finishes it first
			}
			fmt.Fprintf(w, "    undo %s: %s\n", what, v.UndoOwed)
			if v.UndoWhy != "" {
				fmt.Fprintf(w, "      because: %s\n", v.UndoWhy)
			}
		}
		if v.Error != "" {
			fmt.Fprintf(w, "    error:    %s\n", v.Error)
		}
		if len(v.Outputs) > 0 {
			fmt.Fprintf(w, "    outputs:  %s\n", string(v.Outputs))
		}
	}
	if len(patterns) > 0 {
		fmt.Fprintf(w, "\n  Approved by pattern:\n")
		for _, p := range patterns {
			fmt.Fprintf(w, "    %s  by %s\n", p.Pattern, p.Approved)
		}
	}
}
