package stepstest

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// Canary is the secret CheckKind passes, marked sensitive, in every string
// argument; it must never appear in a plan.
const Canary = "rokflow-canary-s3cr3t"

var kindName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// CheckKind fails t with every problem Problems finds in k.
func CheckKind(t *testing.T, k steps.Kind) {
	t.Helper()
	for _, p := range Problems(k) {
		t.Error(p)
	}
}

// Problems checks that k conforms to the kind contract and describes each
// way it does not:
//   - its schema is complete: a dotted lower-case Name, a one-line Summary, a
//     Description, a known Effect and Target, and every argument, nested
//     block and output has a type and a Description; defaults fit their
//     types and required arguments have none; what Secrets names exists;
//   - no top-level argument or nested block has the name of a step
//     meta-argument (schema.StepMetaArguments), which would shadow it, and
//     a DefaultTimeout, when set, is a positive duration;
//   - Schema is cheap: it returns the same value every time;
//   - Plan does not panic nor report errors when every argument is unknown;
//   - Plan never shows a sensitive value: with Canary, marked sensitive, in
//     every string of the arguments, no part of the response contains it.
func Problems(k steps.Kind) []string {
	s := k.Schema()
	if s == nil {
		return []string{fmt.Sprintf("%T: Schema() is nil", k)}
	}
	var ps []string
	if k.Schema() != s {
		ps = append(ps, "Schema() returns a new value each call; build it once")
	}
	ps = append(ps, schemaProblems(s)...)
	if s.Args == nil {
		return prefixed(s.Name, ps)
	}
	args := MarkSensitive(s, blockValue(s.Args, unknownLeaf))
	resp, err := planNoPanic(k, args)
	if err != nil {
		ps = append(ps, "with unknown arguments: "+err.Error())
	}
	for _, d := range resp.Diagnostics {
		if d.Severity == hcl.DiagError {
			ps = append(ps, fmt.Sprintf("plan with unknown arguments reported an error: %s: %s", d.Summary, d.Detail))
		}
	}
	args = MarkSensitive(s, blockValue(s.Args, canaryLeaf))
	resp, err = planNoPanic(k, args)
	if err != nil {
		ps = append(ps, "with sensitive arguments: "+err.Error())
	}
	for _, where := range sortedKeys(responseTexts(resp)) {
		if text := responseTexts(resp)[where]; strings.Contains(text, Canary) {
			ps = append(ps, fmt.Sprintf("plan %s shows a sensitive value: %q", where, text))
		}
	}
	return prefixed(s.Name, ps)
}

func prefixed(name string, ps []string) []string {
	for i := range ps {
		ps[i] = name + ": " + ps[i]
	}
	return ps
}

func schemaProblems(s *steps.Schema) []string {
	var ps []string
	if !kindName.MatchString(s.Name) {
		ps = append(ps, fmt.Sprintf("name %q is not dotted lower-case words", s.Name))
	}
	if strings.TrimSpace(s.Summary) == "" || strings.Contains(s.Summary, "\n") {
		ps = append(ps, "Summary must be one non-empty line")
	}
	if strings.TrimSpace(s.Description) == "" {
		ps = append(ps, "Description is empty")
	}
	if s.Effect != steps.ReadOnly && s.Effect != steps.Idempotent && s.Effect != steps.Once {
		ps = append(ps, fmt.Sprintf("unknown Effect %d", s.Effect))
	}
	if s.Target != steps.TargetHost && s.Target != steps.TargetNone {
		ps = append(ps, fmt.Sprintf("unknown Target %d", s.Target))
	}
	if s.Args == nil {
		return append(ps, "Args is nil (use an empty schema.Block for a kind without arguments)")
	}
	ps = append(ps, blockProblems("argument ", s.Args)...)
	for _, n := range s.Secrets.Credentials {
		if _, ok := s.Args.Attributes[n]; !ok {
			ps = append(ps, fmt.Sprintf("Secrets.Credentials names %q, which is not an argument", n))
		}
	}
	for _, n := range s.Secrets.Clean {
		if _, ok := s.Outputs[n]; !ok {
			ps = append(ps, fmt.Sprintf("Secrets.Clean names %q, which is not an output", n))
		}
	}
	for _, n := range s.Args.MetaArgumentClashes() {
		ps = append(ps, fmt.Sprintf("argument %q has the name of a step meta-argument: the step takes it for itself and the kind never sees it; rename it (or, for a timeout, use the step's own, the context's deadline)", n))
	}
	if s.DefaultTimeout != "" {
		if d, err := time.ParseDuration(s.DefaultTimeout); err != nil || d <= 0 {
			ps = append(ps, fmt.Sprintf("DefaultTimeout %q is not a positive duration", s.DefaultTimeout))
		}
	}
	for _, n := range sortedKeys(s.Outputs) {
		a := s.Outputs[n]
		switch {
		case a == nil:
			ps = append(ps, fmt.Sprintf("output %q is nil", n))
		case a.Type == cty.NilType:
			ps = append(ps, fmt.Sprintf("output %q has no type", n))
		case strings.TrimSpace(a.Description) == "":
			ps = append(ps, fmt.Sprintf("output %q has no Description", n))
		}
	}
	return ps
}

