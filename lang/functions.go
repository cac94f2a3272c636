package lang

import (
	ctyfunc "github.com/zclconf/go-cty/cty/function"

	"github.com/rokflow/rokflow/lang/funcs"
)

type function = ctyfunc.Function

// Functions returns the function table for expressions of a playbook whose
// root directory is baseDir. When pure is set (validate), functions that
// read the environment, files or the clock answer unknown values.
func Functions(baseDir string, pure bool) map[string]function {
	return funcs.Table(baseDir, pure)
}

// DefaultFunctions is the pure table relative to the working directory, for
// contexts that have no playbook directory, such as variable validation.
func DefaultFunctions() map[string]function { return funcs.Table(".", true) }
