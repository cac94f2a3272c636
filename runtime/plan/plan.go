// Package plan holds a plan as plain data: what rokflow will do, step
// instance by step instance, in an order a person can follow, and the JSON
// form documented in docs/plan-json.md. It has no behaviour beyond encoding
// (and building an instance's argument object on first use), and imports
// nothing of rokflow's: the planner gives it the encoder of arguments,
// which knows which of their values are secret (Plan.Args).
//
// The JSON form is a contract (docs/schemas/plan.schema.json, generated
// from these types): what a run acts on and the JSON does not show, such
// as a timeout as a time.Duration beside the text the playbook wrote, is
// in fields the JSON leaves out, set with the shown ones and read back
// from them when a plan file is read (UnmarshalJSON).
package plan

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"
)

// Plan is the result of planning a playbook.
type Plan struct {
	// FormatVersion is the version of the JSON plan document; the planner
	// fills it (internal/jsondoc owns the versions).
	FormatVersion string           `json:"format_version"`
	Rokflow       string           `json:"rokflow_version"`
	Playbook      Playbook         `json:"playbook"`
	Hash          string           `json:"hash"`
	Discovered    bool             `json:"discovered"`
	Variables     map[string]Value `json:"variables"`
	Instances     []*Instance      `json:"instances"`
	Groups        []*Group         `json:"groups"`
	Outputs       map[string]Value `json:"outputs"`
	// Facts are what discovery found that a saved plan is bound to: the
	// outputs of read-only instances read before any change, by address,
	// as JSON values with secrets masked. Apply reads each again before
	// the instances after it and stops when it differs.
	Facts map[string]json.RawMessage `json:"facts,omitempty"`
	// Release is the upgrade path the plan takes, for a playbook with a
	// release block.
	Release *Release `json:"release,omitempty"`
	// Args encodes the instances' arguments when the plan is encoded.
	Args ArgsEncoder `json:"-"`
}

// Release is where the cluster stands against the playbook's from and to.
type Release struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Status is "unknown" (the release facts are known only at run time),
	// "upgrade", "nothing_to_do" (every node, and the cluster, is at to) or
	// "refused" (a node or the cluster is outside from and not at to).
	Status string `json:"status"`
	// KnownAfter names what the facts wait for while Status is unknown.
	KnownAfter string `json:"known_after,omitempty"`
	// Current is the cluster's release: its own when the playbook says
	// where it is, else the lowest of its nodes'.
	Current string `json:"current,omitempty"`
	// Nodes maps each node to its release ("" when not known).
	Nodes map[string]string `json:"nodes,omitempty"`
	// Pending lists, sorted, the nodes to upgrade; Outside the nodes (or
	// "cluster") whose release is neither in from nor at to.
	Pending []string `json:"pending,omitempty"`
	Outside []string `json:"outside,omitempty"`
}

// Playbook identifies the playbook a plan was made from.
type Playbook struct {
	Name        string `json:"name"`
	From        string `json:"from,omitempty"`
	To          string `json:"to,omitempty"`
	Description string `json:"description,omitempty"`
	Path        string `json:"path"`
	// Dir is the playbook's absolute directory, recorded in saved plans
	// only, so apply PLANFILE finds the playbook from anywhere.
	Dir string `json:"dir,omitempty"`
}

// Action is what will happen to a step instance. Its value is the word
// shown to people.
type Action string

// The actions a step instance can have in a plan.
const (
	// Run: the step will run.
	Run Action = "run"
	// Gate: the step waits for an operator's approval or its completion check.
	Gate Action = "gate"
	// Skip: the step's when condition is false.
	Skip Action = "skip"
	// Conditional: whether the step runs depends on values known at run time.
	Conditional Action = "conditional"
	// Deferred: the step belongs to a for_each whose collection is known only
	// at run time; the instance shown is a template for every element.
	Deferred Action = "deferred"
	// Read: a read-only step that ran during plan --discover.
	Read Action = "read"
)

