package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rokflow/rokflow/lang"
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

type runSummary struct {
	Run      string            `json:"run"`
	Playbook string            `json:"playbook"`
	Started  time.Time         `json:"started"`
	By       string            `json:"by"`
	PlanHash string            `json:"plan_hash"`
	Status   string            `json:"status"`
	Steps    map[string]int    `json:"steps"`
	Holder   *state.Holder     `json:"-"`
	last     map[string]string // address → status
}

func summarizeRuns(recs []state.Record) []*runSummary {
	var runs []*runSummary
	byID := map[string]*runSummary{}
	for _, r := range recs {
		switch r.Kind {
		case state.KindRun:
			rs := &runSummary{Run: r.Run, Playbook: r.Playbook, Started: r.Time, PlanHash: r.PlanHash, Status: "running or interrupted", Steps: map[string]int{}, last: map[string]string{}}
			if r.Holder != nil {
				rs.By = r.Holder.User + "@" + r.Holder.Host
			}
			runs = append(runs, rs)
			byID[r.Run] = rs
		case state.KindStep:
			if rs := byID[r.Run]; rs != nil {
				rs.last[r.Addr] = string(r.Status)
			}
		case state.KindEnd:
			if rs := byID[r.Run]; rs != nil {
				rs.Status = string(r.Status)
			}
		}
	}
	for _, rs := range runs {
		for _, s := range rs.last {
			rs.Steps[s]++
		}
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
	runs := summarizeRuns(recs)
	if c.JSON {
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(runs)
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
	Address string `arg:"" optional:"" help:"Show only this step instance (or a pattern with *)."`
	StateFlags
	RunID string `help:"The run to show (default: the latest)." name:"run"`
	JSON  bool   `help:"Print JSON." name:"json"`
}

type stepView struct {
	Address   string          `json:"address"`
	Status    string          `json:"status"`
	Attempts  int             `json:"attempts"`
	Started   time.Time       `json:"started,omitempty"`
	Finished  time.Time       `json:"finished,omitempty"`
	Handle    string          `json:"handle,omitempty"`
	Error     string          `json:"error,omitempty"`
	Outputs   json.RawMessage `json:"outputs,omitempty"`
	Approved  string          `json:"approved_by,omitempty"`
	Resolved  string          `json:"resolved,omitempty"`
	UndoOwed  string          `json:"undo_owed,omitempty"`
	UndoState string          `json:"undo_status,omitempty"` // owed, held or unmet
	UndoWhy   string          `json:"undo_reason,omitempty"` // why it is held or unmet
	firstSeen int
}

// Run shows the steps.
func (c *StateShowCmd) Run(a *App) error {
	b, err := a.openState(c.Path, c.StateFlags)
	if err != nil {
		return err
	}
	defer b.Close()
	recs, err := b.Records(a.Ctx)
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	run := c.RunID
	if run == "" {
		for _, r := range recs {
			if r.Kind == state.KindRun {
				run = r.Run
			}
		}
	}
	if run == "" {
		if c.JSON {
			fmt.Fprintln(a.Stdout, `{"run": "", "steps": []}`)
			return nil
		}
		fmt.Fprintf(a.Stdout, "No runs recorded in %s.\n", b)
		return nil
	}
	steps := map[string]*stepView{}
	get := func(addr string) *stepView {
		v := steps[addr]
		if v == nil {
			v = &stepView{Address: addr, firstSeen: len(steps)}
			steps[addr] = v
		}
		return v
	}
	for _, r := range recs {
		if r.Run != run {
			continue
		}
		switch r.Kind {
		case state.KindStep:
			v := get(r.Addr)
			v.Status = string(r.Status)
			if r.Attempt > v.Attempts {
				v.Attempts = r.Attempt
			}
			if r.Status == state.Running && v.Started.IsZero() {
				v.Started = r.Time
			}
			if r.Status != state.Running {
				v.Finished = r.Time
			}
			if r.Handle != "" {
				v.Handle = r.Handle
			}
			v.Error = r.Error
			if len(r.Outputs) > 0 {
				v.Outputs = showOutputs(r.Outputs)
			}
		case state.KindApproval:
			if r.Holder != nil {
				get(r.Addr).Approved = r.Holder.User + " at " + r.Time.Local().Format(time.RFC3339)
			}
		case state.KindResolve:
			get(r.Addr).Resolved = r.Resolution
		case state.KindObligation:
			v := get(r.Addr)
			v.UndoOwed, v.UndoState, v.UndoWhy = r.Undo, string(r.Status), r.Reason
			if len(r.UndoAddrs) == 1 {
				v.UndoOwed = r.UndoAddrs[0]
			}
			if r.Status == state.Settled {
				v.UndoOwed, v.UndoState, v.UndoWhy = "", "", ""
			}
		}
	}
	list := make([]*stepView, 0, len(steps))
	for _, v := range steps {
		if c.Address == "" || v.Address == c.Address || matchPattern(c.Address, v.Address) {
			list = append(list, v)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].firstSeen < list[j].firstSeen })
	if c.JSON {
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Run   string      `json:"run"`
			Steps []*stepView `json:"steps"`
		}{run, list})
	}
	fmt.Fprintf(a.Stdout, "Run %s (%s)\n", run, b)
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
		if v.Approved != "" {
			fmt.Fprintf(a.Stdout, "    approved: %s\n", v.Approved)
		}
		if v.Resolved != "" {
			fmt.Fprintf(a.Stdout, "    resolved: %s\n", v.Resolved)
		}
		if v.UndoOwed != "" {
			fmt.Fprintf(a.Stdout, "    undo %s: %s\n", v.UndoState, v.UndoOwed)
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

func matchPattern(pattern, addr string) bool {
	if !strings.Contains(pattern, "*") {
		return false
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(addr, parts[0]) || !strings.HasSuffix(addr, parts[len(parts)-1]) {
		return false
	}
	rest := addr[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return len(rest) >= len(parts[len(parts)-1])
}

// lastRun returns the latest run id and its plan hash.
func lastRun(ctx context.Context, b state.Backend) (string, string, error) {
	recs, err := b.Records(ctx)
	if err != nil {
		return "", "", err
	}
	var run, hash string
	for _, r := range recs {
		if r.Kind == state.KindRun {
			run, hash = r.Run, r.PlanHash
		}
	}
	return run, hash, nil
}
