package ganeti

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/steps"
)

// request is one RAPI request built from arguments that may still be
// unknown. The same value renders the plan's request line and, once every
// part is known, the bytes Run sends, so the plan shows exactly what runs.
type request struct {
	method string
	// path alternates literal segments (strings) and path parameters
	// (cty values, escaped when sent).
	path []any
	// query parameters, in order.
	query []param
	// body is a JSON object of the non-null fields, in order; bare, when
	// set, is sent as a bare JSON value instead (a node role).
	body    []param
	hasBody bool
	bare    cty.Value
}

// param is one query parameter or body field.
type param struct {
	name  string
	value cty.Value
	// flag query parameters are sent as name=1 when true and left out when
	// false; others (dry-run) are always sent, as 1 or 0.
	flag bool
}

// known reports whether every part is known, so the request can be sent.
func (r request) known() bool {
	for _, p := range r.path {
		if v, ok := p.(cty.Value); ok && !steps.Known(v) {
			return false
		}
	}
	for _, p := range append(append([]param{}, r.query...), r.body...) {
		if !p.value.IsWhollyKnown() {
			return false
		}
	}
	return r.bare == cty.NilVal || r.bare.IsWhollyKnown()
}

// pathString renders the path (with the query); display masks what is
// sensitive or unknown instead of encoding it.
func (r request) pathString(display bool) string {
	var b strings.Builder
	for _, p := range r.path {
		switch p := p.(type) {
		case string:
			b.WriteString(p)
		case cty.Value:
			if display && (!p.IsWhollyKnown() || p.HasMark(marks.Sensitive)) {
				b.WriteString(steps.Display(p))
				continue
			}
			s, _ := steps.Str(p)
			b.WriteString(url.PathEscape(s))
		}
	}
	var qs []string
	for _, q := range r.query {
		if !q.value.IsKnown() {
			qs = append(qs, q.name+"="+steps.Display(q.value))
			continue
		}
		on, _ := steps.Bool(q.value, false)
		switch {
		case on:
			qs = append(qs, q.name+"=1")
		case !q.flag:
			qs = append(qs, q.name+"=0")
		}
	}
	if len(qs) > 0 {
		b.WriteString("?" + strings.Join(qs, "&"))
	}
	return b.String()
}

// Display is the plan's request line: "POST /2/nodes/n1/evacuate?dry-run=0
// {"mode":"primary-only"}". Unknown values show as (known after step.x)
// and sensitive ones as (sensitive), unquoted, so they cannot be mistaken
// for literal strings.
func (r request) Display() string {
	s := r.method + " " + r.pathString(true)
	if b := r.bodyString(true); b != "" {
		s += " " + b
	}
	return s
}

// bodyString renders the body as compact JSON; display masks sensitive and
// unknown values. It is "" for a request without a body.
func (r request) bodyString(display bool) string {
	if r.bare != cty.NilVal {
		return jsonValue(r.bare, display)
	}
	if !r.hasBody {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	n := 0
	for _, f := range r.body {
		if f.value.IsKnown() && f.value.IsNull() {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		k, _ := json.Marshal(f.name)
		b.Write(k)
		b.WriteByte(':')
		b.WriteString(jsonValue(f.value, display))
	}
	b.WriteByte('}')
	return b.String()
}

// jsonValue renders v as JSON; with display, masks and placeholders replace
// sensitive and unknown parts, however deep.
func jsonValue(v cty.Value, display bool) string {
	if display {
		if v.HasMark(marks.Sensitive) {
			return marks.Masked
		}
		if !v.IsKnown() {
			return marks.UnknownText(v)
		}
		if !v.IsWhollyKnown() || marks.IsSensitive(v) {
			// A collection with masked parts: render element by element.
			return jsonParts(v)
		}
	}
	v, _ = v.UnmarkDeep()
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return steps.Display(v)
	}
	return string(b)
}

func jsonParts(v cty.Value) string {
	v, _ = v.Unmark()
	ty := v.Type()
	var b strings.Builder
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		b.WriteByte('{')
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			k, ev := it.Element()
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k.AsString())
			b.Write(kb)
			b.WriteByte(':')
			b.WriteString(jsonValue(ev, true))
		}
		b.WriteByte('}')
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		b.WriteByte('[')
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			_, ev := it.Element()
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(jsonValue(ev, true))
		}
		b.WriteByte(']')
	default:
		return steps.Display(v)
	}
	return b.String()
}

// encode returns the path with its query and the body to send; the body is
// nil for a request without one. The request must be steps.Known().
func (r request) encode() (path string, body []byte) {
	path = r.pathString(false)
	if s := r.bodyString(false); s != "" {
		body = []byte(s)
	}
	return path, body
}
