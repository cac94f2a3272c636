package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// TypeString renders t the way a playbook author writes it in a type
// constraint: string, list(string), object({user=string}), any.
func TypeString(t cty.Type) string {
	switch {
	case t == cty.DynamicPseudoType:
		return "any"
	case t.IsPrimitiveType():
		return t.FriendlyName()
	case t.IsListType():
		return "list(" + TypeString(t.ElementType()) + ")"
	case t.IsSetType():
		return "set(" + TypeString(t.ElementType()) + ")"
	case t.IsMapType():
		return "map(" + TypeString(t.ElementType()) + ")"
	case t.IsTupleType():
		parts := make([]string, 0, len(t.TupleElementTypes()))
		for _, et := range t.TupleElementTypes() {
			parts = append(parts, TypeString(et))
		}
		return "tuple([" + strings.Join(parts, ", ") + "])"
	case t.IsObjectType():
		atys := t.AttributeTypes()
		names := make([]string, 0, len(atys))
		for n := range atys {
			names = append(names, n)
		}
		sort.Strings(names)
		parts := make([]string, 0, len(names))
		for _, n := range names {
			s := TypeString(atys[n])
			if t.AttributeOptional(n) {
				s = "optional(" + s + ")"
			}
			parts = append(parts, fmt.Sprintf("%s=%s", n, s))
		}
		return "object({" + strings.Join(parts, ", ") + "})"
	default:
		return t.FriendlyName()
	}
}
