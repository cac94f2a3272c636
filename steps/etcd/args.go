package etcd

import (
	"github.com/zclconf/go-cty/cty"
)

// afterRun is the plan text for a value that only a run can tell.
const afterRun = "known after run"

// elements returns the elements of a known collection, each carrying the
// collection's own marks, so a sensitive list yields sensitive elements.
// It returns nil for a null or unknown collection.
func elements(v cty.Value) []cty.Value {
	if !v.IsKnown() || v.IsNull() {
		return nil
	}
	v, m := v.Unmark()
	if !v.CanIterateElements() {
		return nil
	}
	var out []cty.Value
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		out = append(out, ev.WithMarks(m))
	}
	return out
}
