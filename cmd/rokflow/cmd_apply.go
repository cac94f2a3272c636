package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/mattn/go-isatty"

	"github.com/rokflow/rokflow/cmd/rokflow/views"
	"github.com/rokflow/rokflow/internal/posixsh"
	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/runtime/state"
)

// ApplyCmd runs a playbook, or exactly a saved plan.
type ApplyCmd struct {
	Path string `arg:"" help:"Playbook directory or .hcl file, or a plan file saved by plan --out; or a directory of playbooks (a catalogue) with --to."`
	To   string `help:"With a catalogue: the release to reach; the playbooks from the cluster's discovered release run one after another, resumably." placeholder:"RELEASE"`
	InputFlags
	StateFlags
	AutoApprove bool          `help:"Pass every gate that has no completion check, recording the approval; a gate that refuses self-approval (approvals > 1 by default) is not passed by it." name:"auto-approve"`
	WaitGates   time.Duration `help:"Without a terminal to ask on: wait this long at a gate for approvals given with rokflow approve before pausing there (exit 3). A gate with a timeout waits for it in any case." name:"wait-gates" placeholder:"DURATION"`
	Approve     []string      `help:"Approve gates by address or pattern before they are reached (repeatable; each must match a gate of the playbook). ${pattern_help}" placeholder:"ADDRESS" sep:"none"`
	Parallelism int           `help:"How many steps may run at once." default:"10"`
	NewRun      bool          `help:"Start a new run instead of resuming or reporting the last one." name:"new-run"`
	Abandon     bool          `help:"With --new-run: begin although the last run left steps in doubt or undos owed (apply lists them first)."`
	JSON        bool          `help:"Print events as JSON lines (see docs/events-json.md)." name:"json"`
	Verbose     bool          `help:"Show the output lines of every step." short:"V"`
	Yes         bool          `help:"Do not ask before the first change (apply asks only on a terminal, never with --json)." short:"y"`
}

// Run applies the playbook.
func (c *ApplyCmd) Run(a *App) error {
	if c.Parallelism < 1 {
		return usageError("--parallelism must be at least 1")
	}
	if chained, err := chainMode(c.Path, c.To); err != nil || chained {
		if err != nil {
			return err
		}
		return c.applyChain(a)
	}
	path, saved, err := c.planFile()
	if err != nil {
		return err
	}
	approve, err := parsePatterns(c.Approve)
	if err != nil {
		return err
	}
	l, err := a.loadForApply(path, c.InputFlags, saved)
	if err != nil {
		return err
	}
	if len(approve) > 0 {
		if _, err := a.matchGates(l.pb, l.files, approve, nil); err != nil {
			return err
		}
	}
	hash := runtime.Hash(l.pb, l.inputs)
	if saved != nil && saved.Hash != hash {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("the plan in %s was made for another version of the playbook or other inputs (plan %s, now %s); make a new plan", c.Path, short(saved.Hash), short(hash))}
	}
	ctx := a.Ctx
	backend, err := a.backend(ctx, c.StateFlags, l.pb.Dir)
	if err != nil {
		return err
	}
	defer backend.Close()
	h := holder("apply " + l.pb.Meta.Name)
	sess, err := c.lock(a, backend, h, path)
	if err != nil {
		return err
	}
	defer sess.Unlock(context.WithoutCancel(ctx))
	// Hints name the playbook, also when the operator gave a plan file.
	return c.applyLoaded(a, l, path, hash, saved, approve, backend, sess, h)
}

// lock takes the run lock of backend for h; path names the playbook in
// the hint of a lock held.
func (c *ApplyCmd) lock(a *App, backend state.Backend, h state.Holder, path string) (state.Session, error) {
	sess, err := backend.Lock(a.Ctx, h)
	if err != nil {
		var le *state.LockedError
		if errors.As(err, &le) {
			return nil, &exitError{code: exitFailed, msg: fmt.Sprintf("%s; wait for it, or if it is gone for good run: rokflow unlock%s %s", le.Error(), c.StateFlags.hint(), posixsh.Word(path))}
		}
		return nil, &exitError{code: exitFailed, msg: fmt.Sprintf("cannot take the run lock: %s", err)}
	}
	return sess, nil
}

