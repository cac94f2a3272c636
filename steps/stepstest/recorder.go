package stepstest

import (
	"context"
	"slices"
	"sync"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// Recorder is a step kind for tests of the code that drives kinds. It
// records every Plan and Run request, in order, and answers Run with the
// responses queued by Respond, then with RunFunc, then with outputs copied
// from the arguments of the same name. It is safe for concurrent use.
type Recorder struct {
	schema *steps.Schema

	// PlanFunc, when set, answers Plan. Set it before the first call.
	PlanFunc func(ctx context.Context, req steps.PlanRequest) steps.PlanResponse
	// RunFunc, when set, answers Run calls for which no response is queued;
	// a test can block in it on a channel to control a run. Set it before
	// the first call.
	RunFunc func(ctx context.Context, req steps.RunRequest) steps.RunResponse

	mu     sync.Mutex
	plans  []steps.PlanRequest
	runs   []steps.RunRequest
	queued []steps.RunResponse
}

var _ steps.Kind = (*Recorder)(nil)

// NewRecorder returns a Recorder named name with RecorderSchema's schema,
// after applying the edits in order (to change its effect, make it a gate,
// add arguments or outputs).
func NewRecorder(name string, edits ...func(*steps.Schema)) *Recorder {
	s := RecorderSchema(name)
	for _, e := range edits {
		e(s)
	}
	return &Recorder{schema: s}
}

// RecorderSchema is the schema a Recorder starts from: an idempotent host
// kind with one optional argument `value` of any type, echoed to the output
// `value`.
func RecorderSchema(name string) *steps.Schema {
	return &steps.Schema{
		Name:        name,
		Summary:     "Records its requests (a test kind).",
		Description: "A kind for tests: it records each Plan and Run request and answers with injected results.",
		Effect:      steps.Idempotent,
		Target:      steps.TargetHost,
		Args: &schema.Block{Attributes: map[string]*schema.Attribute{
			"value": {Type: cty.DynamicPseudoType, Description: "Any value; echoed to outputs.value."},
		}},
		Outputs: map[string]*schema.Attribute{
			"value": {Type: cty.DynamicPseudoType, Description: "The value argument."},
		},
	}
}

// Schema returns the recorder's schema.
func (r *Recorder) Schema() *steps.Schema { return r.schema }

// Plan records req and answers with PlanFunc, or with a summary naming the
// kind and showing its arguments.
func (r *Recorder) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	r.mu.Lock()
	r.plans = append(r.plans, req)
	r.mu.Unlock()
	if r.PlanFunc != nil {
		return r.PlanFunc(ctx, req)
	}
	return steps.PlanResponse{Summary: r.schema.Name + " " + steps.Display(req.Args)}
}

// Run records req and answers with the next queued response, RunFunc, or
// outputs copied from same-named arguments (null where there is none).
func (r *Recorder) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	r.mu.Lock()
	r.runs = append(r.runs, req)
	if len(r.queued) > 0 {
		resp := r.queued[0]
		r.queued = r.queued[1:]
		r.mu.Unlock()
		return resp
	}
	r.mu.Unlock()
	if r.RunFunc != nil {
		return r.RunFunc(ctx, req)
	}
	return steps.RunResponse{Outputs: r.echo(req.Args)}
}

func (r *Recorder) echo(args cty.Value) cty.Value {
	outs := make(map[string]cty.Value, len(r.schema.Outputs))
	for name, a := range r.schema.Outputs {
		outs[name] = cty.NullVal(a.Type)
		if args.IsKnown() && !args.IsNull() && args.Type().IsObjectType() && args.Type().HasAttribute(name) {
			if v, err := convert.Convert(args.GetAttr(name), a.Type); err == nil {
				outs[name] = v
			}
		}
	}
	return cty.ObjectVal(outs)
}

// Respond queues responses for the next Run calls, one each, in order.
func (r *Recorder) Respond(resps ...steps.RunResponse) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queued = append(r.queued, resps...)
}

// Plans returns the Plan requests received so far, in order.
func (r *Recorder) Plans() []steps.PlanRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.plans)
}

// Runs returns the Run requests received so far, in order.
func (r *Recorder) Runs() []steps.RunRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.runs)
}
