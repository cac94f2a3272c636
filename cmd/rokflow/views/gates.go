package views

import (
	"fmt"
	"strings"
	"time"

	"github.com/rokflow/rokflow/runtime"
)

// gateLine renders a gate's events for people: it waits (with its
// instructions, the approvals it has and needs, its deadline), one
// approval of several came (who, and how), and how the wait ended (who
// approved, and how). The text follows
// the time column; lines after the first are indented under it. It
// reports false for other events.
func gateLine(c palette, ev runtime.Event) (string, bool) {
	switch ev.Type {
	case runtime.EventGateWait:
		var b strings.Builder
		fmt.Fprintf(&b, "  %s %s waits for an approval", c.magenta("⏸"), ev.Addr)
		if ev.Needed > 1 {
			fmt.Fprintf(&b, " (%d of %d)", ev.Approvals, ev.Needed)
		}
		if !ev.Deadline.IsZero() {
			fmt.Fprintf(&b, ", until %s", ev.Deadline.Local().Format(time.TimeOnly))
		}
		for _, l := range strings.Split(strings.TrimSpace(gateInstructions(ev)), "\n") {
			fmt.Fprintf(&b, "\n             %s", l)
		}
		return b.String(), true
	case runtime.EventGateApproval:
		// One approval of several is news; the only one is told by the
		// gate's end.
		if ev.Needed <= 1 {
			return "", false
		}
		return fmt.Sprintf("  %s %s approved by %s (%s): %d of %d", c.green("+"), ev.Addr, ev.By, howText(ev.How), ev.Approvals, ev.Needed), true
	case runtime.EventGateEnd:
		switch {
		case ev.Status == runtime.GateApproved && ev.How == runtime.HowCheck:
			return fmt.Sprintf("  %s %s completed by its check; the run continues", c.green("✓"), ev.Addr), true
		case ev.Status == runtime.GateApproved && ev.Needed > 1:
			// Each approval was told with its own way (gate_approval);
			// the last one's is not the others'.
			return fmt.Sprintf("  %s %s approved by %s; the run continues", c.green("✓"), ev.Addr, ev.By), true
		case ev.Status == runtime.GateApproved:
			return fmt.Sprintf("  %s %s approved by %s (%s); the run continues", c.green("✓"), ev.Addr, ev.By, howText(ev.How)), true
		}
		switch ev.Status {
		case runtime.GateInterrupted:
			return fmt.Sprintf("  %s %s %s", c.yellow("⏸"), ev.Addr, c.yellow(ev.Summary)), true
		default:
			return fmt.Sprintf("  %s %s %s", c.red("✗"), ev.Addr, c.red(ev.Summary)), true
		}
	}
	return "", false
}

// howText says how an approval was given, as the operator knows it.
func howText(how string) string {
	switch how {
	case runtime.HowPrompt:
		return "at the prompt"
	case runtime.HowAutoApprove:
		return "--auto-approve"
	case runtime.HowApproveFlag:
		return "apply --approve"
	case runtime.HowApprove:
		return "rokflow approve"
	case runtime.HowCheck:
		return "its check"
	}
	return how
}
