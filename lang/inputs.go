package lang

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/rokflow/rokflow/lang/marks"
)

// VarsEnvPrefix is the prefix of environment variables that set inputs:
// ROKFLOW_VAR_cluster=prod sets var.cluster.
const VarsEnvPrefix = "ROKFLOW_VAR_"

// RawInput is one input value as given by the user, before it is parsed
// against the variable's type.
type RawInput struct {
	// Text is the value from -var or the environment; Expr is set instead
	// for values from a variable file.
	Text   string
	Expr   hcl.Expression
	Source string // "-var", "environment", or the file name
	// Env marks a value from a ROKFLOW_VAR_ environment variable, which
	// may be meant for another playbook: one the playbook does not
	// declare is ignored, not refused (see BindInputs).
	Env bool
}

// InputSet collects raw inputs; later additions override earlier ones, so
// callers add the environment first, then files, then -var flags.
type InputSet struct {
	Values map[string]RawInput
	// Ranges of names given in variable files, to point at them in errors.
	Ranges map[string]hcl.Range
}

// NewInputSet returns an empty input set.
func NewInputSet() *InputSet {
	return &InputSet{Values: map[string]RawInput{}, Ranges: map[string]hcl.Range{}}
}

// AddEnv adds every ROKFLOW_VAR_* variable of environ.
func (in *InputSet) AddEnv(environ []string) {
	for _, kv := range environ {
		if !strings.HasPrefix(kv, VarsEnvPrefix) {
			continue
		}
		name, val, ok := strings.Cut(strings.TrimPrefix(kv, VarsEnvPrefix), "=")
		if ok && name != "" {
			in.Values[name] = RawInput{Text: val, Source: "environment variable " + VarsEnvPrefix + name, Env: true}
		}
	}
}

// AddFlag adds one -var NAME=VALUE.
func (in *InputSet) AddFlag(arg string) hcl.Diagnostics {
	name, val, ok := strings.Cut(arg, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid -var option",
			Detail:   fmt.Sprintf("The value %q is not of the form NAME=VALUE, such as --var platform=ganeti.", arg),
		}}
	}
	in.Values[name] = RawInput{Text: val, Source: "-var"}
	return nil
}

// AddFile adds every attribute of a variable file: HCL when its name ends
// in .hcl, JSON when it ends in .json. Any other name is refused, so that
// a playbook's README or a plan file given by mistake is not read as HCL.
func (in *InputSet) AddFile(path string, p interface {
	ParseHCL([]byte, string) (*hcl.File, hcl.Diagnostics)
	ParseJSON([]byte, string) (*hcl.File, hcl.Diagnostics)
}) hcl.Diagnostics {
	if !strings.HasSuffix(path, ".hcl") && !strings.HasSuffix(path, ".json") {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Not a variable file",
			Detail:   fmt.Sprintf("%s is not a variable file: give --var-file a file of NAME = VALUE lines in HCL, named *.hcl, or a JSON object, named *.json.", path),
		}}
	}
	info, err := os.Stat(path)
	if err == nil && info.IsDir() {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read variable file",
			Detail:   fmt.Sprintf("%s is a directory; give --var-file a file of NAME = VALUE lines.", path),
		}}
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read variable file", Detail: cleanErr(err) + "."}}
	}
	var f *hcl.File
	var diags hcl.Diagnostics
	if d := checkShape(src, path); d != nil {
		return hcl.Diagnostics{d}
	}
	if strings.HasSuffix(path, ".json") {
		f, diags = p.ParseJSON(src, path)
	} else {
		f, diags = p.ParseHCL(src, path)
	}
	if f == nil || diags.HasErrors() {
		return diags
	}
	attrs, ds := f.Body.JustAttributes()
	diags = append(diags, ds...)
	for name, attr := range attrs {
		in.Values[name] = RawInput{Expr: attr.Expr, Source: path}
		in.Ranges[name] = attr.NameRange
	}
	return diags
}

