package runtime

import (
	"bytes"
	"encoding/json"
	"math/big"
	"sort"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/runtime/plan"
)

// PlanValue encodes v for a plan: JSON with every sensitive part replaced
// by "(sensitive)" and every unknown part by "(known after step.x)".
func PlanValue(v cty.Value) plan.Value {
	var b bytes.Buffer
	out := plan.Value{}
	encodeValue(&b, v, &out)
	out.JSON = json.RawMessage(b.Bytes())
	return out
}

func encodeValue(b *bytes.Buffer, v cty.Value, info *plan.Value) {
	if v.HasMark(marks.Sensitive) {
		info.Sensitive = true
		writeJSONString(b, marks.Masked)
		return
	}
	if !v.IsKnown() {
		info.Unknown = true
		writeJSONString(b, marks.UnknownText(v))
		return
	}
	v, _ = v.Unmark()
	if v.IsNull() {
		b.WriteString("null")
		return
	}
	t := v.Type()
	switch {
	case t == cty.String:
		writeJSONString(b, v.AsString())
	case t == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			i, _ := bf.Int(new(big.Int))
			b.WriteString(i.String())
		} else {
			b.WriteString(bf.Text('g', -1))
		}
	case t == cty.Bool:
		if v.True() {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		b.WriteByte('[')
		for i, ev := range v.AsValueSlice() {
			if i > 0 {
				b.WriteByte(',')
			}
			encodeValue(b, ev, info)
		}
		b.WriteByte(']')
	case t.IsMapType() || t.IsObjectType():
		b.WriteByte('{')
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			k, ev := it.Element()
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k.AsString())
			b.WriteByte(':')
			encodeValue(b, ev, info)
		}
		b.WriteByte('}')
	default:
		b.WriteString("null")
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}

// encodeArgs encodes an instance's arguments for a plan, by name, secrets
// masked: the plan's plan.ArgsEncoder.
func encodeArgs(v cty.Value) map[string]plan.Value {
	args := map[string]plan.Value{}
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() {
		return args
	}
	if v.HasMark(marks.Sensitive) {
		args["(all)"] = plan.Value{JSON: json.RawMessage(`"(sensitive)"`), Sensitive: true}
		return args
	}
	v, _ = v.Unmark()
	names := make([]string, 0, len(v.Type().AttributeTypes()))
	for n := range v.Type().AttributeTypes() {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		av := v.GetAttr(n)
		if av.IsNull() {
			continue
		}
		args[n] = PlanValue(av)
	}
	return args
}

// EncodeArgs fills each instance's Args from its evaluated arguments. A
// plan's JSON encoding does so itself; this is for who reads Args without
// encoding the plan.
func EncodeArgs(p *plan.Plan) {
	for _, inst := range p.Instances {
		inst.EncodeArgs(encodeArgs)
	}
}
