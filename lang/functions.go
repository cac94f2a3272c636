package lang

import (
	ctyfunc "github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

type function = ctyfunc.Function

// Functions returns the function table for expressions of a playbook whose
// root directory is baseDir. When pure is set (planning), functions that
// read the environment or files answer unknown values.
func Functions(baseDir string, pure bool) map[string]function {
	return map[string]function{
		"contains": stdlib.ContainsFunc, "length": stdlib.LengthFunc, "keys": stdlib.KeysFunc,
		"format": stdlib.FormatFunc, "join": stdlib.JoinFunc, "lookup": stdlib.LookupFunc,
		"concat": stdlib.ConcatFunc, "upper": stdlib.UpperFunc, "merge": stdlib.MergeFunc,
	}
}

// DefaultFunctions is the pure table relative to the working directory, for
// contexts that have no playbook directory, such as variable validation.
func DefaultFunctions() map[string]function { return Functions(".", true) }