func blockProblems(prefix string, b *schema.Block) []string {
	var ps []string
	for _, n := range b.AttributeNames() {
		a := b.Attributes[n]
		where := fmt.Sprintf("%s%q", prefix, n)
		if !hclsyntax.ValidIdentifier(n) {
			ps = append(ps, where+" is not a valid identifier")
		}
		if a == nil {
			ps = append(ps, where+" is nil")
			continue
		}
		if a.Type == cty.NilType {
			ps = append(ps, where+" has no type")
		}
		if strings.TrimSpace(a.Description) == "" {
			ps = append(ps, where+" has no Description")
		}
		if a.Default != cty.NilVal && !a.Default.IsNull() {
			if a.Required {
				ps = append(ps, where+" is required and has a default")
			}
			if _, err := convert.Convert(a.Default, a.Type); err != nil {
				ps = append(ps, fmt.Sprintf("%s default does not fit its type: %s", where, err))
			}
		}
	}
	for _, n := range b.BlockNames() {
		nb := b.Blocks[n]
		where := fmt.Sprintf("%sblock %q", prefix, n)
		if strings.TrimSpace(nb.Description) == "" {
			ps = append(ps, where+" has no Description")
		}
		ps = append(ps, blockProblems(fmt.Sprintf("%s%s.", prefix, n), &nb.Block)...)
	}
	return ps
}

func planNoPanic(k steps.Kind, args cty.Value) (resp steps.PlanResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plan panicked: %v", r)
		}
	}()
	return k.Plan(context.Background(), steps.PlanRequest{Args: args}), nil
}

// leaf builds the value of one argument of type ty.
type leaf func(ty cty.Type) cty.Value

func unknownLeaf(ty cty.Type) cty.Value { return Unknown(ty, "step.upstream") }

// canaryLeaf puts the sensitive canary in every string it can reach; other
// primitives get plain zero values.
func canaryLeaf(ty cty.Type) cty.Value {
	switch {
	case ty == cty.String || ty == cty.DynamicPseudoType:
		return Secret(Canary)
	case ty == cty.Number:
		return cty.NumberIntVal(1)
	case ty == cty.Bool:
		return cty.False
	case ty.IsListType():
		return cty.ListVal([]cty.Value{canaryLeaf(ty.ElementType())})
	case ty.IsSetType():
		return cty.SetVal([]cty.Value{canaryLeaf(ty.ElementType())})
	case ty.IsMapType():
		return cty.MapVal(map[string]cty.Value{"KEY": canaryLeaf(ty.ElementType())})
	case ty.IsObjectType():
		attrs := map[string]cty.Value{}
		for n, at := range ty.AttributeTypes() {
			attrs[n] = canaryLeaf(at)
		}
		return cty.ObjectVal(attrs)
	case ty.IsTupleType():
		var elems []cty.Value
		for _, et := range ty.TupleElementTypes() {
			elems = append(elems, canaryLeaf(et))
		}
		return cty.TupleVal(elems)
	}
	return cty.NullVal(ty)
}

// blockValue builds a decoded body of shape b with mk for each attribute and
// one instance of each nested block.
func blockValue(b *schema.Block, mk leaf) cty.Value {
	ty := b.ImpliedType()
	attrs := map[string]cty.Value{}
	for n := range b.Attributes {
		attrs[n] = mk(ty.AttributeType(n))
	}
	for n, nb := range b.Blocks {
		inner := blockValue(&nb.Block, mk)
		if nb.Nesting == schema.NestingList {
			inner = cty.ListVal([]cty.Value{inner})
		}
		attrs[n] = inner
	}
	v, err := convert.Convert(cty.ObjectVal(attrs), ty)
	if err != nil {
		panic(fmt.Sprintf("stepstest: building arguments: %s", err))
	}
	return v
}

func responseTexts(resp steps.PlanResponse) map[string]string {
	texts := map[string]string{
		"Summary":      resp.Summary,
		"Command":      strings.Join(resp.Command, " "),
		"Request":      resp.Request,
		"Diff":         resp.Diff,
		"Instructions": resp.Instructions,
	}
	for i, d := range resp.Diagnostics {
		texts[fmt.Sprintf("diagnostic %d", i)] = d.Summary + "\n" + d.Detail
	}
	return texts
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
