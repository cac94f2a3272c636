package ganeti

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// JobWait is the kind ganeti.job_wait: it waits for a job given by id.
type JobWait struct{}

var _ steps.Kind = JobWait{}

var jobWaitSchema = func() *steps.Schema {
	outs := map[string]*schema.Attribute{}
	for n, a := range jobOutputs {
		outs[n] = a
	}
	for n, a := range movedOutputs {
		outs[n] = a
	}
	return &steps.Schema{
		Name:    "ganeti.job_wait",
		Summary: "Wait for a Ganeti job, and the jobs it submitted, to finish.",
		Description: "Follows job job_id until it is final: with GET /2/jobs/ID/wait, a long poll that streams " +
			"the job's log lines (it needs the write right), or, when the user may not use it, by reading " +
			"GET /2/jobs/ID every 2 seconds. With subjobs = true it then waits for each job the job submitted " +
			"(node evacuate and node migrate submit one per instance). A job id the cluster does not know " +
			"(never submitted, or archived) fails the step: Ganeti answers such ids with an all-null job " +
			"rather than 404. It changes nothing.",
		Effect: steps.ReadOnly,
		Target: steps.TargetNone,
		Args: &schema.Block{Attributes: map[string]*schema.Attribute{
			"rapi":    rapiArg,
			"job_id":  {Type: cty.String, Required: true, Description: "The job id, e.g. step.evacuate.outputs.job_id."},
			"subjobs": {Type: cty.Bool, Default: cty.True, Description: "Also wait for the jobs the job submitted."},
			"require_success": {Type: cty.Bool, Default: cty.True,
				Description: "Fail the step unless the job (and its sub-jobs) succeeded; false only reports the status."},
		}},
		Outputs: outs,
		Secrets: steps.Secrets{Credentials: rapiSecrets.Credentials, Clean: []string{"job_id", "status", "subjobs"}},
	}
}()

// Schema implements steps.Kind.
func (JobWait) Schema() *steps.Schema { return jobWaitSchema }

func jobWaitRequest(args cty.Value) request {
	return get("/2/jobs/", steps.Attr(args, "job_id"), "/wait")
}

// Plan implements steps.Kind.
func (JobWait) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	id := steps.Attr(req.Args, "job_id")
	p := readPlan(req.Args, "wait for Ganeti job "+steps.Display(id), jobWaitRequest(req.Args), checkJobID(id))
	return p
}

func checkJobID(v cty.Value) hcl.Diagnostics {
	s, ok := steps.Str(v)
	if !ok {
		return nil
	}
	if _, err := jobID(json.Number(s)); err != nil {
		return hcl.Diagnostics{steps.Errorf("Invalid job_id", "The job_id argument must be a Ganeti job id (a whole number); %q is not.", s)}
	}
	return nil
}

// Run implements steps.Kind.
func (JobWait) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	idV := steps.Attr(req.Args, "job_id")
	diags := checkJobID(idV)
	if len(diags) > 0 {
		return steps.RunResponse{Diagnostics: diags}
	}
	id, _ := steps.Str(idV)
	c, cdiags := connect(jobWaitSchema.Name, req.Args)
	diags = append(diags, cdiags...)
	if c == nil {
		return steps.RunResponse{Diagnostics: diags}
	}
	var o *jobOutcome
	var err error
	if subs, _ := steps.Bool(steps.Attr(req.Args, "subjobs"), true); subs {
		o, err = c.waitAll(ctx, id, req.Output)
	} else {
		o = &jobOutcome{id: id}
		o.job, err = c.waitJob(ctx, id, req.Output)
		if err == nil {
			if f := o.job.failure(); f != "" {
				o.problems = append(o.problems, f)
			}
		}
	}
	if err != nil {
		return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Cannot follow the Ganeti job", "Waiting for job %s: %s.", id, err))}
	}
	out := o.outputs()
	for n, v := range movedValues(o, nil) {
		out[n] = v
	}
	outputs := cty.ObjectVal(out)
	if must, _ := steps.Bool(steps.Attr(req.Args, "require_success"), true); must && (len(o.problems) > 0 || o.status() != jobSuccess) {
		return steps.RunResponse{Outputs: outputs, Diagnostics: append(diags, steps.Errorf("Ganeti job failed",
			"Job %s ended %s: %s.", id, o.status(), strings.Join(o.problems, "; ")))}
	}
	return steps.RunResponse{Outputs: outputs, Diagnostics: diags}
}
