package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/runtime/state"
)

var (
	t0    = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	alice = &state.Holder{User: "alice", Host: "ops1", PID: 42, Since: t0, Operation: "apply pb"}
)

// journal is a run with a succeeded step, a failed retried one, a gate
// waiting for two approvals with one given, an owed undo and a pattern
// approval; then a second run that ended.
func journal() *state.History {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	return state.Fold([]state.Record{
		{Kind: state.KindRun, Run: "r1", Playbook: "pb", PlanHash: "h1", Time: at(0), Holder: alice},
		{Kind: state.KindStep, Run: "r1", Addr: "step.a", Status: state.Running, Attempt: 1, Time: at(1)},
		{Kind: state.KindStep, Run: "r1", Addr: "step.a", Status: state.Succeeded, Attempt: 1, Time: at(2), Handle: "job-7",
			Outputs: json.RawMessage(`{"value":{"n":1},"masked":true}`)},
		{Kind: state.KindObligation, Run: "r1", Addr: "step.a", Status: state.Owed, Undo: "step.undo_a", UndoAddrs: []string{"step.undo_a[0]"}},
		{Kind: state.KindStep, Run: "r1", Addr: "step.b", Status: state.Running, Attempt: 2, Time: at(3)},
		{Kind: state.KindStep, Run: "r1", Addr: "step.b", Status: state.Failed, Attempt: 2, Time: at(4), Error: "exit 1"},
		{Kind: state.KindStep, Run: "r1", Addr: "gate.go", Status: state.Waiting, Attempt: 1, Time: at(5), Needed: 2, Reason: "two approvals"},
		{Kind: state.KindApproval, Run: "r1", Addr: "gate.go", Time: at(6), Holder: &state.Holder{User: "bob", Host: "ops2"}},
		{Kind: state.KindApproval, Run: "r1", Addr: "gate.*", Time: at(7), Holder: alice, By: "carol", How: "prompt"},
		{Kind: state.KindRun, Run: "r2", Playbook: "pb", PlanHash: "h2", Time: at(10)},
		{Kind: state.KindEnd, Run: "r2", Status: state.Succeeded, Time: at(11)},
	})
}

func TestStateListText(t *testing.T) {
	runs := SummarizeRuns(journal())
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2", len(runs))
	}
	if runs[0].Status != "running or interrupted" || runs[0].By != "alice@ops1" || runs[1].Status != "succeeded" || runs[1].By != "" {
		t.Errorf("summaries %+v %+v", runs[0], runs[1])
	}
	var b bytes.Buffer
	if err := StateListText(&b, runs, "file:///x", alice); err != nil {
		t.Fatal(err)
	}
	want := "RUN  STARTED              BY          STATUS                  STEPS\n" +
		"r1   " + t0.Local().Format("2006-01-02 15:04:05") + "  alice@ops1  running or interrupted  1 failed, 1 succeeded, 1 waiting\n" +
		"r2   " + t0.Add(10*time.Second).Local().Format("2006-01-02 15:04:05") + "              succeeded               \n" +
		"\nLocked by alice@ops1 pid 42 since " + t0.Local().Format(time.RFC3339) + " (apply pb).\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestStateListNoRuns(t *testing.T) {
	var b bytes.Buffer
	// The holder is not shown when there is nothing to list.
	if err := StateListText(&b, nil, "etcd://a:2379", alice); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "No runs recorded in etcd://a:2379.\n" {
		t.Errorf("got %q", got)
	}
}

