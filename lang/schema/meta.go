package schema

import "slices"

// StepMetaArguments are the names of the arguments and blocks every step
// has whatever its kind. The core takes them out of a step body before the
// kind's schema decodes the rest, so a kind argument of one of these names
// would never receive a value: the step's own argument would take it and
// the kind would silently run with its default. A kind's top-level
// attributes and nested block types must not use these names (the
// registry refuses such a kind); inside a nested block they are free.
var StepMetaArguments = []string{
	"uses", "description", "on", "connection", "depends_on", "when",
	"for_each", "timeout", "once", "undo", "retry", "precondition", "postcondition",
}

// IsStepMetaArgument reports whether name is one of StepMetaArguments.
func IsStepMetaArgument(name string) bool { return slices.Contains(StepMetaArguments, name) }

// MetaArgumentClashes returns, sorted, the names of b's attributes and
// nested block types that are step meta-arguments. It is empty for a block
// that can be a step body's schema.
func (b *Block) MetaArgumentClashes() []string {
	var clashes []string
	for _, n := range append(b.AttributeNames(), b.BlockNames()...) {
		if IsStepMetaArgument(n) {
			clashes = append(clashes, n)
		}
	}
	slices.Sort(clashes)
	return clashes
}
