package playtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/steps"
)

// Runner runs cases.
type Runner struct {
	// Exe is the rokflow binary apply, resolve and state show run as.
	Exe string
	// Env is the environment of those commands; the runner drops the
	// ROKFLOW_VAR_ inputs from it (a case's inputs are its own) and adds
	// the simulator's secrets.
	Env []string
	// Parallel bounds how many runs go side by side (0: DefaultParallel).
	Parallel int
	// Crash kills and resumes each case at every step boundary.
	Crash bool
	// Registry tells the kinds that change nothing from the others.
	Registry *steps.Registry
	// Hook receives each case's result as it ends.
	Hook Hook
	// TempDir holds the runs' directories ("": the system's).
	TempDir string
	// Keep keeps the directory of every run that failed (the simulator's
	// state and event log, the journal), and says where in the result.
	Keep bool
	// Stop, once closed, starts no new run.
	Stop <-chan struct{}

	env []string
}

// Hook receives results.
type Hook interface {
	CaseDone(*Result)
}

// Result is how a case went.
type Result struct {
	Case   *Case
	Passed bool
	// NotRun: an interrupt came before the case (or some of its crash
	// runs) could run.
	NotRun bool
	// Outcome is the clean run's.
	Outcome  Outcome
	Duration time.Duration
	// Diags say why the case failed.
	Diags hcl.Diagnostics
	Crash *CrashReport
	// Kept lists the directories kept for failed runs.
	Kept []string
}

// CrashReport sums up a case's crash runs.
type CrashReport struct {
	// Boundaries is how many step boundaries the clean run had, one run
	// each; Kills how many of those runs apply was killed in, Missed how
	// many ended before their boundary came.
	Boundaries, Kills, Missed int
	// Applies counts apply processes; Done and Retried the steps in doubt
	// resolved from the simulator's record.
	Applies, Done, Retried int
	// Failed counts the crash runs whose outcome or assertions failed.
	Failed int
	// MissedAt names the boundaries whose run ended before they came.
	MissedAt []string
}

// DefaultParallel is how many runs go side by side on this machine: one
// per CPU Go may use, at most 8 (each run is a simulator and a rokflow
// process).
func DefaultParallel() int { return max(1, min(runtime.GOMAXPROCS(0), 8)) }

// maxResumes bounds the applies of one run after the first.
const maxResumes = 20

// Run runs cases of s and returns their results in order.
func (r *Runner) Run(ctx context.Context, s *Suite, cases []*Case) []*Result {
	if r.Parallel <= 0 {
		r.Parallel = DefaultParallel()
	}
	r.env = nil
	for _, kv := range r.Env {
		if !strings.HasPrefix(kv, "ROKFLOW_VAR_") && !strings.HasPrefix(kv, "NO_COLOR=") {
			r.env = append(r.env, kv)
		}
	}
	sem := make(chan struct{}, r.Parallel)
	results := make([]*Result, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = r.runCase(ctx, s, c, sem)
			if r.Hook != nil {
				r.Hook.CaseDone(results[i])
			}
		}()
	}
	wg.Wait()
	return results
}

// acquire takes a place among the runs going side by side; false when an
// interrupt came first.
func (r *Runner) acquire(ctx context.Context, sem chan struct{}) bool {
	select {
	case <-r.Stop:
		return false
	case <-ctx.Done():
		return false
	default:
	}
	select {
	case sem <- struct{}{}:
	case <-r.Stop:
		return false
	case <-ctx.Done():
		return false
	}
	select {
	case <-r.Stop:
		<-sem
		return false
	default:
		return true
	}
}

// runCase runs a case: its clean run, then with Crash one run killed at
// each of its step boundaries.
func (r *Runner) runCase(ctx context.Context, s *Suite, c *Case, sem chan struct{}) *Result {
	res := &Result{Case: c}
	if !r.acquire(ctx, sem) {
		res.NotRun = true
		return res
	}
	// A case's time is from its first run's start, not from when it began
	// waiting for a place.
	start := time.Now()
	ref, ok := r.clean(ctx, s, c, res)
	<-sem
	if ctx.Err() != nil {
		// The second interrupt killed what ran: nothing was checked.
		res.NotRun, res.Diags, res.Outcome = true, nil, ""
		return res
	}
	if !r.Crash || !ok {
		res.Passed = ok
		res.Duration = time.Since(start)
		return res
	}
	cr := &CrashReport{Boundaries: len(ref.boundaries)}
	res.Crash = cr
	var mu sync.Mutex
	var wg sync.WaitGroup
	failures := map[int]hcl.Diagnostics{}
	for i, b := range ref.boundaries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !r.acquire(ctx, sem) {
				mu.Lock()
				res.NotRun = true
				mu.Unlock()
				return
			}
			defer func() { <-sem }()
			it := r.crashRun(ctx, s, c, ref, b, i)
			mu.Lock()
			defer mu.Unlock()
			if ctx.Err() != nil {
				res.NotRun = true
				return
			}
			cr.Applies += it.applies
			cr.Done += it.done
			cr.Retried += it.retried
			if it.killed {
				cr.Kills++
			} else {
				cr.Missed++
				cr.MissedAt = append(cr.MissedAt, b.String())
			}
			if len(it.diags) > 0 {
				cr.Failed++
				failures[i] = it.diags
			}
			if it.kept != "" {
				res.Kept = append(res.Kept, it.kept)
			}
		}()
	}
	wg.Wait()
	slices.Sort(cr.MissedAt)
	for _, i := range sortedInts(failures) {
		res.Diags = append(res.Diags, failures[i]...)
	}
	res.Passed = cr.Failed == 0 && !res.NotRun
	res.Duration = time.Since(start)
	return res
}

