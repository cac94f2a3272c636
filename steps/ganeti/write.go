package ganeti

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// writeKind is what the job-submitting kinds share: each builds one RAPI
// request from its arguments, and the run submits it once, journals the job
// id, and waits for the job (and the jobs it submits).
type writeKind struct {
	schema *steps.Schema
	// feature is the RAPI feature the request's body form needs, or "".
	feature string
	// build makes the request; it is called with unknown values at plan
	// time, so it validates only what is known.
	build func(args cty.Value) (request, hcl.Diagnostics)
	// summary is the plan's one line, without the RAPI endpoint.
	summary func(args cty.Value) string
	// prepare runs before the first submission (never on re-attach). It may
	// refuse, and returns facts to journal with the job id, for outputs.
	prepare func(ctx context.Context, c *rapiClient, args cty.Value) (map[string]string, hcl.Diagnostics)
	// outputs adds the kind's own outputs.
	outputs func(o *jobOutcome, facts map[string]string) map[string]cty.Value
}

// onceNote ends every write kind's description.
const onceNote = " The step runs at most once: as soon as the RAPI returns the job id, the step journals it as " +
	"its handle (with any fact read before submitting), and a run resumed after a crash re-attaches to " +
	"that job and waits for it instead of submitting again; only a crash between sending the request " +
	"and journaling the id leaves the step in doubt. With wait = true (the default) the step ends when " +
	"the job and every job it submitted are final, streams the jobs' log lines, and fails unless all " +
	"succeeded. Writes need a RAPI user with the write right."

var waitArg = &schema.Attribute{
	Type:        cty.Bool,
	Default:     cty.True,
	Description: "Wait until the job (and the jobs it submits) finish; false returns once the job is submitted and journaled (follow it with ganeti.job_wait).",
}

var dryRunArg = &schema.Attribute{
	Type:        cty.Bool,
	Default:     cty.False,
	Description: "Send ?dry-run=1: Ganeti checks the request and ends the job without changing anything.",
}

// writeSchema fills in what every write kind has.
func writeSchema(name, summary, description string, args map[string]*schema.Attribute, outputs map[string]*schema.Attribute, reversible bool) *steps.Schema {
	args["rapi"] = rapiArg
	args["wait"] = waitArg
	outs := map[string]*schema.Attribute{}
	for n, a := range jobOutputs {
		outs[n] = a
	}
	for n, a := range outputs {
		outs[n] = a
	}
	return &steps.Schema{
		Name:        name,
		Summary:     summary,
		Description: description + onceNote,
		Effect:      steps.Once,
		Reversible:  reversible,
		Target:      steps.TargetNone,
		Args:        &schema.Block{Attributes: args},
		Outputs:     outs,
		// The ids and status come from Ganeti's job queue; the result
		// and the job's log may repeat the request's parameters.
		Secrets: steps.Secrets{Credentials: rapiSecrets.Credentials, Clean: []string{"job_id", "status", "subjobs"}},
	}
}

func (w writeKind) Schema() *steps.Schema { return w.schema }

func (w writeKind) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	_, _, diags := parseRapi(steps.Attr(req.Args, "rapi"))
	r, bdiags := w.build(req.Args)
	return steps.PlanResponse{
		Summary:     w.summary(req.Args) + " via " + displayRapi(steps.Attr(req.Args, "rapi")),
		Request:     r.Display(),
		Diagnostics: append(diags, bdiags...),
	}
}

func (w writeKind) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	name := w.schema.Name
	r, diags := w.build(req.Args)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	if !r.known() {
		return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Arguments not known", "Kind %s needs known arguments.", name))}
	}
	c, cdiags := connect(name, req.Args)
	diags = append(diags, cdiags...)
	if c == nil {
		return steps.RunResponse{Diagnostics: diags}
	}
	say := func(line string) {
		if req.Output != nil {
			req.Output("stdout", line)
		}
	}

	var id string
	var facts map[string]string
	if req.Handle != "" {
		var err error
		if id, facts, err = parseHandle(req.Handle); err != nil {
			return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Invalid journaled handle",
				"The handle %q journaled by an earlier attempt is not a Ganeti job id: %s. Resolve the step by hand.", req.Handle, err))}
		}
		say("re-attaching to Ganeti job " + id + " submitted by an earlier attempt")
	} else {
		if w.feature != "" {
			if err := c.requireFeature(ctx, w.feature); err != nil {
				return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("RAPI feature missing", "%s.", err))}
			}
		}
		if w.prepare != nil {
			var pdiags hcl.Diagnostics
			facts, pdiags = w.prepare(ctx, c, req.Args)
			diags = append(diags, pdiags...)
			if pdiags.HasErrors() {
				return steps.RunResponse{Diagnostics: diags}
			}
		}
		path, body := r.encode()
		var raw json.Number
		if err := c.call(ctx, r.method, path, body, &raw); err != nil {
			detail := err.Error() + "."
			var re *rapiError
			if !errors.As(err, &re) {
				detail += " The request may have reached the RAPI before the failure, so a job may have been submitted: check GET /2/jobs before retrying."
			}
			return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("RAPI request failed", "%s", detail))}
		}
		var err error
		if id, err = jobID(raw); err != nil {
			return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Unexpected RAPI answer", "%s.", err))}
		}
		if req.RecordHandle != nil {
			if err := req.RecordHandle(formatHandle(id, facts)); err != nil {
				return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Cannot journal the Ganeti job",
					"Job %s was submitted, but its id could not be journaled (%s). Do not submit again: wait for job %s with ganeti.job_wait or gnt-job watch.", id, err, id))}
			}
		}
		say("submitted Ganeti job " + id + ": " + r.Display())
	}

	if wait, _ := steps.Bool(steps.Attr(req.Args, "wait"), true); !wait {
		o := &jobOutcome{id: id}
		j, err := c.getJob(ctx, id)
		if err != nil {
			return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Cannot read the Ganeti job", "%s.", err))}
		}
		o.job = j
		return steps.RunResponse{Outputs: w.allOutputs(o, facts), Diagnostics: diags}
	}
	o, err := c.waitAll(ctx, id, req.Output)
	if err != nil {
		return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Cannot follow the Ganeti job", "Waiting for job %s: %s.", id, err))}
	}
	out := w.allOutputs(o, facts)
	if len(o.problems) > 0 || o.status() != jobSuccess {
		return steps.RunResponse{Outputs: out, Diagnostics: append(diags, steps.Errorf("Ganeti job failed",
			"Job %s ended %s: %s.", id, o.status(), strings.Join(o.problems, "; ")))}
	}
	return steps.RunResponse{Outputs: out, Diagnostics: diags}
}

