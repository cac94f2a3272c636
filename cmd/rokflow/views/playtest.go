package views

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/cmd/rokflow/playtest"
	"github.com/rokflow/rokflow/internal/jsondoc"
)

// TestReport shows the results of `rokflow test`: one line per case as it
// ends, with the diagnostics of a failed one, and a summary; or, as JSON,
// one document at the end.
type TestReport struct {
	mu    sync.Mutex
	s     Streams // Color is for Out
	err   Streams // Color is for Err
	files map[string]*hcl.File
	c     palette
	json  bool
	crash bool
	width int
}

// NewTestReport returns a report writing to s.Out (and diagnostics to
// s.Err, colored when errColor).
func NewTestReport(s Streams, errColor bool, files map[string]*hcl.File, asJSON, crash bool) *TestReport {
	e := s
	e.Color = errColor
	return &TestReport{s: s, err: e, files: files, c: newPalette(s.Color), json: asJSON, crash: crash}
}

// Begin says what runs.
func (t *TestReport) Begin(playbook string, cases []*playtest.Case, parallel int) {
	if t.json {
		return
	}
	for _, c := range cases {
		t.width = max(t.width, len(c.Name))
	}
	what := "cases"
	if len(cases) == 1 {
		what = "case"
	}
	fmt.Fprintf(t.s.Out, "Testing %s: %d %s, %d at a time", playbook, len(cases), what, parallel)
	if t.crash {
		fmt.Fprintf(t.s.Out, "; each also killed and resumed at every step boundary")
	}
	fmt.Fprintln(t.s.Out)
}

