package ganeti

import (
	"fmt"
	"github.com/rokflow/rokflow/steps"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
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

func errorf(summary, format string, a ...any) *hcl.Diagnostic {
	return steps.Errorf(summary, format, a...)
}

func warnf(summary, format string, a ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, a...)}
}
