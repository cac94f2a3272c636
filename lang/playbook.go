package lang

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
)

// Playbook is a decoded playbook: its metadata, its root module (with child
// modules loaded) and the source files, kept for diagnostics. It is not
// changed after Load returns.
type Playbook struct {
	Meta *Meta
	Root *Module
	// Files holds every parsed file by name, for rendering diagnostics.
	Files map[string]*hcl.File
	// Dir is the root module's directory, absolute.
	Dir string
	// DisplayDir is Dir as the user named it: relative to the working
	// directory when the playbook was given by a relative path.
	DisplayDir string
}

// Meta is the playbook block.
type Meta struct {
	Name            string
	From, To        string
	Description     string
	RequiresRokflow string
	// Release says where the discovered facts carry the cluster's and
	// each node's current release; nil when the playbook has no release
	// block (its from and to are then not checked against the cluster).
	Release   *ReleaseFacts
	DeclRange hcl.Range
	// Ranges holds where each attribute (from, to, requires_rokflow, …)
	// was written, for diagnostics.
	Ranges map[string]hcl.Range
}

// Range returns where the attribute name was written, or the block's
// range when it was not.
func (m *Meta) Range(name string) *hcl.Range {
	if r, ok := m.Ranges[name]; ok {
		return r.Ptr()
	}
	return m.DeclRange.Ptr()
}

// ReleaseFacts is the playbook block's release block: expressions, in the
// root module's scope, over read-only steps' outputs.
type ReleaseFacts struct {
	// Nodes is a map from node name to the release it runs ("" when not
	// known, as for a node whose new BOOT disk is not yet upgraded).
	Nodes hcl.Expression
	// Cluster, when set, is the release of the cluster's shared state; a
	// cluster is at the playbook's to only when it and every node are.
	Cluster   hcl.Expression
	DeclRange hcl.Range
}

// Module is one directory of blocks: the root module or a child module
// loaded from a module call's source.
type Module struct {
	// Path is the chain of module call names from the root; nil for the root.
	Path []string
	Dir  string

	Variables   map[string]*Variable
	Locals      map[string]*Local
	Connections map[string]*Connection
	Steps       map[string]*Step
	Groups      map[string]*Group
	Calls       map[string]*ModuleCall
	Outputs     map[string]*Output
	// Hooks are the module's extension points: places in its sequence
	// where a caller's hook block puts steps of its own.
	Hooks map[string]*Hook

	// Order lists the module's steps, groups and calls in source order, so
	// plans and graphs are stable and read like the file.
	Order []Item
}

// Item is a block that takes part in the graph: a step, a group or a module
// call, in the order it was declared.
type Item struct {
	Step  *Step
	Group *Group
	Call  *ModuleCall
}

// Name is the item's name within its module or group.
func (it Item) Name() string {
	switch {
	case it.Step != nil:
		return it.Step.Name
	case it.Group != nil:
		return it.Group.Name
	default:
		return it.Call.Name
	}
}

// Variable is a declared input.
type Variable struct {
	Name        string
	Description string
	Type        cty.Type
	// Defaults holds nested defaults of an object type constraint.
	TypeDefaults *typeexpr.Defaults
	Default      cty.Value // cty.NilVal when the variable is required
	Sensitive    bool
	Nullable     bool
	Validations  []*Check
	DeclRange    hcl.Range
}

// Required reports whether the variable has no default.
func (v *Variable) Required() bool { return v.Default == cty.NilVal }

// Check is a condition with the message shown when it is false: a
// variable's validation, or a step's precondition or postcondition.
type Check struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

// Local is one named value in a locals block.
type Local struct {
	Name      string
	Expr      hcl.Expression
	DeclRange hcl.Range
}

// Output is a named value the playbook or module exposes.
type Output struct {
	Name        string
	Description string
	Expr        hcl.Expression
	Sensitive   bool
	DeclRange   hcl.Range
}

// Connection says how to reach hosts: a transport and its settings. Its body
// is kept raw; the runtime checks it against the connection schema (package
// steps/transport/connect) and evaluates it once per module instance.
type Connection struct {
	Name      string
	Config    hcl.Body
	DeclRange hcl.Range
}

