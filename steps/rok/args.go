package rok

import (
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
)

// secretsOf returns the plain strings of the sensitive arguments among vs.
func secretsOf(vs ...cty.Value) []string {
	var out []string
	for _, v := range vs {
		if steps.Sensitive(v) {
			if s, ok := steps.Str(v); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// afterRun is the plan text for a value that only a run can tell.
const afterRun = "known after run"

// displayKV renders "key=value" for an argv element whose parts may be
// unknown or sensitive; the key stays readable when only the value is secret.
func displayKV(key, value cty.Value) string {
	return steps.Display(key) + "=" + steps.Display(value)
}

// tail returns at most n last lines of text, trimmed, for diagnostics.
func tail(text string, n int) string {
	text = strings.TrimRight(text, "\n")
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
