package etcd

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
)

// attr returns the named attribute of an argument object, or a null value
// when the object or the attribute is absent, so callers never panic on a
// partially known or hand-built argument value.
func attr(obj cty.Value, name string) cty.Value {
	if obj == cty.NilVal || obj.IsNull() {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	ty := obj.Type()
	if ty == cty.DynamicPseudoType {
		return cty.DynamicVal
	}
	if !ty.IsObjectType() || !ty.HasAttribute(name) {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return obj.GetAttr(name)
}

// known reports whether v is wholly known and not null.
func known(v cty.Value) bool { return v.IsWhollyKnown() && !v.IsNull() }

// str returns the string inside v, stripped of marks. ok is false when v is
// null or not yet known.
func str(v cty.Value) (s string, ok bool) {
	if !known(v) {
		return "", false
	}
	v, _ = v.UnmarkDeep()
	if v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// boolean returns the bool inside v, or def when v is null. ok is false when
// v is not yet known.
func boolean(v cty.Value, def bool) (b bool, ok bool) {
	if !v.IsWhollyKnown() {
		return def, false
	}
	if v.IsNull() {
		return def, true
	}
	v, _ = v.UnmarkDeep()
	if v.Type() != cty.Bool {
		return def, false
	}
	return v.True(), true
}

// strList returns the strings of a known list of strings; null elements are
// reported as not ok.
func strList(v cty.Value) (out []string, ok bool) {
	if !known(v) {
		return nil, false
	}
	v, _ = v.UnmarkDeep()
	if !v.CanIterateElements() {
		return nil, false
	}
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if ev.IsNull() || ev.Type() != cty.String {
			return nil, false
		}
		out = append(out, ev.AsString())
	}
	return out, true
}

// sensitive reports whether v carries the sensitive mark anywhere.
func sensitive(v cty.Value) bool { return v != cty.NilVal && marks.IsSensitive(v) }

func errorf(summary, format string, a ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, a...)}
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
