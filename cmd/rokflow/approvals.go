package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/addrs"
)

// patternHelp is what approve, apply --approve and state show say of the
// address patterns they take (addrs.Pattern owns the grammar).
const patternHelp = `* matches any text, dots, brackets and quotes included; nothing else is special. So step.gate[*] is every element of step.gate, and group.slaves["rok2.prod"].* every gate of that element.`

// parsePatterns checks the address patterns given on the command line,
// all of them, before anything is done.
func parsePatterns(texts []string) ([]addrs.Pattern, error) {
	patterns := make([]addrs.Pattern, 0, len(texts))
	var bad []string
	for _, t := range texts {
		p, err := addrs.ParsePattern(t)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		patterns = append(patterns, p)
	}
	if len(bad) > 0 {
		return nil, usageError("%s", strings.Join(bad, "\nrokflow: "))
	}
	return patterns, nil
}

// matchGates matches approval patterns against the gates of the playbook
// (seen: the addresses its run journaled, for concrete element keys), and
// reports any pattern that matches no gate: an approval names gates that
// exist.
func (a *App) matchGates(pb *lang.Playbook, files map[string]*hcl.File, patterns []addrs.Pattern, seen []string) ([]runtime.GateMatch, error) {
	gates, diags := runtime.GateAddresses(pb, a.Registry, seen)
	if diags.HasErrors() {
		return nil, a.report(files, diags)
	}
	matches, diags := runtime.MatchGates(gates, patterns)
	if err := a.report(files, diags); err != nil {
		return nil, err
	}
	return matches, nil
}

// printMatches says what each pattern matched, unless it is the exact
// address of the one gate it matched.
func printMatches(w io.Writer, m runtime.GateMatch) {
	if len(m.Gates) == 1 && m.Gates[0] == m.Pattern.String() && !addrs.IsTemplate(m.Gates[0]) {
		return
	}
	fmt.Fprintf(w, "%s matches:\n", m.Pattern)
	for _, g := range m.Gates {
		switch {
		case !addrs.IsTemplate(g):
			fmt.Fprintf(w, "  %s\n", g)
		case m.Pattern.Match(g):
			fmt.Fprintf(w, "  %s  (every element)\n", g)
		default:
			fmt.Fprintf(w, "  %s  (each element the pattern selects)\n", g)
		}
	}
}