// Step is one unit of work of a given kind.
type Step struct {
	Name      string
	Kind      string
	KindRange hcl.Range

	Description string
	On          hcl.Expression // nil when the step has no target
	Connection  string         // name of a connection block, "" for the default
	ConnRange   hcl.Range
	DependsOn   []hcl.Traversal
	When        hcl.Expression
	ForEach     hcl.Expression
	Timeout     hcl.Expression
	Once        bool
	OnceSet     bool
	Retry       *Retry
	Pre, Post   []*Check
	Undo        *Undo

	// Config is the rest of the body: the kind's arguments, decoded later
	// with the kind's schema.
	Config    hcl.Body
	DeclRange hcl.Range
	// Group is the enclosing group, nil for a module-level step.
	Group *Group
}

// Retry says how a failed step is tried again.
type Retry struct {
	Attempts  hcl.Expression
	Delay     hcl.Expression
	MaxDelay  hcl.Expression
	DeclRange hcl.Range
}

// Undo names the step that compensates this one once it has succeeded
// (evacuate ⇄ migrate back, pin ⇄ restore): the runtime owes it on failure
// or abort. It is written undo = step.NAME, or as an undo block that also
// says when the undo may run.
type Undo struct {
	// Step is the undo step's name; it is declared beside this step.
	Step string
	// Elements says which instances of an undo step with for_each are owed.
	Elements UndoElements
	// When, when set, is the condition under which the owed undo may run,
	// evaluated when a failed run would run it; while it is false the
	// undo is held back and stays owed.
	When hcl.Expression
	// Reason says why the undo is held back while When is false.
	Reason hcl.Expression
	// DeclRange is the reference to the undo step.
	DeclRange hcl.Range
}

// UndoElements says which instances of an undo step are owed.
type UndoElements int

// The ways of naming an undo step's instances.
const (
	// UndoImplied: undo = step.NAME; which instances follows from the two
	// steps' for_each (runtime decides, and refuses what is ambiguous).
	UndoImplied UndoElements = iota
	// UndoSameKey: undo = step.NAME[each.key], the instance with the
	// owing element's key.
	UndoSameKey
	// UndoAll: undo = step.NAME[*], every instance of the undo step.
	UndoAll
)

// Hook is an extension point a module declares: `hook "NAME" {
// description, depends_on }`. It sits in the module's graph like a step:
// it comes after what its depends_on names, and the module's items that
// name hook.NAME in their depends_on come after it and after every step a
// caller put in it.
type Hook struct {
	Name        string
	Description string
	DependsOn   []hcl.Traversal
	DeclRange   hcl.Range
}

// Group is a sequence of steps (and module calls) applied to each element
// of a collection, usually nodes, in rolling batches.
type Group struct {
	Name      string
	ForEach   hcl.Expression
	Rolling   *Rolling
	DependsOn []hcl.Traversal
	When      hcl.Expression
	// Upgrades names the node each element upgrades (see ModuleCall).
	Upgrades hcl.Expression
	// Hook is the hook a caller's hook block fills: such a block is a
	// group without for_each, planned in the caller's scope at the
	// hook's place in the called module; nil for a group block.
	Hook *Hook

	Steps map[string]*Step
	Calls map[string]*ModuleCall
	Order []Item

	DeclRange hcl.Range
}

// Rolling controls how a group's elements are run: Batch elements at a time,
// stopping once more than MaxFailures elements failed, waiting Pause between
// batches. Expressions are nil where the block left them out.
type Rolling struct {
	Batch       hcl.Expression
	MaxFailures hcl.Expression
	Pause       hcl.Expression
	DeclRange   hcl.Range
}

// ModuleCall reuses a directory of blocks with inputs.
type ModuleCall struct {
	Name        string
	Source      string
	SourceRange hcl.Range
	Inputs      map[string]*hcl.Attribute
	DependsOn   []hcl.Traversal
	When        hcl.Expression
	// Upgrades, when set, names the node this call upgrades: with the
	// playbook's release facts, a node already at the playbook's to has
	// the call skipped.
	Upgrades hcl.Expression
	// Hooks are the call's hook blocks by hook name: steps the caller puts
	// at the called module's extension points.
	Hooks     map[string]*Group
	Module    *Module
	DeclRange hcl.Range
	Group     *Group
}

// ReleaseBlock returns the playbook's release block, nil when it has none
// (or the playbook has no playbook block).
func (m *Meta) ReleaseBlock() *ReleaseFacts {
	if m == nil {
		return nil
	}
	return m.Release
}
