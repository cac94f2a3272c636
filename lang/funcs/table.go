package funcs

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// impureNames are the functions whose result depends on the outside world.
var impureNames = []string{"env", "file", "timestamp"}

// ImpureFunctions returns the names of the functions in Table that read
// the outside world (env, file, timestamp), sorted. With Table(…, true)
// they return unknown values.
func ImpureFunctions() []string { return slices.Clone(impureNames) }

// Table returns the functions available to playbook expressions, keyed by
// name. It is a new map on every call.
//
// Rok-specific: openstore_endpoint, openstore_format, openstore_migrate,
// openstore_rewrite_config, openstore_rewrite_env, release,
// release_compare, release_at_least.
//
// Impure: env, file (relative to baseDir), timestamp. When pure is true
// (plan time) they read nothing and return an unknown string instead,
// carrying the marks of their arguments, as Terraform does with
// function.Unpredictable.
//
// General purpose, under Terraform's names, from go-cty's stdlib unless
// noted: numeric abs ceil floor log max min parseint pow signum; string
// chomp endswith* format formatlist indent join lower regex regexall
// replace* split startswith* strcontains* strrev substr title trim
// trimprefix trimspace trimsuffix upper; collection chunklist coalesce
// coalescelist compact concat contains distinct element flatten keys
// length* lookup merge range reverse setintersection setproduct
// setsubtract setsymmetricdifference setunion slice sort values zipmap;
// encoding csvdecode jsondecode jsonencode; time formatdate timeadd;
// conversion tobool tolist tomap tonumber toset tostring; and can and try
// from hcl's ext/tryfunc. Those marked * are defined here to match
// Terraform: length also counts the characters of a string, replace treats
// a substring written as /regexp/ as a regular expression, and
// startswith/endswith/strcontains test substrings.
//
// Every function passes cty marks through: a result computed from a
// sensitive value is itself sensitive.
func Table(baseDir string, pure bool) map[string]function.Function {
	return map[string]function.Function{
		// rokflow
		"openstore_endpoint":       OpenstoreEndpointFunc,
		"openstore_format":         OpenstoreFormatFunc,
		"openstore_migrate":        OpenstoreMigrateFunc,
		"openstore_rewrite_config": OpenstoreRewriteConfigFunc,
		"openstore_rewrite_env":    OpenstoreRewriteEnvFunc,
		"release":                  ReleaseFunc,
		"release_compare":          ReleaseCompareFunc,
		"release_at_least":         ReleaseAtLeastFunc,

		// impure
		"env":       MakeEnvFunc(pure),
		"file":      MakeFileFunc(baseDir, pure),
		"timestamp": MakeTimestampFunc(pure),

		// numeric
		"abs":      stdlib.AbsoluteFunc,
		"ceil":     stdlib.CeilFunc,
		"floor":    stdlib.FloorFunc,
		"log":      stdlib.LogFunc,
		"max":      stdlib.MaxFunc,
		"min":      stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc,
		"pow":      stdlib.PowFunc,
		"signum":   stdlib.SignumFunc,

		// string
		"chomp":       stdlib.ChompFunc,
		"endswith":    EndsWithFunc,
		"format":      stdlib.FormatFunc,
		"formatlist":  stdlib.FormatListFunc,
		"indent":      stdlib.IndentFunc,
		"join":        stdlib.JoinFunc,
		"lower":       stdlib.LowerFunc,
		"regex":       stdlib.RegexFunc,
		"regexall":    stdlib.RegexAllFunc,
		"replace":     ReplaceFunc,
		"split":       stdlib.SplitFunc,
		"startswith":  StartsWithFunc,
		"strcontains": StrContainsFunc,
		"strrev":      stdlib.ReverseFunc,
		"substr":      stdlib.SubstrFunc,
		"title":       stdlib.TitleFunc,
		"trim":        stdlib.TrimFunc,
		"trimprefix":  stdlib.TrimPrefixFunc,
		"trimspace":   stdlib.TrimSpaceFunc,
		"trimsuffix":  stdlib.TrimSuffixFunc,
		"upper":       stdlib.UpperFunc,

		// collection
		"chunklist":              stdlib.ChunklistFunc,
		"coalesce":               stdlib.CoalesceFunc,
		"coalescelist":           stdlib.CoalesceListFunc,
		"compact":                stdlib.CompactFunc,
		"concat":                 stdlib.ConcatFunc,
		"contains":               stdlib.ContainsFunc,
		"distinct":               stdlib.DistinctFunc,
		"element":                stdlib.ElementFunc,
		"flatten":                stdlib.FlattenFunc,
		"keys":                   stdlib.KeysFunc,
		"length":                 LengthFunc,
		"lookup":                 stdlib.LookupFunc,
		"merge":                  stdlib.MergeFunc,
		"range":                  stdlib.RangeFunc,
		"reverse":                stdlib.ReverseListFunc,
		"setintersection":        stdlib.SetIntersectionFunc,
		"setproduct":             stdlib.SetProductFunc,
		"setsubtract":            stdlib.SetSubtractFunc,
		"setsymmetricdifference": stdlib.SetSymmetricDifferenceFunc,
		"setunion":               stdlib.SetUnionFunc,
		"slice":                  stdlib.SliceFunc,
		"sort":                   stdlib.SortFunc,
		"values":                 stdlib.ValuesFunc,
		"zipmap":                 stdlib.ZipmapFunc,

		// encoding
		"csvdecode":  stdlib.CSVDecodeFunc,
		"jsondecode": stdlib.JSONDecodeFunc,
		"jsonencode": stdlib.JSONEncodeFunc,

		// time
		"formatdate": stdlib.FormatDateFunc,
		"timeadd":    stdlib.TimeAddFunc,

		// conversion
		"tobool":   stdlib.MakeToFunc(cty.Bool),
		"tolist":   stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":    stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber": stdlib.MakeToFunc(cty.Number),
		"toset":    stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring": stdlib.MakeToFunc(cty.String),

		// errors
		"can": tryfunc.CanFunc,
		"try": tryfunc.TryFunc,
	}
}

