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
//   - fn reports bad arguments with newArgError/argErrorf; for a marked
//     argument the message is replaced by one that does not quote the value.
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
				return cty.NilVal, toArgError(err, args)
			}
			return out.WithMarks(marks), nil
		},
	})
}

// unmarkAll returns the arguments without marks and the union of their marks.
func unmarkAll(args []cty.Value) ([]cty.Value, cty.ValueMarks) {
	vals := make([]cty.Value, len(args))
	marks := make(cty.ValueMarks)
	for i, a := range args {
		v, m := a.UnmarkDeep()
		vals[i] = v
		for k := range m {
			marks[k] = struct{}{}
		}
	}
	return vals, marks
}

// argError is what an implFunc returns for a bad argument: the full error
// and a message that reveals nothing about the argument's value, shown
// instead when the argument is marked (sensitive). newFunc turns it into a
// function.ArgError.
type argError struct {
	index int
	err   error
	safe  string
}

func (e *argError) Error() string { return e.err.Error() }
func (e *argError) Unwrap() error { return e.err }

// newArgError reports err about argument i, with safe as its value-free
// summary.
func newArgError(i int, err error, safe string) error {
	return &argError{index: i, err: err, safe: safe}
}

// argErrorf is newArgError with a formatted message.
func argErrorf(i int, safe, format string, args ...any) error {
	return newArgError(i, fmt.Errorf(format, args...), safe)
}

// toArgError converts an argError to a function.ArgError, replacing the
// message by its safe summary when the argument is marked, so that
// sensitive values never end up in diagnostics.
func toArgError(err error, args []cty.Value) error {
	var ae *argError
	if !errors.As(err, &ae) {
		return err
	}
	if ae.index < len(args) && args[ae.index].ContainsMarked() {
		return function.NewArgErrorf(ae.index, "%s (details hidden because the value is sensitive)", ae.safe)
	}
	return function.NewArgError(ae.index, ae.err)
}

func strParam(name, desc string) function.Parameter {
	return function.Parameter{Name: name, Description: desc, Type: cty.String}
}
