package etcd

import (
	"github.com/rokflow/rokflow/steps"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
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

func errorf(summary, format string, a ...any) *hcl.Diagnostic {
	return steps.Errorf(summary, format, a...)
}

// afterRun is the plan text for a value that only a run can tell.
const afterRun = "known after run"

// elements returns the elements of a known collection, each carrying the
// collection's own marks, so a sensitive list yields sensitive elements.
// It returns nil for a null or unknown collection.
func elements(v cty.Value) []cty.Value {
	if !v.IsKnown() || v.IsNull() {
		return nil
	}
	v, m := v.Unmark()
	if !v.CanIterateElements() {
		return nil
	}
	var out []cty.Value
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		out = append(out, ev.WithMarks(m))
	}
	return out
}