// BindInputs checks the raw inputs against the root module's variables and
// returns every variable's value: converted to its type, defaults applied,
// validations run, sensitive ones marked. When allowMissing is set (for
// validate), a required variable without a value is an unknown of its type.
// The result holds a value for every declared variable even when there are
// errors (unknown where the input was bad).
//
// A value for a variable the playbook does not declare is an error when a
// flag or a file gives it, and is ignored when it comes from the
// environment, which holds values for other playbooks too (the
// simulator's sim.env, a shell profile); only an environment variable
// that looks like a misspelling of a declared one draws a warning
// (UndeclaredEnv).
func BindInputs(m *Module, in *InputSet, allowMissing bool) (map[string]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	vals := make(map[string]cty.Value, len(m.Variables))
	for _, name := range sortedInputNames(in) {
		if _, ok := m.Variables[name]; !ok {
			if in.Values[name].Env {
				if near := nearEnvName(name, keys(m.Variables)); near != "" {
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagWarning,
						Summary:  "Environment variable for undeclared variable",
						Detail:   fmt.Sprintf("%s%s is set, but the playbook declares no variable named %q, so it is ignored. Did you mean %s%s?", VarsEnvPrefix, name, name, VarsEnvPrefix, near),
					})
				}
				continue
			}
			var subj *hcl.Range
			if r, ok := in.Ranges[name]; ok {
				subj = r.Ptr()
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("The playbook declares no variable named %q (set by %s).%s", name, in.Values[name].Source, didYouMean(name, keys(m.Variables))),
				Subject:  subj,
			})
		}
	}
	for _, name := range keys(m.Variables) {
		v := m.Variables[name]
		raw, given := in.Values[name]
		var val cty.Value
		switch {
		case given:
			var ds hcl.Diagnostics
			val, ds = parseInput(v, raw)
			diags = append(diags, ds...)
		case !v.Required():
			val = v.Default
		case allowMissing:
			val = cty.UnknownVal(v.Type)
		default:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No value for required variable",
				Detail:   fmt.Sprintf("The variable %q has no default. Give it a value with --var %s=VALUE, a --var-file, or the environment variable %s%s.", name, name, VarsEnvPrefix, name),
				Subject:  v.DeclRange.Ptr(),
			})
			val = cty.UnknownVal(v.Type)
		}
		vals[name] = FinishVariable(v, val)
	}
	for _, name := range keys(m.Variables) {
		diags = append(diags, ValidateVariable(m.Variables[name], vals[name], nil)...)
	}
	return vals, diags
}

// UndeclaredEnv returns, sorted, the names the environment gives a value
// for that m does not declare: the ones BindInputs ignores.
func UndeclaredEnv(m *Module, in *InputSet) []string {
	var out []string
	for _, name := range sortedInputNames(in) {
		if _, ok := m.Variables[name]; !ok && in.Values[name].Env {
			out = append(out, name)
		}
	}
	return out
}

// nearEnvName returns the declared variable an undeclared environment
// variable's name looks like a misspelling of: the same but for case, or
// at most two edits away. It is stricter than Nearest because the
// environment legitimately holds other playbooks' variables, whose names
// often differ from this one's by three letters (rapi_password and
// roke_password).
func nearEnvName(name string, declared []string) string {
	for _, d := range declared {
		if strings.EqualFold(d, name) {
			return d
		}
	}
	if len(name) < 4 {
		return ""
	}
	best, bestDist := "", 3
	for _, d := range declared {
		if dist := levenshtein.Distance(name, d, nil); dist < bestDist {
			best, bestDist = d, dist
		}
	}
	return best
}