// reference is what a case's clean run teaches its crash runs: where the
// boundaries are, and which Ganeti job each step submitted.
type reference struct {
	boundaries []Boundary
	jobs       map[string]JobPattern
}

// clean runs the case once without a kill and checks it; ok when it
// passed.
func (r *Runner) clean(ctx context.Context, s *Suite, c *Case, res *Result) (*reference, bool) {
	x, err := r.newRun(s, c, "run")
	if err != nil {
		res.Outcome = Errored
		res.Diags = append(res.Diags, c.simulatorFailure(err))
		return nil, false
	}
	a, err := x.apply(ctx, nil)
	if err != nil {
		res.Outcome = Errored
		res.Diags = append(res.Diags, c.failure("Cannot run apply", err.Error()))
		res.Kept = x.end(false, r.Keep)
		return nil, false
	}
	x.note(a)
	o, _, jobs, diags, err := x.finish(ctx, a)
	if err != nil {
		res.Outcome = Errored
		res.Diags = append(res.Diags, c.failure("Cannot read the run", err.Error()))
		res.Kept = x.end(false, r.Keep)
		return nil, false
	}
	res.Outcome, res.Diags = o.Outcome, diags
	ok := !diags.HasErrors()
	res.Kept = x.end(ok, r.Keep)
	ref := &reference{boundaries: boundaries(a.events), jobs: map[string]JobPattern{}}
	home := map[string]string{}
	for _, i := range x.before.Instances {
		home[i.Name] = i.PNode
	}
	for _, st := range o.Steps {
		id := JobHandle(st.Handle)
		for _, j := range jobs {
			if j.ID == id && id > 0 && len(j.Summary) > 0 && len(j.Ops) > 0 {
				ref.jobs[st.Address] = jobPatternOf(j, home)
			}
		}
	}
	return ref, ok
}

// end closes a run, keeping its directory when it failed and keep is
// set; it returns the directories kept.
func (x *caseRun) end(ok, keep bool) []string {
	keep = keep && !ok
	if keep {
		_ = os.WriteFile(filepath.Join(x.dir, "sim-events.log"), []byte(x.log.String()), 0o600)
	}
	_ = x.close(keep)
	if keep {
		return []string{x.dir}
	}
	return nil
}

// crashed is how one crash run went.
type crashed struct {
	killed                 bool
	applies, done, retried int
	diags                  hcl.Diagnostics
	kept                   string
}

// crashRun runs the case afresh, kills apply at boundary b, then resumes
// it until it ends, answering each step in doubt from the simulator's
// record, and checks the case as for the clean run.
func (r *Runner) crashRun(ctx context.Context, s *Suite, c *Case, ref *reference, b Boundary, i int) (it crashed) {
	fail := func(summary, detail string) crashed {
		it.diags = append(it.diags, c.failure(summary, fmt.Sprintf("Killed once %s: %s", b, detail)))
		return it
	}
	x, err := r.newRun(s, c, fmt.Sprintf("crash%d", i))
	if err != nil {
		return fail("Cannot start the simulator", err.Error())
	}
	ok := false
	defer func() {
		if k := x.end(ok, r.Keep); len(k) > 0 {
			it.kept = k[0]
		}
		it.applies, it.done, it.retried = x.applies, x.done, x.retried
	}()
	a, err := x.apply(ctx, &b)
	if err != nil {
		return fail("Cannot run apply", err.Error())
	}
	x.note(a)
	it.killed = a.killed
	if a.killed {
		x.kills++
	}
	for round := 0; a.killed || a.code == 3; round++ {
		if round == maxResumes {
			return fail("The run does not end", fmt.Sprintf("apply was resumed %d times and still pauses.", maxResumes))
		}
		st, jobs, err := Quiet(ctx, x.srv, time.Minute)
		if err != nil {
			return fail("The simulator does not settle", err.Error())
		}
		if !a.killed {
			var doubts []event
			for _, e := range a.events {
				if e.Type == "in_doubt" {
					doubts = append(doubts, e)
				}
			}
			if len(doubts) == 0 {
				return fail("The run paused", "apply paused with no step in doubt: a gate waits for an approval.\n"+lastLines(a.stderr, 10))
			}
			shown, err := x.showSteps(ctx)
			if err != nil {
				return fail("Cannot read the run", err.Error())
			}
			for _, e := range doubts {
				d := Doubt{Addr: e.Address, Kind: e.Kind, Target: e.Target}
				for _, s := range shown {
					if s.Address == e.Address {
						d.Intent = s.Started
					}
				}
				if p, ok := ref.jobs[e.Address]; ok {
					d.Job = &p
				}
				acted, _, err := Acted(x.before, st, jobs, d)
				if err != nil {
					return fail("Cannot resolve a step in doubt", err.Error())
				}
				if err := x.resolve(ctx, e.Address, acted); err != nil {
					return fail("Cannot resolve a step in doubt", err.Error())
				}
				if acted {
					x.done++
				} else {
					x.retried++
				}
			}
		}
		if a, err = x.apply(ctx, nil); err != nil {
			return fail("Cannot run apply", err.Error())
		}
		x.note(a)
	}
	_, _, _, diags, err := x.finish(ctx, a)
	if err != nil {
		return fail("Cannot read the run", err.Error())
	}
	for _, d := range diags {
		k := *d
		k.Summary = fmt.Sprintf("%s (killed once %s)", d.Summary, b)
		it.diags = append(it.diags, &k)
	}
	ok = !diags.HasErrors()
	return it
}

func sortedInts[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
