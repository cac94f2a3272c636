package steps

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
)

// Helpers for kinds reading their argument objects. They never panic on a
// partially known or hand-built value, and strip marks from what they
// return: a kind must keep track itself of which values were sensitive.

// Attr returns the named attribute of an argument object, or a null value
// when the object or the attribute is absent.
func Attr(obj cty.Value, name string) cty.Value {
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

// Known reports whether v is wholly known and not null.
func Known(v cty.Value) bool { return v.IsWhollyKnown() && !v.IsNull() }

// KnownValue returns v without its own marks, and true, when v is known
// and not null; its elements may still be unknown or marked. It is for a
// kind that checks a value before it looks inside.
func KnownValue(v cty.Value) (cty.Value, bool) {
	if !v.IsKnown() || v.IsNull() {
		return cty.NilVal, false
	}
	v, _ = v.Unmark()
	return v, true
}

// Sensitive reports whether v carries the sensitive mark anywhere.
func Sensitive(v cty.Value) bool { return v != cty.NilVal && marks.IsSensitive(v) }

// Quoted shows a string value in a message: Go-quoted when it is known and
// may be shown, otherwise as Display shows it ("(sensitive)", "(known after
// apply)").
func Quoted(v cty.Value) string {
	if s, ok := KnownValue(v); ok && !v.HasMark(marks.Sensitive) {
		return strconv.Quote(s.AsString())
	}
	return Display(v)
}

// Str returns the string inside v, stripped of marks. ok is false when v is
// null, not yet known, or not a string.
func Str(v cty.Value) (s string, ok bool) {
	if !Known(v) {
		return "", false
	}
	v, _ = v.UnmarkDeep()
	if v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// Bool returns the bool inside v, or def when v is null. ok is false when v
// is not yet known or not a bool.
func Bool(v cty.Value, def bool) (b bool, ok bool) {
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

// StrList returns the strings of a known list of strings; a null element
// makes ok false.
func StrList(v cty.Value) (out []string, ok bool) {
	if !Known(v) {
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

// Error is an error diagnostic: a summary, and a detail that says how to
// fix it.
func Error(summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail}
}

// Warning is a warning diagnostic.
func Warning(summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: detail}
}

// Errorf is an error diagnostic with a formatted detail.
func Errorf(summary, format string, a ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, a...)}
}

// Warnf is a warning diagnostic with a formatted detail.
func Warnf(summary, format string, a ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, a...)}
}

// SensitiveStrings returns the plain strings inside v that carry the
// sensitive mark, longest first, so they can be redacted from text that
// might echo them (command output, a server's error).
func SensitiveStrings(v cty.Value) []string {
	if v == cty.NilVal || !marks.IsSensitive(v) {
		return nil
	}
	raw, pvms := v.UnmarkDeepWithPaths()
	var out []string
	for _, pvm := range pvms {
		if _, ok := pvm.Marks[marks.Sensitive]; !ok {
			continue
		}
		sv, err := pvm.Path.Apply(raw)
		if err != nil {
			continue
		}
		_ = cty.Walk(sv, func(_ cty.Path, x cty.Value) (bool, error) {
			if x.IsKnown() && !x.IsNull() && x.Type() == cty.String && x.AsString() != "" {
				out = append(out, x.AsString())
			}
			return true, nil
		})
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// Redact replaces every secret in s with "(sensitive)".
func Redact(s string, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, marks.Masked)
		}
	}
	return s
}
