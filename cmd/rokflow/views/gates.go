package views

import (
	"fmt"
	"strings"
	"time"

	"github.com/rokflow/rokflow/runtime"
)

// gateLine renders a gate's events for people: it waits (with its
// instructions, the approvals it has and needs, its deadline), one
// approval came (who, and how), and how the wait ended. The text follows
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
		text := ev.Instructions
		if text == "" {
			text = ev.Summary
		}
		for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
			fmt.Fprintf(&b, "\n             %s", l)
		}
		return b.String(), true
	case runtime.EventGateApproval:
		line := fmt.Sprintf("  %s %s approved by %s (%s)", c.green("+"), ev.Addr, ev.By, howText(ev.How))
		if ev.Needed > 1 {
			line += fmt.Sprintf(": %d of %d", ev.Approvals, ev.Needed)
		}
		return line, true
	case runtime.EventGateEnd:
		switch ev.Status {
		case runtime.GateApproved:
			return fmt.Sprintf("  %s %s %s", c.green("✓"), ev.Addr, c.green(ev.Summary)), true
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
