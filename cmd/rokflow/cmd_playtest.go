package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/rokflow/rokflow/cmd/rokflow/playtest"
	"github.com/rokflow/rokflow/cmd/rokflow/views"
)

// TestCmd runs a playbook's tests (tests/*.rftest.hcl) against simulated
// clusters. (The file is not cmd_test.go: that name is Go's for a test.)
type TestCmd struct {
	Path     string `arg:"" help:"Playbook directory; its tests/*.rftest.hcl (and *.rftest.hcl beside it) are run."`
	Only     string `name:"run" help:"Run only the cases whose name matches this regular expression." placeholder:"REGEXP"`
	Crash    bool   `help:"Also, for every step boundary of every case, run the case again, SIGKILL apply there, resume it (resolving steps in doubt from the simulator's record) and check the same outcome."`
	Parallel int    `help:"How many runs go side by side (default: one per CPU, at most 8)."`
	Keep     bool   `help:"Keep the directory of every failed run (the simulator's state and events, the journal) and say where."`
	JSON     bool   `help:"Print the results as one JSON document." name:"json"`
}

// Run runs the tests; it fails unless every case passes.
func (c *TestCmd) Run(a *App) error {
	if c.Parallel < 0 {
		return usageError("--parallel must be at least 1")
	}
	var only *regexp.Regexp
	if c.Only != "" {
		re, err := regexp.Compile(c.Only)
		if err != nil {
			return usageError("--run: %s", err)
		}
		only = re
	}
	suite, diags := playtest.Load(c.Path)
	if err := a.report(suite.Files, diags); err != nil {
		return err
	}
	cases := suite.Cases
	if only != nil {
		cases = nil
		var names []string
		for _, tc := range suite.Cases {
			names = append(names, tc.Name)
			if only.MatchString(tc.Name) {
				cases = append(cases, tc)
			}
		}
		if len(cases) == 0 {
			return &exitError{code: exitFailed, msg: fmt.Sprintf("--run %s matches no case; the cases are: %s", c.Only, strings.Join(names, ", "))}
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("cannot find the rokflow binary to run apply with: %s", err)}
	}
	parallel := c.Parallel
	if parallel == 0 {
		parallel = playtest.DefaultParallel()
	}
	report := views.NewTestReport(a.Streams, a.ErrColor, suite.Files, c.JSON, c.Crash)
	r := &playtest.Runner{
		Exe:      exe,
		Env:      a.Environ(),
		Parallel: parallel,
		Crash:    c.Crash,
		Registry: a.Registry,
		Hook:     report,
		Keep:     c.Keep,
		Stop:     a.Stop,
	}
	start := time.Now()
	report.Begin(suite.Playbook.DisplayDir, cases, parallel)
	results := r.Run(a.Ctx, suite, cases)
	if !report.End(suite.Playbook.DisplayDir, results, time.Since(start)) {
		return failed
	}
	return nil
}
