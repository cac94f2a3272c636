package funcs

import (
	"errors"
	"fmt"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// implFunc computes a result from known, unmarked, non-null arguments.
type implFunc func(args []cty.Value) (cty.Value, error)

// newFunc builds a function whose parameters all accept marked, unknown and
// dynamically-typed values, and which handles them uniformly:
//   - the marks of every argument (deep) are collected and put on the result,
//     so a sensitive input gives a sensitive output, and an unknown input's
//     marks (e.g. which step makes it known) survive on the unknown result;
//   - if any argument is not wholly known, the result is an unknown value of
//     ret (refined as not null) and fn is not called;
//   - if fn is nil the function is "unpredictable": it always returns an
//     unknown value of ret, without reading anything (plan-time purity for
//     impure functions);
//   - an argument error about a marked argument is replaced by a message that
//     does not quote the value (see withSafe).
func newFunc(desc string, params []function.Parameter, ret cty.Type, fn implFunc) function.Function {
	for i := range params {
		params[i].AllowMarked = true
		params[i].AllowUnknown = true
		params[i].AllowDynamicType = true
	}
	return function.New(&function.Spec{
		Description:  desc,
		Params:       params,
		Type:         function.StaticReturnType(ret),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			vals, marks := unmarkAll(args)
			if fn == nil {
				return cty.UnknownVal(retType).WithMarks(marks), nil
			}
			for _, v := range vals {
				if !v.IsWhollyKnown() {
					return cty.UnknownVal(retType).WithMarks(marks), nil
				}
			}
			out, err := fn(vals)
			if err != nil {
				return cty.NilVal, redact(err, args)
			}
			return out.WithMarks(marks), nil
		},
	})
}

// unmarkAll returns the arguments without marks and the union of their marks.
func unmarkAll(args []cty.Value) ([]cty.Value, cty.ValueMarks) {
	vals := make([]cty.Value, len(args))
	marks := cty.NewValueMarks()
	for i, a := range args {
		v, m := a.UnmarkDeep()
		vals[i] = v
		for k := range m {
			marks[k] = struct{}{}
		}
	}
	return vals, marks
}

// safeError carries, besides the full error, a message that reveals nothing
// about the argument's value.
type safeError struct {
	err  error
	safe string
}

func (e *safeError) Error() string { return e.err.Error() }
func (e *safeError) Unwrap() error { return e.err }

// withSafe attaches to err the message shown instead of it when the
// argument is marked (sensitive).
func withSafe(err error, safe string) error { return &safeError{err: err, safe: safe} }

// argErrorf is function.NewArgErrorf with a value-free message for marked
// arguments.
func argErrorf(i int, safe, format string, args ...any) error {
	return function.NewArgError(i, withSafe(fmt.Errorf(format, args...), safe))
}

// redact replaces an argument error about a marked argument by its safe
// message, so that sensitive values never end up in diagnostics.
func redact(err error, args []cty.Value) error {
	var ae function.ArgError
	if !errors.As(err, &ae) || ae.Index >= len(args) || !args[ae.Index].ContainsMarked() {
		return err
	}
	safe := "invalid value"
	var se *safeError
	if errors.As(err, &se) {
		safe = se.safe
	}
	return function.NewArgErrorf(ae.Index, "%s (details hidden because the value is sensitive)", safe)
}

func strParam(name, desc string) function.Parameter {
	return function.Parameter{Name: name, Description: desc, Type: cty.String}
}
