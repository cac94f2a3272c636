package pkg

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
)

// eachKnown calls f on every known element of a list of strings, with the
// raw string and how it may be shown, and collects its diagnostics. Null
// elements are reported.
func eachKnown(list cty.Value, f func(raw, shown string) *hcl.Diagnostic) hcl.Diagnostics {
	l, ok := steps.KnownValue(list)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	for it := l.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if !ev.IsKnown() {
			continue
		}
		if ev.IsNull() {
			diags = append(diags, steps.Error("Null element", "Every element of the list must be a string."))
			continue
		}
		raw, _ := ev.Unmark()
		if d := f(raw.AsString(), steps.Quoted(ev)); d != nil {
			diags = append(diags, d)
		}
	}
	return diags
}

// stringsOf returns the elements of a known, unmarked list of strings; null
// gives none.
func stringsOf(v cty.Value) []string {
	if v.IsNull() {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		out = append(out, ev.AsString())
	}
	return out
}

// excerpt returns the last lines of an output to explain a failure.
func excerpt(out []byte) string {
	text := strings.TrimRight(strings.ToValidUTF8(string(out), "\uFFFD"), "\n")
	if strings.TrimSpace(text) == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return fmt.Sprintf(" Last lines of its output:\n%s\n", strings.Join(lines, "\n"))
}
