package sim

import (
	"fmt"
	"sort"
	"strings"
)

// Operator actions of the control API.
const (
	ActionSwap        = "swap"
	ActionPowerOff    = "power-off"
	ActionPowerOn     = "power-on"
	ActionReplaceDisk = "replace-disk"
	ActionRepair      = "repair"
)

// OperatorRequest asks the field operator to act.
type OperatorRequest struct {
	// Action is one of ActionSwap, ActionPowerOff, ActionPowerOn,
	// ActionReplaceDisk, ActionRepair (clear a cluster error).
	Action string `json:"action"`
	// Node is the member name (not needed for repair).
	Node string `json:"node,omitempty"`
	// Version is the rok-base version of the new BOOT disk; by default the
	// BOOT disk of the lowest upgrade target of a series newer than the
	// node's BOOT disk.
	Version string `json:"version,omitempty"`
	// Wait makes a swap happen at once instead of with the operator's
	// delays; the request returns when it is done.
	Wait bool `json:"wait,omitempty"`
}

// String says what the faults are, for a person: "none" when there is none.
func (f Faults) String() string {
	var parts []string
	if len(f.FailUpgradeNode) > 0 {
		parts = append(parts, "upgrade-node fails on "+strings.Join(f.FailUpgradeNode, ", "))
	}
	slow := make([]string, 0, len(f.Slow))
	for n := range f.Slow {
		slow = append(slow, n)
	}
	sort.Strings(slow)
	for _, n := range slow {
		parts = append(parts, fmt.Sprintf("%s slow by %s", n, f.Slow[n].D()))
	}
	for _, j := range f.FailJobs {
		what := j.Op
		if j.Target != "" {
			what += " of " + j.Target
		}
		if j.Times > 0 {
			what += fmt.Sprintf(" (%d more times)", j.Times)
		}
		parts = append(parts, "Ganeti job fails: "+what)
	}
	if len(f.NoPowerOn) > 0 {
		parts = append(parts, "no power-on for "+strings.Join(f.NoPowerOn, ", "))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}
