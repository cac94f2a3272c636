package steps

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/internal/posixsh"
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
	return DisplayElems(ListElems(v))
}

// indexes are the keys of the first elements of lists, made once.
var indexes = func() []cty.Value {
	ks := make([]cty.Value, 64)
	for i := range ks {
		ks[i] = cty.NumberIntVal(int64(i))
	}
	return ks
}()

// ListElems returns the elements of a known, non-null, unmarked list (or
// of any collection, through AsValueSlice). For a short list it looks the
// elements up by keys made once, instead of making a key per element as
// iterating does: commands are short lists planned many thousand times.
func ListElems(v cty.Value) []cty.Value {
	if !v.Type().IsListType() {
		return v.AsValueSlice()
	}
	n := v.LengthInt()
	if n > len(indexes) {
		return v.AsValueSlice()
	}
	out := make([]cty.Value, n)
	for i := range out {
		out[i] = v.Index(indexes[i])
	}
	return out
}

// ListElem returns element i of a known, non-null, unmarked list, looking
// it up by a key made once when i is small (see ListElems).
func ListElem(v cty.Value, i int) cty.Value {
	if i < len(indexes) {
		return v.Index(indexes[i])
	}
	return v.Index(cty.NumberIntVal(int64(i)))
}

// DisplayElems renders each of a list's elements with Display, for a
// caller that already holds them (see DisplayArgv).
func DisplayElems(elems []cty.Value) []string {
	out := make([]string, len(elems))
	for i, ev := range elems {
		out[i] = DisplayElem(ev)
	}
	return out
}

// DisplayElem is Display for one element of a command: a plain string is
// itself, without building anything.
func DisplayElem(v cty.Value) string {
	if v.Type() == cty.String && v.IsKnown() && !v.IsMarked() && !v.IsNull() {
		return v.AsString()
	}
	return Display(v)
}

// QuoteArgv renders an argv on one line, for display, as a shell reader
// would take it: words a reader could misread are single-quoted by
// posixsh.Quote (or Go-quoted when they hold control characters, to stay
// on one line); placeholders for sensitive and unknown words are left
// bare. A command line a shell is to run is quoted by posixsh alone.
func QuoteArgv(argv []string) string {
	var b strings.Builder
	n := 0
	for _, a := range argv {
		n += len(a) + 3
	}
	b.Grow(n)
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch {
		case posixsh.Plain(a) || a == marks.Masked || strings.HasPrefix(a, "(known after "):
			b.WriteString(a)
		case strings.IndexFunc(a, unicode.IsControl) >= 0:
			b.WriteString(strconv.Quote(a))
		default:
			b.WriteString(posixsh.Quote(a))
		}
	}
	return b.String()
}