// Instance is one step instance: one step, or one element of a step's
// for_each, or one step of one element of a group.
type Instance struct {
	Address string `json:"address"`
	Step    string `json:"step"`
	Kind    string `json:"kind"`
	Action  Action `json:"action"`
	Target  string `json:"target"`
	// TargetUnknown says Target is not a host yet: it says when it will
	// be known ("(known after step.x)"), or is "(sensitive)".
	TargetUnknown bool     `json:"-"`
	DependsOn     []string `json:"depends_on"`
	ReadOnly      bool     `json:"read_only"`
	Once          bool     `json:"once"`
	Gate          bool     `json:"gate"`
	Effect        string   `json:"effect"`
	// Module is the module path ("module.ganeti"), "" at the root.
	Module string `json:"module,omitempty"`
	// Group, Key and Batch place the instance in a rolling group.
	Group string `json:"group,omitempty"`
	Key   string `json:"key,omitempty"`
	Batch int    `json:"batch,omitempty"`

	// Description is the step's description, as written.
	Description  string   `json:"description,omitempty"`
	Summary      string   `json:"summary"`
	Command      []string `json:"command,omitempty"`
	Request      string   `json:"request,omitempty"`
	Instructions string   `json:"instructions,omitempty"`
	Diff         string   `json:"diff,omitempty"`
	Reason       string   `json:"reason,omitempty"`
	Timeout      string   `json:"timeout,omitempty"`
	// TimeoutAfter is Timeout as a duration, what a run acts on.
	TimeoutAfter Duration `json:"-"`
	Retry        *Retry   `json:"retry,omitempty"`
	// Undo is the address of the step that compensates this one once it
	// succeeded; Obligation, set with it, says which of its instances are
	// owed and when they may run.
	Undo string `json:"undo,omitempty"`
	*Obligation
	Args map[string]Value `json:"args"`
	// ArgValues holds the evaluated arguments, sensitive parts marked, from
	// which Args is filled when the plan is encoded. Read it through
	// Arguments: the planner may leave it to be built from ArgAttrs.
	ArgValues cty.Value `json:"-"`
	// ArgAttrs holds the arguments by name while ArgValues is not built:
	// building an object for each of thousands of instances costs a
	// quarter of planning, and most plans are only shown.
	ArgAttrs map[string]cty.Value `json:"-"`
	argsOnce sync.Once
	Outputs  map[string]Value `json:"outputs,omitempty"`
	Source   string           `json:"source"`
}

// Arguments returns ArgValues, building it from ArgAttrs the first time.
func (i *Instance) Arguments() cty.Value {
	i.argsOnce.Do(func() {
		if i.ArgValues == cty.NilVal && i.ArgAttrs != nil {
			i.ArgValues = cty.ObjectVal(i.ArgAttrs)
			i.ArgAttrs = nil
		}
	})
	return i.ArgValues
}

// Obligation is what an instance owes once it succeeded. It is a pointer
// in Instance, whose JSON holds its fields, so that the many instances
// without an undo do not carry it.
type Obligation struct {
	// UndoInstances are the undo step's instances that are owed.
	UndoInstances []string `json:"undo_instances,omitempty"`
	// UndoWhen is the source of the condition under which the owed undo
	// may run; UndoReads are the read-only instances it names, read again
	// when it is evaluated.
	UndoWhen  string   `json:"undo_when,omitempty"`
	UndoReads []string `json:"undo_reads,omitempty"`
}

// Retry is a step's retry policy.
type Retry struct {
	Attempts int    `json:"attempts"`
	Delay    string `json:"delay"`
	MaxDelay string `json:"max_delay"`
	// DelayAfter and MaxDelayAfter are Delay and MaxDelay as durations,
	// what a run acts on.
	DelayAfter    Duration `json:"-"`
	MaxDelayAfter Duration `json:"-"`
}

// Group is one group in a plan: its elements and how they roll.
type Group struct {
	Address     string   `json:"address"`
	Keys        []string `json:"keys"`
	Deferred    bool     `json:"deferred"`
	KnownAfter  string   `json:"known_after,omitempty"`
	Batch       int      `json:"batch"`
	Batches     int      `json:"batches"`
	MaxFailures int      `json:"max_failures"`
	Pause       string   `json:"pause"`
	// PauseAfter is Pause as a duration, what a run acts on.
	PauseAfter Duration `json:"-"`
}

// Value is a value as a plan shows it: its JSON form, with sensitive parts
// replaced by "(sensitive)" and unknown parts by "(known after step.x)".
// Sensitive and Unknown say whether any part is so.
type Value struct {
	JSON      json.RawMessage `json:"value"`
	Sensitive bool            `json:"sensitive,omitempty"`
	Unknown   bool            `json:"unknown,omitempty"`
}

// Text says where the release path stands, for people: "0.10.2 → 0.11.0,
// 3 of 3 nodes to upgrade".
func (r *Release) Text() string {
	if r == nil {
		return ""
	}
	cur := r.Current
	if cur == "" {
		cur = r.From
	}
	switch r.Status {
	case "unknown":
		what := "when the release facts are read"
		if r.KnownAfter != "" {
			what = "after " + r.KnownAfter
		}
		return fmt.Sprintf("%s → %s; the cluster's release is known %s", r.From, r.To, what)
	case "refused":
		return fmt.Sprintf("%s → %s refused: %s outside from %s", cur, r.To, strings.Join(r.Outside, ", "), r.From)
	case "nothing_to_do":
		return fmt.Sprintf("already at %s: nothing to do (%d nodes)", r.To, len(r.Nodes))
	}
	return fmt.Sprintf("%s → %s, %d of %d nodes to upgrade", cur, r.To, len(r.Pending), len(r.Nodes))
}