func sortedInputNames(in *InputSet) []string {
	names := make([]string, 0, len(in.Values))
	for n := range in.Values {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// parseInput turns one raw input into a value of the variable's type. Text
// for a string variable is taken literally; for other types it is parsed as
// an HCL expression, so --var 'nodes=["a","b"]' works.
func parseInput(v *Variable, raw RawInput) (cty.Value, hcl.Diagnostics) {
	bad := func(detail string, subj *hcl.Range) (cty.Value, hcl.Diagnostics) {
		return cty.UnknownVal(v.Type), hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("The value of %q (from %s) is not valid: %s", v.Name, raw.Source, detail),
			Subject:  subj,
		}}
	}
	var val cty.Value
	if raw.Expr != nil {
		var diags hcl.Diagnostics
		val, diags = raw.Expr.Value(nil)
		if diags.HasErrors() {
			return cty.UnknownVal(v.Type), diags
		}
	} else if v.Type == cty.String || (v.Type.IsPrimitiveType() && v.Type != cty.DynamicPseudoType) {
		val = cty.StringVal(raw.Text)
	} else {
		expr, diags := hclsyntax.ParseExpression([]byte(raw.Text), raw.Source, hcl.InitialPos)
		if diags.HasErrors() {
			return bad("it does not parse as an HCL value ("+diags[0].Detail+").", nil)
		}
		var ds hcl.Diagnostics
		val, ds = expr.Value(nil)
		if ds.HasErrors() {
			return bad(ds[0].Detail, nil)
		}
	}
	if v.TypeDefaults != nil {
		val = v.TypeDefaults.Apply(val)
	}
	conv, err := convertInput(val, v.Type)
	if err != nil {
		var subj *hcl.Range
		if raw.Expr != nil {
			subj = raw.Expr.Range().Ptr()
		}
		return bad(err.Error()+".", subj)
	}
	if conv.IsNull() && !v.Nullable {
		if !v.Required() {
			return v.Default, nil
		}
		return bad("it must not be null.", nil)
	}
	return conv, nil
}

// FinishVariable marks a variable's value sensitive when the variable is.
func FinishVariable(v *Variable, val cty.Value) cty.Value {
	if v.Sensitive {
		return val.Mark(marks.Sensitive)
	}
	return val
}

// ValidateVariable runs a variable's validation blocks against its value.
// Unknown values are not checked. A sensitive value is never shown in the
// message.
func ValidateVariable(v *Variable, val cty.Value, funcs map[string]function) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if !val.IsWhollyKnown() {
		return nil
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: val})},
		Functions: funcs,
	}
	if ctx.Functions == nil {
		ctx.Functions = DefaultFunctions()
	}
	for _, chk := range v.Validations {
		res, ds := chk.Condition.Value(ctx)
		if ds.HasErrors() {
			if marks.IsSensitive(val) {
				ds = hideDetails(v.Name, ds)
			}
			diags = append(diags, ds...)
			continue
		}
		res, _ = res.Unmark()
		if !res.IsKnown() || res.IsNull() {
			continue
		}
		res, err := convert.Convert(res, cty.Bool)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid validation condition",
				Detail:   "A validation condition must be true or false.",
				Subject:  chk.Condition.Range().Ptr(),
			})
			continue
		}
		if res.True() {
			continue
		}
		msg := "the value does not meet the variable's validation rule"
		if m, ds := chk.ErrorMessage.Value(ctx); !ds.HasErrors() && m.Type() == cty.String && m.IsKnown() && !m.IsNull() {
			if m.IsMarked() {
				msg = "(the message refers to a sensitive value and is not shown)"
			} else {
				msg = m.AsString()
			}
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("%s\n\nThis was checked by the validation rule at %s.", msg, chk.DeclRange),
			Subject:  v.DeclRange.Ptr(),
		})
	}
	return diags
}

// hideDetails rewrites the details of errors raised while evaluating a
// validation of a sensitive value: HCL and function errors quote the
// values they were given ("cannot convert \"hunter2\" to number").
func hideDetails(name string, diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		c := *d
		c.Detail = fmt.Sprintf("The validation rule could not be evaluated with the value of var.%s; that value is sensitive, so the details are not shown. Check the value given for it and the rule's condition.", name)
		c.Extra = nil // a function call's error, which may quote the value
		out[i] = &c
	}
	return out
}

// convertInput converts an input to its variable's type. A tuple whose
// elements all have a list's primitive element type (a long list of node
// names) becomes that list directly: the general conversion sorts the
// element types to unify them, which costs more than the rest of binding.
func convertInput(v cty.Value, ty cty.Type) (cty.Value, error) {
	if ty.IsListType() && ty.ElementType().IsPrimitiveType() && v.Type().IsTupleType() && v.IsWhollyKnown() && !v.IsNull() && !v.ContainsMarked() {
		ety := ty.ElementType()
		same := v.LengthInt() > 0
		for _, et := range v.Type().TupleElementTypes() {
			if !et.Equals(ety) {
				same = false
				break
			}
		}
		if same {
			return cty.ListVal(v.AsValueSlice()), nil
		}
	}
	return convert.Convert(v, ty)
}