// LengthFunc is Terraform's length(value): the number of characters
// (grapheme clusters) of a string, or the number of elements of a list,
// tuple, set, map or object.
var LengthFunc = function.New(&function.Spec{
	Description: "Returns the number of characters in a string or of elements in a collection.",
	Params: []function.Parameter{{
		Name:             "value",
		Description:      "A string or a collection.",
		Type:             cty.DynamicPseudoType,
		AllowDynamicType: true,
		AllowUnknown:     true,
		AllowMarked:      true,
	}},
	Type: func(args []cty.Value) (cty.Type, error) {
		if ty := args[0].Type(); ty == cty.String || ty.IsObjectType() {
			return cty.Number, nil
		}
		return stdlib.LengthFunc.ReturnTypeForValues(args)
	},
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
		return b.NotNull().NumberRangeLowerBound(cty.Zero, true)
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v := args[0]
		switch ty := v.Type(); {
		case ty == cty.String:
			return stdlib.StrlenFunc.Call(args) // unmarks and re-marks
		case ty.IsObjectType():
			// The attribute count is in the type; only the object's own
			// marks apply, as stdlib's length does for collections.
			_, marks := v.Unmark()
			if !v.IsKnown() {
				return cty.UnknownVal(cty.Number).WithMarks(marks), nil
			}
			return cty.NumberIntVal(int64(len(ty.AttributeTypes()))).WithMarks(marks), nil
		}
		return stdlib.LengthFunc.Call(args)
	},
})

// ReplaceFunc is Terraform's replace(str, substr, replacement): every
// occurrence of substr is replaced; a substr written between slashes
// ("/a+/") is a regular expression (RE2) and the replacement may refer to
// its groups as $1 or ${name}.
var ReplaceFunc = function.New(&function.Spec{
	Description: "Replaces each occurrence of a substring, or of a /regular expression/, with a replacement string.",
	Params: []function.Parameter{
		{Name: "str", Description: "The string to search in.", Type: cty.String},
		{Name: "substr", Description: "The substring, or a regular expression between slashes.", Type: cty.String},
		{Name: "replacement", Description: "The replacement string.", Type: cty.String},
	},
	Type:         function.StaticReturnType(cty.String),
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		// Marks were removed by the function package and are re-applied to
		// the result; unknowns never reach here.
		sub := args[1].AsString()
		if len(sub) > 1 && strings.HasPrefix(sub, "/") && strings.HasSuffix(sub, "/") {
			return stdlib.RegexReplaceFunc.Call([]cty.Value{args[0], cty.StringVal(sub[1 : len(sub)-1]), args[2]})
		}
		return stdlib.ReplaceFunc.Call(args)
	},
})

func stringTest(desc, second string, test func(s, t string) bool) function.Function {
	return newFunc(desc,
		[]function.Parameter{
			strParam("str", "The string to test."),
			strParam(second, "The "+second+" to look for."),
		},
		cty.Bool,
		func(args []cty.Value) (cty.Value, error) {
			return cty.BoolVal(test(args[0].AsString(), args[1].AsString())), nil
		})
}

// StartsWithFunc is startswith(str, prefix).
var StartsWithFunc = stringTest("Reports whether a string starts with a prefix.", "prefix", strings.HasPrefix)

// EndsWithFunc is endswith(str, suffix).
var EndsWithFunc = stringTest("Reports whether a string ends with a suffix.", "suffix", strings.HasSuffix)

// StrContainsFunc is strcontains(str, substr).
var StrContainsFunc = stringTest("Reports whether a string contains a substring.", "substr", strings.Contains)