// applyLoaded applies one loaded playbook (path, as the operator names it
// in hints) under a lock already held.
func (c *ApplyCmd) applyLoaded(a *App, l *loaded, path, hash string, saved *savedPlan, approve []addrs.Pattern, backend state.Backend, sess state.Session, h state.Holder) error {
	ctx := a.Ctx
	if !c.JSON && !c.Yes && a.interactive() {
		if err := c.confirmPlan(a, l, backend); err != nil {
			return err
		}
	}
	var hook runtime.Hook
	if c.JSON {
		hook = views.NewJSONEvents(a.Stdout)
	} else {
		pv := views.NewProgress(a.Stdout, a.Streams.Color)
		pv.Verbose = c.Verbose
		st := a.newStatus(pv, c.StateFlags, path)
		st.Prompting = a.interactive()
		st.Start()
		defer st.Close()
		a.status = st
		defer func() { a.status = nil }()
		hook = st
	}
	opts := runtime.ApplyOptions{
		Plan:        runtime.Options{Inputs: l.inputs, Hosts: a.hosts(), Version: Version},
		Parallelism: c.Parallelism,
		Backend:     backend,
		Session:     sess,
		Holder:      h,
		PlanHash:    hash,
		NewRun:      c.NewRun,
		Abandon:     c.Abandon,
		AutoApprove: c.AutoApprove,
		Approve:     approve,
		WaitGates:   c.WaitGates,
		Identity:    identity(backend, h),
		Stop:        a.Stop,
		Hook:        hook,
	}
	if saved != nil {
		opts.Facts = saved.Facts
	}
	if !c.JSON && a.interactive() {
		opts.Prompt = func(ctx context.Context, g runtime.Gate) (bool, error) {
			defer a.suspendStatus()()
			return a.promptGate(ctx, g)
		}
	}
	res, diags := runtime.Apply(ctx, l.pb, a.Registry, opts)
	if st, ok := a.status.(*views.Status); ok {
		// What apply says next starts below the run's lines.
		st.Close()
	}
	if err := a.report(l.files, diags); err != nil && res == nil {
		return err
	}
	if res == nil {
		return failed
	}
	switch res.Status {
	case runtime.RunSucceeded:
		return nil
	case runtime.RunAlreadyDone:
		fmt.Fprintf(c.say(a), "The last run (%s) finished; nothing to do. Use --new-run to start over.\n", res.Run)
		return nil
	case runtime.RunPaused:
		if !c.JSON {
			for _, g := range res.Gates {
				approve := fmt.Sprintf("rokflow approve%s %s %s", c.StateFlags.hint(), posixsh.Word(path), posixsh.Word(g.Addr))
				switch {
				case g.Needed > 1 && !g.SelfAllowed:
					fmt.Fprintf(a.Stdout, "Paused at the gate %s: it needs %d approvals from people other than %s (%d given). Each of them runs: %s\n", g.Addr, g.Needed, g.Self, g.Approvals, approve)
				case g.Needed > 1:
					fmt.Fprintf(a.Stdout, "Paused at the gate %s: it needs %d approvals from distinct people (%d given). Each of them runs: %s\n", g.Addr, g.Needed, g.Approvals, approve)
				case !g.SelfAllowed:
					fmt.Fprintf(a.Stdout, "Paused at the gate %s: someone other than %s approves it with: %s\n", g.Addr, g.Self, approve)
				default:
					fmt.Fprintf(a.Stdout, "Paused at the gate %s. Approve it with: %s  (or apply --approve)\n", g.Addr, approve)
				}
			}
			for _, d := range res.InDoubt {
				fmt.Fprintf(a.Stdout, "%s is in doubt: check whether it acted, then answer: rokflow resolve%s %s %s --done|--retry\n", d, c.StateFlags.hint(), posixsh.Word(path), posixsh.Word(d))
			}
		}
		return &exitError{code: exitPaused}
	case runtime.RunStopped:
		return &exitError{code: exitInterrupted, msg: "stopped by an interrupt; run apply again to resume"}
	default:
		return &exitError{code: exitFailed, msg: fmt.Sprintf("the run failed; see rokflow state show%s %s", c.StateFlags.hint(), posixsh.Word(path))}
	}
}

