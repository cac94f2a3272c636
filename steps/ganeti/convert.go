package ganeti

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// jsonToCty turns any JSON document into a cty value of the type it
// implies; invalid JSON gives a null.
func jsonToCty(raw []byte) cty.Value {
	ty, err := ctyjson.ImpliedType(raw)
	if err != nil {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	v, err := ctyjson.Unmarshal(raw, ty)
	if err != nil {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return v
}

// anyToCty is jsonToCty for an already decoded value.
func anyToCty(x any) cty.Value {
	raw, err := json.Marshal(x)
	if err != nil {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return jsonToCty(raw)
}

// object is one decoded JSON object of a RAPI answer, read field by field
// into cty values; a missing field or JSON null gives a null.
type object map[string]any

func (o object) str(key string) cty.Value {
	switch v := o[key].(type) {
	case string:
		return cty.StringVal(v)
	case json.Number:
		return cty.StringVal(v.String())
	case bool:
		return cty.StringVal(fmt.Sprint(v))
	}
	return cty.NullVal(cty.String)
}

func (o object) boolean(key string) cty.Value {
	if v, ok := o[key].(bool); ok {
		return cty.BoolVal(v)
	}
	return cty.NullVal(cty.Bool)
}

func (o object) number(key string) cty.Value {
	if v, ok := o[key].(json.Number); ok {
		if n, err := cty.ParseNumberVal(v.String()); err == nil {
			return n
		}
	}
	return cty.NullVal(cty.Number)
}

// strings reads a list whose elements may be null (nic.ips of a NIC with
// no address): those stay null elements.
func (o object) strings(key string) cty.Value {
	l, _ := o[key].([]any)
	vs := make([]cty.Value, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			vs = append(vs, cty.StringVal(s))
		} else {
			vs = append(vs, cty.NullVal(cty.String))
		}
	}
	if len(vs) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	return cty.ListVal(vs)
}

func (o object) numbers(key string) cty.Value {
	l, _ := o[key].([]any)
	vs := make([]cty.Value, 0, len(l))
	for _, e := range l {
		n := cty.NullVal(cty.Number)
		if s, ok := e.(json.Number); ok {
			if pv, err := cty.ParseNumberVal(s.String()); err == nil {
				n = pv
			}
		}
		vs = append(vs, n)
	}
	if len(vs) == 0 {
		return cty.ListValEmpty(cty.Number)
	}
	return cty.ListVal(vs)
}

func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vs := make([]cty.Value, len(ss))
	for i, s := range ss {
		vs[i] = cty.StringVal(s)
	}
	return cty.ListVal(vs)
}

func mapOf(ty cty.Type, m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.MapValEmpty(ty)
	}
	return cty.MapVal(m)
}

func listOf(ty cty.Type, vs []cty.Value) cty.Value {
	if len(vs) == 0 {
		return cty.ListValEmpty(ty)
	}
	return cty.ListVal(vs)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
