package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/cmd/rokflow/views"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/builtin"
	"github.com/rokflow/rokflow/steps/transport/connect"
)

// Exit codes, the contract of DESIGN §8.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
	exitPaused = 3
	// exitInterrupted: an interrupt (Ctrl-C, SIGTERM) stopped the run,
	// 128+SIGINT as shells report it; apply again resumes.
	exitInterrupted = 130
)

// Env is what a command may touch of the outside world, injected so
// commands are testable.
type Env struct {
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Getenv  func(string) string
	Environ func() []string
}

// App is bound into every command's Run.
type App struct {
	Env
	Streams  views.Streams
	Registry *steps.Registry
	Ctx      context.Context
	// ErrColor says whether diagnostics on stderr may be colored.
	ErrColor bool
	// Stop is closed at the first interrupt (start nothing new); Ctx is
	// cancelled at the second (cancel what runs).
	Stop     <-chan struct{}
	promptMu sync.Mutex
	resolver *connect.Resolver
	// lines reads the operator's answers (prompt.go).
	lines lineReader
	// asked is when the question being asked was shown (prompt.go).
	asked time.Time
	// status is the live status area of apply on a terminal, or nil.
	status statusArea
	// diags, when set, collects the diagnostics report would print
	// (validate --json puts them in its document).
	diags *hcl.Diagnostics
}

// CLI is the command line.
type CLI struct {
	NoColor     bool             `help:"Never color output (NO_COLOR in the environment does the same)." name:"no-color"`
	Chdir       string           `help:"Switch to DIR before anything else, as if rokflow were started there (also -chdir=DIR)." placeholder:"DIR"`
	ShowVersion kong.VersionFlag `help:"Print rokflow's version." name:"version"`

	Validate ValidateCmd `cmd:"" help:"Check a playbook: syntax, references, kinds, arguments, cycles."`
	Plan     PlanCmd     `cmd:"" help:"Show what a run would do, step by step and node by node."`
	Graph    GraphCmd    `cmd:"" help:"Draw the step instance graph, in Graphviz DOT or as a Mermaid flowchart."`
	Fmt      FmtCmd      `cmd:"" help:"Rewrite playbook files in canonical HCL style."`
	Modules  ModulesCmd  `cmd:"" help:"Fetch module sources that are git repositories, and pin them in rokflow.lock.hcl."`
	Apply    ApplyCmd    `cmd:"" help:"Run a playbook (or a saved plan): journaled, resumable, gated."`
	Approve  ApproveCmd  `cmd:"" help:"Approve a gate of a run, from any terminal or machine sharing its state."`
	Resolve  ResolveCmd  `cmd:"" help:"Decide a step left in doubt by a crash: --done or --retry."`
	State    StateCmd    `cmd:"" help:"Show runs and the state of their steps."`
	Unlock   UnlockCmd   `cmd:"" help:"Break a run lock whose holder is gone."`
	Steps    StepsCmd    `cmd:"" help:"List step kinds, or document one."`
	Sim      SimCmd      `cmd:"" help:"Run a simulated Rok cluster to plan and apply playbooks against."`
	Test     TestCmd     `cmd:"" help:"Run a playbook's tests: cases against simulated clusters, with --crash killed and resumed at every step."`
	Version  VersionCmd  `cmd:"" help:"Print rokflow's version."`

	Completion CompletionCmd `cmd:"" help:"Print a shell completion script: bash, zsh or fish."`
	Help       HelpCmd       `cmd:"" help:"Show the help of a command, as COMMAND --help does."`
}

// exitError carries an exit code out of a command; its message, if any,
// has not been printed yet.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// failed is returned by commands that already reported why.
var failed = &exitError{code: exitFailed}

// Main runs rokflow with the given arguments and returns the exit code. A
// bug that panics is reported as one line, not a Go stack trace, so that
// an operator mid-upgrade sees what failed and nothing else.
func Main(args []string, env Env) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(env.Stderr, "rokflow: internal error: %v\nThis is a bug in rokflow; please report it with the command you ran.\n", r)
			if env.Getenv != nil && env.Getenv("ROKFLOW_TRACEBACK") != "" {
				if ps, ok := r.(interface{ PanicStack() []byte }); ok {
					env.Stderr.Write(ps.PanicStack())
				}
				env.Stderr.Write(debug.Stack())
			}
			code = exitFailed
		}
	}()
	resolveVersion()
	if len(args) > 0 && args[0] == completeCommand {
		parser, _, err := newParser(nil, env, new(int))
		if err != nil {
			fmt.Fprintf(env.Stderr, "rokflow: %s\n", err)
			return exitFailed
		}
		return complete(parser.Model, args[1:], env)
	}
	args, _, err := chdir(args)
	if err != nil {
		fmt.Fprintf(env.Stderr, "rokflow: %s\n", err)
		return exitUsage
	}
	exitCode := -1
	parser, globals, err := newParser(args, env, &exitCode)
	if err != nil {
		fmt.Fprintf(env.Stderr, "rokflow: %s\n", err)
		return exitFailed
	}
	kctx, err := parser.Parse(args)
	cli := globals()
	if exitCode >= 0 {
		// --help or --version printed and asked to exit.
		if exitCode != 0 {
			return exitUsage
		}
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "rokflow: %s\n", err)
		var pe *kong.ParseError
		if errors.As(err, &pe) {
			fmt.Fprintln(env.Stderr, "Run \"rokflow --help\" for usage.")
		}
		return exitUsage
	}
	reg, err := builtin.Registry()
	if err != nil {
		fmt.Fprintf(env.Stderr, "rokflow: %s\n", err)
		return exitFailed
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopCh := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		// The first interrupt stops scheduling; the second cancels what
		// runs. SIGTERM (a service manager or kill stopping rokflow) does
		// both at once, as a second Ctrl-C would: whoever sends it will
		// not wait for steps to finish.
		select {
		case sig := <-sigs:
			if sig == syscall.SIGTERM {
				// Cancelled before stopped: the run never offers a
				// second Ctrl-C to whoever sent SIGTERM.
				cancel()
				close(stopCh)
				return
			}
			close(stopCh)
		case <-ctx.Done():
			return
		}
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()
	app := &App{
		Stop:     stopCh,
		Env:      env,
		Registry: reg,
		Ctx:      ctx,
		Streams: views.Streams{
			Out:   env.Stdout,
			Err:   env.Stderr,
			Color: views.WantColor(env.Stdout, cli.NoColor, env.Getenv),
		},
		ErrColor: views.WantColor(env.Stderr, cli.NoColor, env.Getenv),
	}
	endLog, err := app.startLog(kctx.Command())
	if err != nil {
		fmt.Fprintf(env.Stderr, "rokflow: %s\n", err)
		return exitFailed
	}
	defer func() { endLog(code) }()
	err = kctx.Run(app)
	if app.resolver != nil {
		app.resolver.Close()
	}
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(env.Stderr, "rokflow: %s\n", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(env.Stderr, "rokflow: %s\n", err)
	return exitFailed
}

// report prints diagnostics and returns failed when any is an error.
func (a *App) report(files map[string]*hcl.File, diags hcl.Diagnostics) error {
	if a.diags != nil {
		*a.diags = append(*a.diags, diags...)
		if diags.HasErrors() {
			return failed
		}
		return nil
	}
	s := a.Streams
	s.Color = a.ErrColor
	if views.Diagnostics(s, files, diags) > 0 {
		return failed
	}
	return nil
}

// usageError reports a bad combination of options (exit code 2).
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}
