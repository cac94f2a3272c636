package main

import (
	"strings"

	"github.com/alecthomas/kong"
)

// description opens rokflow --help.
const description = `rokflow runs cluster upgrades written as HCL playbooks: validate, plan, then apply, step by step, resumably.

Environment: ROKFLOW_VAR_NAME gives the input NAME; ROKFLOW_LOG=debug (or error, warn, info) writes a debug log to stderr, or appends it to the file ROKFLOW_LOG_PATH; ROKFLOW_NOT_BACK_AFTER (a duration, 2m by default) is how long a gate's check may fail to reach its node before apply's status area says the node has not come back; NO_COLOR turns colors off.`

// HelpCmd explains a command, as COMMAND --help does.
type HelpCmd struct {
	Command []string `arg:"" optional:"" help:"The command to explain, such as: state show." placeholder:"COMMAND"`
}

// Run prints the help of the command named, or rokflow's own.
func (c *HelpCmd) Run(k *kong.Context) error {
	ctx, err := kong.Trace(k.Kong, c.Command)
	if err != nil {
		return usageError("help: %s", err)
	}
	if ctx.Error != nil {
		return usageError("help: no command %q; run \"rokflow help\" for the list", strings.Join(c.Command, " "))
	}
	return ctx.PrintUsage(false)
}
