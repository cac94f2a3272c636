package ganeti

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
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

func errorf(summary, format string, a ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, a...)}
}

func warnf(summary, format string, a ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, a...)}
}
