package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/cmd/rokflow/playtest"
)

func playtestResults() []*playtest.Result {
	ok := &playtest.Case{Name: "happy", File: "t/happy.rftest.hcl", Expect: playtest.Expect{Outcome: playtest.Succeeded}}
	bad := &playtest.Case{Name: "node-down", File: "t/down.rftest.hcl", Expect: playtest.Expect{Outcome: playtest.Succeeded}}
	stopped := &playtest.Case{Name: "slow", File: "t/slow.rftest.hcl"}
	return []*playtest.Result{
		{Case: ok, Passed: true, Outcome: playtest.Succeeded, Duration: 1200 * time.Millisecond,
			Crash: &playtest.CrashReport{Boundaries: 4, Kills: 3, Missed: 1, Applies: 5, Done: 1, Retried: 1, MissedAt: []string{"step.c"}}},
		{Case: bad, Outcome: "failed", Duration: 300 * time.Millisecond, Kept: []string{"/tmp/x"},
			Diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unexpected outcome", Detail: "The run failed."}}},
		{Case: stopped, NotRun: true},
	}
}

func TestTestReportText(t *testing.T) {
	var out, errw bytes.Buffer
	results := playtestResults()
	r := NewTestReport(Streams{Out: &out, Err: &errw}, false, nil, false, true)
	r.Begin("pb", []*playtest.Case{results[0].Case, results[1].Case, results[2].Case}, 2)
	for _, res := range results {
		r.CaseDone(res)
	}
	if r.End("pb", results, 2*time.Second) {
		t.Error("End reports success with a failed case")
	}
	want := "Testing pb: 3 cases, 2 at a time; each also killed and resumed at every step boundary\n" +
		"PASS  happy      succeeded; 3 kills (1 missed), 2 doubts resolved (1 done, 1 retried), 5 applies  1.2s\n" +
		"      runs that ended before their kill: step.c\n" +
		"FAIL  node-down  failed         300ms\n" +
		"      kept: /tmp/x\n" +
		"STOP  slow       not run (interrupted)  0s\n" +
		"\n1 passed, 1 failed, 1 not run in 2s; 3 kills, 2 doubts resolved from the simulator's record (1 done, 1 retried), 5 applies\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	if !strings.Contains(errw.String(), "Unexpected outcome") {
		t.Errorf("the failure's diagnostics are not on the error stream: %q", errw.String())
	}
}

func TestTestReportJSON(t *testing.T) {
	var out bytes.Buffer
	results := playtestResults()
	r := NewTestReport(Streams{Out: &out, Err: &out}, false, nil, true, false)
	r.Begin("pb", nil, 1)
	for _, res := range results {
		r.CaseDone(res)
	}
	if r.End("pb", results[:1], time.Second) != true {
		t.Error("End reports failure when every case passed")
	}
	var doc TestReportJSON
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if !doc.Passed || doc.Playbook != "pb" || len(doc.Cases) != 1 || doc.Cases[0].Crash == nil || doc.Cases[0].Crash.Kills != 3 {
		t.Errorf("document %+v", doc)
	}
	if doc.Cases[0].Failures == nil {
		t.Error("failures encode as null, want []")
	}
}

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n          int
		noun, want string
	}{{1, "kill", "1 kill"}, {0, "kill", "0 kills"}, {3, "apply", "3 applies"}, {1, "apply", "1 apply"}} {
		if got := count(tt.n, tt.noun); got != tt.want {
			t.Errorf("count(%d, %q) = %q, want %q", tt.n, tt.noun, got, tt.want)
		}
	}
}
