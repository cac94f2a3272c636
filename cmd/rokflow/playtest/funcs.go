package playtest

import (
	"github.com/zclconf/go-cty/cty"
	ctyfunc "github.com/zclconf/go-cty/cty/function"

	"github.com/rokflow/rokflow/lang"
)

// conditionFunctions is the function table of assertions: the playbook's
// (lang.Functions), and alltrue and anytrue as in Terraform, since an
// assertion is most often "for every node, …".
func conditionFunctions(dir string) map[string]function {
	fns := lang.Functions(dir, false)
	out := make(map[string]function, len(fns)+2)
	for k, v := range fns {
		out[k] = v
	}
	if _, ok := out["alltrue"]; !ok {
		out["alltrue"] = boolFold(true)
	}
	if _, ok := out["anytrue"]; !ok {
		out["anytrue"] = boolFold(false)
	}
	return out
}

// boolFold is alltrue (all set) or anytrue: true when every element of a
// list of bools is true (an empty list: true), or when any is.
func boolFold(all bool) function {
	return ctyfunc.New(&ctyfunc.Spec{
		Params: []ctyfunc.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:   ctyfunc.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			list := args[0]
			if !list.IsWhollyKnown() {
				return cty.UnknownVal(cty.Bool), nil
			}
			for it := list.ElementIterator(); it.Next(); {
				_, v := it.Element()
				if v.IsNull() {
					continue
				}
				if v.True() != all {
					return cty.BoolVal(!all), nil
				}
			}
			return cty.BoolVal(all), nil
		},
	})
}