func TestStateListJSON(t *testing.T) {
	var b bytes.Buffer
	if err := StateListJSONText(&b, SummarizeRuns(journal())); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []struct {
			Run    string         `json:"run"`
			Status string         `json:"status"`
			Steps  map[string]int `json:"steps"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, b.String())
	}
	if len(doc.Runs) != 2 || doc.Runs[0].Run != "r1" || doc.Runs[0].Steps["failed"] != 1 || doc.Runs[1].Status != "succeeded" {
		t.Errorf("document %+v", doc)
	}
}

func TestStateSteps(t *testing.T) {
	h := journal()
	steps, patterns := StateSteps(h, h.Run("r1"), func(ho state.Holder) string { return "id:" + ho.User })
	var addrs []string
	for _, v := range steps {
		addrs = append(addrs, v.Address)
	}
	if got := strings.Join(addrs, " "); got != "step.a step.b gate.go" {
		t.Fatalf("steps %s, want the journal's order", got)
	}
	a, b, g := steps[0], steps[1], steps[2]
	if a.UndoOwed != "step.undo_a[0]" || a.UndoState != "owed" || a.Handle != "job-7" {
		t.Errorf("step.a %+v", a)
	}
	if string(a.Outputs) != `{"(sensitive)": "some outputs are sensitive and were not recorded", "value": {"n":1}}` {
		t.Errorf("step.a outputs %s", a.Outputs)
	}
	if b.Attempts != 2 || b.Error != "exit 1" || b.Outputs != nil {
		t.Errorf("step.b %+v", b)
	}
	// The approval record names no identity: by names it from its holder.
	if g.Needed != 2 || len(g.Approvals) != 1 || g.Approvals[0].By != "id:bob" || g.Approvals[0].How != "approve" {
		t.Errorf("gate.go %+v", g)
	}
	if len(patterns) != 1 || patterns[0].Pattern != "gate.*" || !strings.HasPrefix(patterns[0].Approved, "carol (prompt) at ") {
		t.Errorf("patterns %+v", patterns)
	}
}

func TestStateShowText(t *testing.T) {
	h := journal()
	steps, patterns := StateSteps(h, h.Run("r1"), func(ho state.Holder) string { return ho.User })
	var b bytes.Buffer
	StateShowText(&b, "r1", "file:///x", steps, patterns)
	ts := func(s int) string {
		return t0.Add(time.Duration(s) * time.Second).Local().Format("2006-01-02 15:04:05.000")
	}
	want := "Run r1 (file:///x)\n" +
		"\n  step.a  SUCCEEDED\n" +
		"    started:  " + ts(1) + "\n" +
		"    finished: " + ts(2) + "\n" +
		"    handle:   job-7\n" +
		"    undo owed: step.undo_a[0]\n" +
		`    outputs:  {"(sensitive)": "some outputs are sensitive and were not recorded", "value": {"n":1}}` + "\n" +
		"\n  step.b  FAILED  (2 attempts)\n" +
		"    started:  " + ts(3) + "\n" +
		"    finished: " + ts(4) + "\n" +
		"    error:    exit 1\n" +
		"\n  gate.go  WAITING\n" +
		"    started:  " + ts(5) + "\n" +
		"    waits for: two approvals (1 given)\n" +
		"    approved: bob (approve) at " + t0.Add(6*time.Second).Local().Format(time.RFC3339) + "\n" +
		"\n  Approved by pattern:\n" +
		"    gate.*  by carol (prompt) at " + t0.Add(7*time.Second).Local().Format(time.RFC3339) + "\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestStateShowJSON(t *testing.T) {
	var b bytes.Buffer
	if err := StateShowJSONText(&b, "", []*StepView{}, nil); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	// No run: the run is "", the steps an empty list (not null), and no
	// pattern approvals.
	if doc["run"] != "" || doc["steps"] == nil || len(doc["steps"].([]any)) != 0 {
		t.Errorf("document %v", doc)
	}
	if _, ok := doc["pattern_approvals"]; ok {
		t.Errorf("document %v has pattern approvals", doc)
	}
}

func TestApprovalsWanted(t *testing.T) {
	tests := map[string]struct {
		v    StepView
		want string
	}{
		"one, said":     {StepView{Needed: 1, WaitsFor: "its check, or an approval"}, "its check, or an approval"},
		"one, unsaid":   {StepView{Needed: 1}, "1 approval(s)"},
		"two, one each": {StepView{Needed: 2, Approvals: []ApprovalView{{By: "a"}, {By: "a", How: "prompt"}}}, "2 approval(s) (1 given)"},
	}
	for name, tt := range tests {
		if got := approvalsWanted(&tt.v); got != tt.want {
			t.Errorf("%s: %q, want %q", name, got, tt.want)
		}
	}
}
