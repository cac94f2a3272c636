package steps

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
)

// Display renders v for people, as plan descriptions need it: sensitive
// values as "(sensitive)", unknown ones as "(known after step.x)", strings
// unquoted, collections as compact HCL-like text. It never reveals a value
// that carries the sensitive mark, however deep.
func Display(v cty.Value) string {
	var b strings.Builder
	display(&b, v, false)
	return b.String()
}

func display(b *strings.Builder, v cty.Value, quote bool) {
	if v.HasMark(marks.Sensitive) {
		b.WriteString(marks.Masked)
		return
	}
	if !v.IsKnown() {
		b.WriteString(marks.UnknownText(v))
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
		if quote {
			fmt.Fprintf(b, "%q", v.AsString())
		} else {
			b.WriteString(v.AsString())
		}
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
				b.WriteString(", ")
			}
			display(b, ev, true)
		}
		b.WriteByte(']')
	case t.IsMapType() || t.IsObjectType():
		b.WriteByte('{')
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			k, ev := it.Element()
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k.AsString())
			b.WriteString(" = ")
			display(b, ev, true)
		}
		b.WriteByte('}')
	default:
		b.WriteString(t.FriendlyName())
	}
}

// DisplayArgv renders each element of a list of strings with Display, for
// showing a command that may hold sensitive or unknown parts.
func DisplayArgv(v cty.Value) []string {
	if !v.IsKnown() || v.IsNull() {
		return []string{Display(v)}
	}
	if v.HasMark(marks.Sensitive) {
		return []string{marks.Masked}
	}
	v, _ = v.Unmark()
	elems := v.AsValueSlice()
	out := make([]string, 0, len(elems))
	for _, ev := range elems {
		out = append(out, Display(ev))
	}
	return out
}
