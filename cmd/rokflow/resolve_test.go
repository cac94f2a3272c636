package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/runtime/state"
)

// journal writes recs to the file state beside the playbook in dir, as a
// run of apply would have.
func journal(t *testing.T, dir string, recs ...state.Record) {
	t.Helper()
	ctx := context.Background()
	b, err := state.Open(ctx, "file://"+filepath.Join(dir, ".rokflow"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, err := b.Lock(ctx, holder("apply test"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Unlock(ctx)
	if err := s.Append(ctx, recs...); err != nil {
		t.Fatal(err)
	}
}

// TestResolveAddresses: resolve names what is in doubt whenever it is
// given something else, and records nothing then.
func TestResolveAddresses(t *testing.T) {
	const pb = "step \"a\" {\n  uses    = \"exec\"\n  command = [\"true\"]\n}\n"
	dir := writePlaybook(t, pb)
	now := time.Now().UTC()
	step := func(addr string, st state.Status) state.Record {
		return state.Record{Kind: state.KindStep, Run: "r1", Addr: addr, Status: st, Attempt: 1, Time: now}
	}
	journal(t, dir,
		state.Record{Kind: state.KindRun, Run: "r1", PlanHash: "h1", Playbook: "p", Time: now},
		step("step.a", state.Succeeded),
		step(`step.b["x"]`, state.InDoubt),
		step("step.c", state.Running),
	)
	doubt := ` Steps in doubt are: step.b["x"], step.c (cut short while running).`
	tests := map[string]struct {
		addr string
		code int
		want []string
	}{
		"not in the run":  {`step.b["y"]`, 1, []string{`no step step.b["y"] in run r1 (the last run of this playbook)`, `). Did you mean step.b["x"]? Steps`, doubt}},
		"far from any":    {"module.m.step.zzz", 1, []string{"no step module.m.step.zzz in run r1", doubt}},
		"not in doubt":    {"step.a", 1, []string{`step.a is not in doubt in run r1 (its last status is "succeeded")`, doubt}},
		"a pattern":       {"step.*", 2, []string{"resolve decides one step instance at a time", "not the pattern step.*"}},
		"not an address":  {"step.", 2, []string{`"step." is not an address`}},
		"in doubt":        {`step.b["x"]`, 0, nil},
		"cut short, once": {"step.c", 0, nil},
	}
	for _, name := range []string{"not in the run", "far from any", "not in doubt", "a pattern", "not an address", "in doubt", "cut short, once"} {
		tt := tests[name]
		t.Run(name, func(t *testing.T) {
			code, out, stderr := run(t, nil, "resolve", dir, tt.addr, "--done")
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not hold %q:\n%s", w, stderr)
				}
			}
			if tt.code == 0 && !strings.Contains(out, "Resolved "+tt.addr+" as done") {
				t.Errorf("stdout does not say it was resolved:\n%s", out)
			}
		})
	}
	resolutions := 0
	b, err := state.Open(context.Background(), "file://"+filepath.Join(dir, ".rokflow"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	recs, err := b.Records(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Kind == state.KindResolve {
			resolutions++
		}
	}
	if resolutions != 2 {
		t.Errorf("%d resolutions recorded, want the 2 that were accepted", resolutions)
	}

	clean := writePlaybook(t, pb)
	if code, _, stderr := run(t, nil, "resolve", clean, "step.a", "--retry"); code != 1 || !strings.Contains(stderr, "no run is recorded for this playbook, so no step is in doubt") {
		t.Errorf("resolve without a run: exit %d\n%s", code, stderr)
	}
	journal(t, clean, state.Record{Kind: state.KindRun, Run: "r2", PlanHash: "h", Playbook: "p", Time: now}, state.Record{Kind: state.KindStep, Run: "r2", Addr: "step.a", Status: state.Succeeded, Attempt: 1, Time: now})
	if code, _, stderr := run(t, nil, "resolve", clean, "step.b", "--retry"); code != 1 || !strings.Contains(stderr, ". No step of it is in doubt, so there is nothing to resolve.") {
		t.Errorf("resolve with nothing in doubt: exit %d\n%s", code, stderr)
	} else if strings.Contains(stderr, "Did you mean") {
		t.Errorf("resolve suggests a step that is not in doubt:\n%s", stderr)
	}
}

// TestInDoubtSaysHowToAnswer: the line of a step in doubt says what to
// check and gives the resolve command whole, with the playbook's path.
func TestInDoubtSaysHowToAnswer(t *testing.T) {
	const pb = "step \"a\" {\n  uses    = \"exec\"\n  once    = true\n  command = [\"touch\", \"/nonexistent/marker\"]\n}\n"
	dir := writePlaybook(t, pb)
	code, out, stderr := run(t, nil, "plan", dir, "--json")
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, stderr)
	}
	var p struct {
		PlanHash string `json:"hash"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.PlanHash == "" {
		t.Fatalf("plan --json: %v\n%s", err, out)
	}
	now := time.Now().UTC()
	journal(t, dir,
		state.Record{Kind: state.KindRun, Run: "r1", PlanHash: p.PlanHash, Playbook: filepath.Base(dir), Time: now},
		state.Record{Kind: state.KindStep, Run: "r1", Addr: "step.a", Status: state.Running, Attempt: 1, Time: now},
	)
	code, out, stderr = run(t, nil, "apply", dir, "--yes")
	want := []string{
		"? step.a in doubt: check whether it acted (",
		"step.a is in doubt: check whether it acted, then answer: rokflow resolve " + dir + " step.a --done|--retry",
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("apply does not say %q: exit %d\n%s%s", w, code, out, stderr)
		}
	}
	if code != 3 {
		t.Errorf("apply with a step in doubt: exit %d, want 3\n%s%s", code, out, stderr)
	}
}

// TestStateShowOfAGroup: a group's address names no step; state show says
// which pattern selects the steps inside it.
func TestStateShowOfAGroup(t *testing.T) {
	dir := writePlaybook(t, "step \"a\" {\n  uses    = \"exec\"\n  command = [\"true\"]\n}\n")
	now := time.Now().UTC()
	journal(t, dir,
		state.Record{Kind: state.KindRun, Run: "r1", PlanHash: "h1", Playbook: "p", Time: now},
		state.Record{Kind: state.KindStep, Run: "r1", Addr: `group.g["a"].step.x`, Status: state.Succeeded, Attempt: 1, Time: now},
	)
	code, out, stderr := run(t, nil, "state", "show", dir, "group.g[*]")
	if code != 1 || out != "" || !strings.Contains(stderr, "group.g[*] names no step; group.g[*].* selects the steps inside it.") {
		t.Errorf("state show group.g[*]: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = run(t, nil, "state", "show", dir, "group.g[*].*")
	if code != 0 || !strings.Contains(out, `group.g["a"].step.x  SUCCEEDED`) {
		t.Errorf("state show group.g[*].*: exit %d\n%s%s", code, out, stderr)
	}
}