// CaseDone shows one case's result.
func (t *TestReport) CaseDone(r *playtest.Result) {
	if t.json {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.c
	status := c.green("PASS")
	switch {
	case r.NotRun && !r.Passed && len(r.Diags) == 0:
		status = c.yellow("STOP")
	case !r.Passed:
		status = c.red("FAIL")
	}
	what := string(r.Outcome)
	if r.NotRun && r.Outcome == "" {
		what = "not run (interrupted)"
	}
	if k := r.Crash; k != nil {
		what += "; " + count(k.Kills, "kill")
		if k.Missed > 0 {
			what += fmt.Sprintf(" (%d missed)", k.Missed)
		}
		what += fmt.Sprintf(", %s resolved (%d done, %d retried), %s", count(k.Done+k.Retried, "doubt"), k.Done, k.Retried, count(k.Applies, "apply"))
		if k.Failed > 0 {
			what += fmt.Sprintf(", %s", c.red(fmt.Sprintf("%d of %d crash runs failed", k.Failed, k.Boundaries)))
		}
		if r.NotRun {
			what += ", interrupted"
		}
	}
	fmt.Fprintf(t.s.Out, "%s  %-*s  %-13s  %s\n", status, t.width, r.Case.Name, what, c.dim(r.Duration.Round(100*time.Millisecond).String()))
	if len(r.Diags) > 0 {
		Diagnostics(t.err, t.files, r.Diags)
	}
	if k := r.Crash; k != nil && k.Missed > 0 {
		fmt.Fprintf(t.s.Out, "      %s\n", c.dim("runs that ended before their kill: "+strings.Join(k.MissedAt, "; ")))
	}
	for _, d := range r.Kept {
		fmt.Fprintf(t.s.Out, "      kept: %s\n", d)
	}
}

// End shows the summary (or the JSON document) and reports whether every
// case passed.
func (t *TestReport) End(playbook string, results []*playtest.Result, elapsed time.Duration) bool {
	passed, failed, notRun := 0, 0, 0
	var kills, done, retried, applies int
	for _, r := range results {
		switch {
		case r.Passed:
			passed++
		case r.NotRun && len(r.Diags) == 0:
			notRun++
		default:
			failed++
		}
		if k := r.Crash; k != nil {
			kills, done, retried, applies = kills+k.Kills, done+k.Done, retried+k.Retried, applies+k.Applies
		}
	}
	ok := failed == 0 && notRun == 0
	if t.json {
		t.writeJSON(playbook, results, elapsed, ok)
		return ok
	}
	c := t.c
	var parts []string
	parts = append(parts, c.green(fmt.Sprintf("%d passed", passed)))
	if failed > 0 {
		parts = append(parts, c.red(fmt.Sprintf("%d failed", failed)))
	}
	if notRun > 0 {
		parts = append(parts, c.yellow(fmt.Sprintf("%d not run", notRun)))
	}
	fmt.Fprintf(t.s.Out, "\n%s in %s", strings.Join(parts, ", "), elapsed.Round(100*time.Millisecond))
	if t.crash {
		fmt.Fprintf(t.s.Out, "; %s, %s resolved from the simulator's record (%d done, %d retried), %s", count(kills, "kill"), count(done+retried, "doubt"), done, retried, count(applies, "apply"))
	}
	fmt.Fprintln(t.s.Out)
	return ok
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonDiag struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *jsonRange `json:"range,omitempty"`
}

type jsonCrash struct {
	Boundaries int      `json:"boundaries"`
	Kills      int      `json:"kills"`
	Missed     int      `json:"missed"`
	Applies    int      `json:"applies"`
	Done       int      `json:"resolved_done"`
	Retried    int      `json:"resolved_retry"`
	Failed     int      `json:"failed_runs"`
	MissedAt   []string `json:"missed_at,omitempty"`
}

type jsonCase struct {
	Name     string     `json:"name"`
	File     string     `json:"file"`
	Passed   bool       `json:"passed"`
	NotRun   bool       `json:"not_run,omitempty"`
	Outcome  string     `json:"outcome"`
	Expected string     `json:"expected_outcome"`
	Duration int64      `json:"duration_ns"`
	Failures []jsonDiag `json:"failures"`
	Crash    *jsonCrash `json:"crash,omitempty"`
	Kept     []string   `json:"kept,omitempty"`
}

// TestReportJSON is the document `rokflow test --json` prints
// (docs/test-json.md).
type TestReportJSON struct {
	jsondoc.Header
	Playbook string     `json:"playbook"`
	Crash    bool       `json:"crash"`
	Passed   bool       `json:"passed"`
	Duration int64      `json:"duration_ns"`
	Cases    []jsonCase `json:"cases"`
}

func (t *TestReport) writeJSON(playbook string, results []*playtest.Result, elapsed time.Duration, ok bool) {
	doc := TestReportJSON{jsondoc.TestReport.Header(), playbook, t.crash, ok, elapsed.Nanoseconds(), []jsonCase{}}
	for _, r := range results {
		jc := jsonCase{Name: r.Case.Name, File: r.Case.File, Passed: r.Passed, NotRun: r.NotRun, Outcome: string(r.Outcome),
			Expected: string(r.Case.Expect.Outcome), Duration: r.Duration.Nanoseconds(), Failures: []jsonDiag{}, Kept: r.Kept}
		for _, d := range r.Diags {
			jd := jsonDiag{Severity: "error", Summary: d.Summary, Detail: d.Detail}
			if d.Severity == hcl.DiagWarning {
				jd.Severity = "warning"
			}
			if d.Subject != nil {
				s := d.Subject
				jd.Range = &jsonRange{Filename: s.Filename, Start: jsonPos{s.Start.Line, s.Start.Column, s.Start.Byte}, End: jsonPos{s.End.Line, s.End.Column, s.End.Byte}}
			}
			jc.Failures = append(jc.Failures, jd)
		}
		if k := r.Crash; k != nil {
			jc.Crash = &jsonCrash{k.Boundaries, k.Kills, k.Missed, k.Applies, k.Done, k.Retried, k.Failed, k.MissedAt}
		}
		doc.Cases = append(doc.Cases, jc)
	}
	if err := jsondoc.TestReport.Write(t.s.Out, doc); err != nil {
		fmt.Fprintf(t.s.Err, "rokflow: cannot write the report: %s\n", err)
	}
}

// count is "1 kill", "2 kills", "3 applies".
func count(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
