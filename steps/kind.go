package steps

import (
	"context"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
)

// A Kind is one kind of step, such as "exec" or "ganeti.node_evacuate".
type Kind interface {
	// Schema describes the kind; it is called often and must be cheap and
	// return the same value every time.
	Schema() *Schema
	// Plan describes what Run would do with the given arguments, which may
	// still hold unknown values. It must not change anything, and it may be
	// called from several goroutines at once (large groups are planned in
	// shares side by side).
	Plan(ctx context.Context, req PlanRequest) PlanResponse
	// Run performs the step. Its arguments are wholly known.
	Run(ctx context.Context, req RunRequest) RunResponse
}

// Schema is what a kind declares about itself, as data.
type Schema struct {
	// Name is the value of `uses` that selects this kind.
	Name string
	// Summary is one line shown in listings; Description may be longer.
	Summary     string
	Description string
	Effect      Effect
	// Gate kinds wait for a person (or an automated check) before they finish.
	Gate bool
	// Reversible kinds can be paired with an undo step.
	Reversible bool
	// NoDiscover keeps a read-only kind out of plan --discover: it waits
	// for a condition, or verifies what earlier steps of the run change,
	// so running it before them only waits or fails.
	NoDiscover bool
	// Target says whether the kind acts on a host named by `on`.
	Target TargetUse
	// DefaultTimeout, a duration such as "10m", is the timeout a step of
	// this kind has when it sets none; empty means none. Kinds that wait
	// for a condition set it so that they end: the step's `timeout` is
	// their bound (the runtime gives Run a context with that deadline), so
	// they declare no argument of their own for it.
	DefaultTimeout string
	Args           *schema.Block
	// Outputs lists the attributes of step.NAME.outputs after a run.
	Outputs map[string]*schema.Attribute
	// Secrets says which outputs and output lines cannot carry a
	// sensitive argument; by default none can (see Secrets).
	Secrets Secrets
}

// TargetUse says how a kind uses its step's `on` argument.
type TargetUse int

const (
	// TargetHost: the kind runs on the host named by `on` (default local).
	TargetHost TargetUse = iota
	// TargetNone: the kind talks to a service named in its arguments (an
	// HTTP endpoint, etcd, the Ganeti RAPI); `on` is not allowed.
	TargetNone
)

// OutputType is the object type of the kind's outputs.
func (s *Schema) OutputType() cty.Type {
	atys := make(map[string]cty.Type, len(s.Outputs))
	for n, a := range s.Outputs {
		atys[n] = a.Type
	}
	return cty.Object(atys)
}

// PlanRequest carries the evaluated arguments of one step instance.
type PlanRequest struct {
	Args   cty.Value // may contain unknowns; sensitive values are marked
	Target string    // empty when the target is not yet known or unused
	// Host is set when the plan may look at the target (plan --discover);
	// a kind may read files through it to show a diff. Nil otherwise.
	Host Host
}

// Attrs are a step's arguments read by name. A cty object value is Attrs,
// and so is an AttrMap.
type Attrs interface {
	GetAttr(name string) cty.Value
}

// AttrMap holds arguments by name; it has every attribute of the kind's
// schema.
type AttrMap map[string]cty.Value

// GetAttr returns the argument called name.
func (m AttrMap) GetAttr(name string) cty.Value { return m[name] }

// An AttrPlanner is a kind whose Plan reads its arguments only by name.
// The core then calls PlanAttrs with the arguments as an AttrMap (and
// req.Args unset), and builds the argument object only when the step runs
// or the plan is saved: for a plan of thousands of instances that object
// is a quarter of the work. PlanAttrs must answer as Plan would.
type AttrPlanner interface {
	PlanAttrs(ctx context.Context, args Attrs, req PlanRequest) PlanResponse
}

// PlanResponse is a kind's description of what it will do.
type PlanResponse struct {
	// Summary is one line for people: "run upgrade-node", "evacuate node h1".
	Summary string
	// Command is the exact argv the step will run, when it runs one.
	Command []string
	// Request is the exact request line for request-based kinds
	// ("POST /2/nodes/h1/evacuate").
	Request string
	// Diff is a unified diff of the file changes, when they can be known.
	Diff string
	// Instructions are what a gate asks a person to do.
	Instructions string
	Diagnostics  hcl.Diagnostics
}

// RunRequest carries the wholly known arguments of one step instance.
type RunRequest struct {
	Args   cty.Value
	Target string
	Host   Host
	// Output receives the step's output lines as they come. The core
	// withholds them when Sensitive, unless the kind's Secrets say its
	// stream is clean.
	Output func(stream, line string)
	// Sensitive says the arguments hold a sensitive value that can reach
	// what the kind produces. Args are plain values all the same; the core
	// marks the outputs. A kind must then not quote in its diagnostics what
	// its program or service printed, since that may carry the value in
	// any form.
	Sensitive bool
	// Handle is the external handle (a Ganeti job id) recorded by this
	// attempt of the step before a crash cut it short, or "" when the
	// attempt is new. A kind that can re-attach to it must do so instead of
	// acting again. An attempt after a failure, an undo or a retry
	// resolution is new: handles of earlier attempts are never given.
	Handle string
	// RecordHandle durably records an external handle as soon as the kind has
	// one; it returns only after the record is safe.
	RecordHandle func(handle string) error
}

// Identifier is implemented by read-only kinds whose outputs identify the
// system a run acts on (a cluster's name and members). The executor
// records the identity the first time such a step succeeds in a run, and
// a resumed run re-reads it before acting: a run is never continued on
// another system.
type Identifier interface {
	// Identity returns the identifying part of outputs as stable text,
	// and false when outputs do not identify anything.
	Identity(outputs cty.Value) (string, bool)
}

// RunResponse is the result of a run.
type RunResponse struct {
	Outputs     cty.Value
	Diagnostics hcl.Diagnostics
}

// Effect is the side-effect class of a kind, from which plan, retry and
// resume behaviour are derived.
type Effect int

const (
	// ReadOnly kinds change nothing; plan --discover may run them.
	ReadOnly Effect = iota
	// Idempotent kinds may be retried and re-run after a crash.
	Idempotent
	// Once kinds must never run twice unattended; a crash during one leaves
	// it in doubt unless the kind can re-attach to its external handle.
	Once
)

func (e Effect) String() string {
	switch e {
	case ReadOnly:
		return "read-only"
	case Idempotent:
		return "idempotent"
	case Once:
		return "once"
	}
	return "unknown"
}
