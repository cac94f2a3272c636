package rok

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/steps"
)

// attr returns the named attribute of an argument object, or a null value
// when the object or the attribute is absent, so callers never panic on a
// partially known or hand-built argument value.
func attr(obj cty.Value, name string) cty.Value { return steps.Attr(obj, name) }

// known reports whether v is wholly known and not null.
func known(v cty.Value) bool { return steps.Known(v) }

// str returns the string inside v, stripped of marks. ok is false when v is
// null or not yet known.
func str(v cty.Value) (string, bool) { return steps.Str(v) }

// boolean returns the bool inside v, or def when v is null. ok is false when
// v is not yet known.
func boolean(v cty.Value, def bool) (bool, bool) { return steps.Bool(v, def) }

// strList returns the strings of a known list of strings; null elements are
// reported as not ok.
func strList(v cty.Value) ([]string, bool) { return steps.StrList(v) }

// sensitive reports whether v carries the sensitive mark anywhere.
func sensitive(v cty.Value) bool { return v != cty.NilVal && marks.IsSensitive(v) }

func redact(text string, secrets []string) string { return steps.Redact(text, secrets) }

// secretsOf returns the plain strings of the sensitive arguments among vs.
func secretsOf(vs ...cty.Value) []string {
	var out []string
	for _, v := range vs {
		if sensitive(v) {
			if s, ok := str(v); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func errorf(summary, format string, a ...any) *hcl.Diagnostic {
	return steps.Errorf(summary, format, a...)
}

func warnf(summary, format string, a ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, a...)}
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
