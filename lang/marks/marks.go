// Package marks defines the cty value marks rokflow uses: Sensitive, carried
// by every value derived from a sensitive input so it is masked wherever it is
// shown or stored, and KnownAfter, carried by unknown values to say which step
// will make them known. It owns no behaviour beyond rendering.
package marks

import (
	"github.com/zclconf/go-cty/cty"
)

type sensitive struct{}

// Sensitive marks a value that must never be shown or stored in clear.
var Sensitive = sensitive{}

// KnownAfter marks an unknown value with the address of the step whose run
// will make it known.
type KnownAfter struct{ Addr string }

// Masked is how a sensitive value is shown.
const Masked = "(sensitive)"

// IsSensitive reports whether v or anything inside it is sensitive.
func IsSensitive(v cty.Value) bool { return v.HasMarkDeep(Sensitive) }

// KnownAfterOf returns the step address an unknown value waits for, or "" if
// it carries none.
func KnownAfterOf(v cty.Value) string {
	for ka := range cty.ValueMarksOfTypeDeep[KnownAfter](v) {
		return ka.Addr
	}
	return ""
}

// UnknownText is how an unknown value is shown: "(known after step.x)", or
// "(known after apply)" when no step is named.
func UnknownText(v cty.Value) string {
	if a := KnownAfterOf(v); a != "" {
		return "(known after " + a + ")"
	}
	return "(known after apply)"
}