func (w writeKind) allOutputs(o *jobOutcome, facts map[string]string) cty.Value {
	out := o.outputs()
	if w.outputs != nil {
		for n, v := range w.outputs(o, facts) {
			out[n] = v
		}
	}
	return cty.ObjectVal(out)
}

// formatHandle journals a job id with the facts read before submitting:
// "16" or "16?previous_role=regular".
func formatHandle(id string, facts map[string]string) string {
	if len(facts) == 0 {
		return id
	}
	q := url.Values{}
	for k, v := range facts {
		q.Set(k, v)
	}
	return id + "?" + q.Encode()
}

func parseHandle(h string) (id string, facts map[string]string, err error) {
	id, rest, _ := strings.Cut(h, "?")
	if _, err := jobID(json.Number(id)); err != nil {
		return "", nil, err
	}
	q, err := url.ParseQuery(rest)
	if err != nil {
		return "", nil, err
	}
	facts = map[string]string{}
	for k := range q {
		facts[k] = q.Get(k)
	}
	return id, facts, nil
}

// movedOutputs are the outputs of the kinds that move instances away.
var movedOutputs = map[string]*schema.Attribute{
	"instances": {Type: cty.List(cty.String), Description: "The instances the submitted jobs moved, sorted: what a later step migrates back."},
	"moves":     {Type: cty.Map(cty.String), Description: "For each moved instance, the node it was sent to (\"\" when the job did not say)."},
}

func movedValues(o *jobOutcome, _ map[string]string) map[string]cty.Value {
	insts, to := o.moves()
	m := map[string]cty.Value{}
	for _, k := range sortedKeys(to) {
		m[k] = cty.StringVal(to[k])
	}
	return map[string]cty.Value{"instances": stringList(insts), "moves": mapOf(cty.String, m)}
}

// oneOf reports an error unless a known v is one of allowed.
func oneOf(arg string, v cty.Value, allowed ...string) hcl.Diagnostics {
	s, ok := steps.Str(v)
	if !ok {
		return nil
	}
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return hcl.Diagnostics{steps.Errorf("Invalid "+arg, "The %s argument must be one of %s; %q is not.", arg, quoteAll(allowed), s)}
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = `"` + s + `"`
	}
	sort.Strings(q)
	return strings.Join(q, ", ")
}

// exclusive reports an error when both a and b are set.
func exclusive(args cty.Value, a, b string) hcl.Diagnostics {
	va, vb := steps.Attr(args, a), steps.Attr(args, b)
	if va.IsKnown() && vb.IsKnown() && !va.IsNull() && !vb.IsNull() {
		return hcl.Diagnostics{steps.Errorf("Conflicting arguments", "Give %s or %s, not both.", a, b)}
	}
	return nil
}

func fields(args cty.Value, names ...string) []param {
	ps := make([]param, len(names))
	for i, n := range names {
		ps[i] = param{name: n, value: steps.Attr(args, n)}
	}
	return ps
}

// target renders where a move goes for summaries.
func target(args cty.Value, nodeArg string) string {
	switch {
	case !steps.Attr(args, nodeArg).IsNull():
		return " to node " + steps.Display(steps.Attr(args, nodeArg))
	case !steps.Attr(args, "iallocator").IsNull():
		return " to nodes chosen by " + steps.Display(steps.Attr(args, "iallocator"))
	}
	return ""
}

func dryRunPrefix(args cty.Value) string {
	if d, _ := steps.Bool(steps.Attr(args, "dry_run"), false); d {
		return "dry run: "
	}
	return ""
}