// confirmPlan shows the operator, on a terminal, what the run will do
// (read-only steps run to make it concrete, as plan --discover does) and
// asks before anything changes. A resumed run asks again, saying what is
// done already: the cluster may have moved since it stopped. A last run
// that finished is not asked about: apply only says so. --yes skips it
// for scripts.
func (c *ApplyCmd) confirmPlan(a *App, l *loaded, backend state.Backend) error {
	var last *state.Run
	if !c.NewRun {
		if recs, err := backend.Records(a.Ctx); err == nil {
			last = state.Fold(recs).Last()
		}
		if last != nil && !last.Resumable() {
			return nil // the run says there is nothing to do
		}
	}
	p, diags := runtime.Plan(a.Ctx, l.pb, a.Registry, runtime.Options{Inputs: l.inputs, Discover: true, Hosts: a.hosts(), Version: Version})
	if err := a.report(l.files, diags); err != nil || p == nil {
		if err == nil {
			err = failed
		}
		return err
	}
	views.PlanBrief(a.Stdout, p, a.Streams.Color)
	if last != nil {
		done := last.Counts()[string(state.Succeeded)]
		why := "it did not end"
		if last.Ended != "" {
			why = "it " + string(last.Ended)
		}
		steps := fmt.Sprintf("%d steps it finished do", done)
		if done == 1 {
			steps = "the step it finished does"
		}
		fmt.Fprintf(a.Stdout, "  Resumes run %s (%s): %s not run again.\n", last.ID, why, steps)
	}
	ok, err := a.confirm(a.Ctx, "\nApply these changes? [y/N] ")
	switch {
	case errors.Is(err, errInterrupted) || errors.Is(err, context.Canceled):
		return &exitError{code: exitInterrupted, msg: "interrupted: nothing was changed"}
	case errors.Is(err, io.EOF):
		return &exitError{code: exitFailed, msg: "no answer: nothing was changed (apply --yes does not ask)"}
	case err != nil:
		return &exitError{code: exitFailed, msg: err.Error()}
	case !ok:
		return &exitError{code: exitFailed, msg: "not applied: nothing was changed"}
	}
	return nil
}

// say is where apply's sentences go: stdout, unless it carries JSON lines
// (--json), which nothing else may interrupt.
func (c *ApplyCmd) say(a *App) io.Writer {
	if c.JSON {
		return a.Stderr
	}
	return a.Stdout
}

func short(h string) string {
	h = strings.TrimPrefix(h, "sha256:")
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// planFile tells a saved plan from a playbook path.
func (c *ApplyCmd) planFile() (string, *savedPlan, error) {
	info, err := os.Stat(c.Path)
	if err != nil || info.IsDir() || strings.HasSuffix(c.Path, ".hcl") || strings.HasSuffix(c.Path, ".hcl.json") {
		return c.Path, nil, nil
	}
	p, err := runtime.LoadPlan(c.Path)
	if err != nil {
		return "", nil, &exitError{code: exitFailed, msg: err.Error()}
	}
	if p.Playbook.Dir == "" {
		return "", nil, &exitError{code: exitFailed, msg: c.Path + " does not name its playbook directory"}
	}
	vars := map[string]json.RawMessage{}
	for name, v := range p.Variables {
		if !v.Sensitive && !v.Unknown {
			vars[name] = v.JSON
		}
	}
	return p.Playbook.Dir, &savedPlan{Hash: p.Hash, Vars: vars, Facts: p.Facts}, nil
}

// savedPlan is what apply takes from a plan file: its hash and the values
// of its non-sensitive inputs (sensitive ones are given again).
type savedPlan struct {
	Hash  string
	Vars  map[string]json.RawMessage
	Facts map[string]json.RawMessage
}

// loadForApply loads the playbook and its inputs; for a saved plan, the
// plan's non-sensitive inputs come first and the environment, files and
// flags may add the sensitive ones.
func (a *App) loadForApply(path string, in InputFlags, saved *savedPlan) (*loaded, error) {
	if saved == nil {
		return a.load(path, in, false)
	}
	pb, diags := lang.Load(path)
	if diags.HasErrors() {
		return nil, a.report(pb.Files, diags)
	}
	raw := lang.NewInputSet()
	p := hclparse.NewParser()
	for name, js := range saved.Vars {
		f, ds := p.ParseJSON([]byte(`{"v":`+string(js)+`}`), "plan:"+name)
		if ds.HasErrors() {
			continue
		}
		attrs, _ := f.Body.JustAttributes()
		raw.Values[name] = lang.RawInput{Expr: attrs["v"].Expr, Source: "the saved plan"}
	}
	raw.AddEnv(a.Environ())
	for _, f := range in.VarFile {
		diags = append(diags, raw.AddFile(f, p)...)
	}
	for _, v := range in.Var {
		diags = append(diags, raw.AddFlag(v)...)
	}
	files := map[string]*hcl.File{}
	for n, f := range pb.Files {
		files[n] = f
	}
	if diags.HasErrors() {
		return nil, a.report(files, diags)
	}
	vals, ds := lang.BindInputs(pb.Root, raw, false)
	if err := a.report(files, ds); err != nil {
		return nil, err
	}
	return &loaded{pb: pb, inputs: vals, raw: raw, files: files}, nil
}

// interactive reports whether an operator can answer on the terminal.
func (a *App) interactive() bool {
	in, ok := a.Stdin.(*os.File)
	if !ok {
		return false
	}
	out, ok := a.Stdout.(*os.File)
	return ok && isatty.IsTerminal(in.Fd()) && isatty.IsTerminal(out.Fd())
}
