package ganeti

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
)

// job is what GET /2/jobs/ID tells about a job. Status is nil for a job the
// cluster does not know (never existed, or archived): the RAPI answers 200
// with every field null rather than 404.
type job struct {
	ID       json.Number       `json:"id"`
	Status   *string           `json:"status"`
	Summary  []string          `json:"summary"`
	OpStatus []string          `json:"opstatus"`
	OpResult []json.RawMessage `json:"opresult"`
	Ops      []map[string]any  `json:"ops"`
}

// Job statuses; the last three are final.
const (
	jobSuccess  = "success"
	jobError    = "error"
	jobCanceled = "canceled"
)

func finalStatus(s string) bool { return s == jobSuccess || s == jobError || s == jobCanceled }

// getJob reads a job.
func (c *rapiClient) getJob(ctx context.Context, id string) (*job, error) {
	var j job
	if err := c.call(ctx, http.MethodGet, "/2/jobs/"+url.PathEscape(id), nil, &j); err != nil {
		return nil, err
	}
	if j.Status == nil {
		return nil, fmt.Errorf("job %s is unknown to the cluster (never submitted, or already archived)", id)
	}
	return &j, nil
}

// pollInterval is how often a job is read when /wait is not allowed.
const pollInterval = 2 * time.Second

// waitJob waits until the job reaches a final status and returns it. It
// long-polls GET /2/jobs/ID/wait (which needs the write right) and streams
// the job's log lines; when the user may not use /wait it reads the job
// every pollInterval instead.
func (c *rapiClient) waitJob(ctx context.Context, id string, output func(stream, line string)) (*job, error) {
	var prevInfo []any
	var prevSerial *json.Number
	useWait := true
	for {
		if useWait {
			body, _ := json.Marshal(map[string]any{
				"fields":              []string{"status"},
				"previous_job_info":   prevInfo,
				"previous_log_serial": prevSerial,
			})
			var res *struct {
				JobInfo    []any   `json:"job_info"`
				LogEntries [][]any `json:"log_entries"`
			}
			err := c.call(ctx, http.MethodGet, "/2/jobs/"+url.PathEscape(id)+"/wait", body, &res)
			var re *rapiError
			switch {
			case errors.As(err, &re) && re.Status == http.StatusForbidden:
				useWait = false
				continue
			case errors.As(err, &re) && re.Status == http.StatusNotFound:
				return nil, fmt.Errorf("job %s is unknown to the cluster (never submitted, or already archived)", id)
			case err != nil:
				return nil, err
			}
			if res == nil {
				continue // no change within the server's 10 s
			}
			for _, e := range res.LogEntries {
				if len(e) < 4 {
					continue
				}
				if n, ok := e[0].(json.Number); ok {
					prevSerial = &n
				}
				if output != nil {
					output("stdout", fmt.Sprintf("job %s: %v", id, e[3]))
				}
			}
			prevInfo = res.JobInfo
			if len(res.JobInfo) > 0 {
				if s, ok := res.JobInfo[0].(string); ok && finalStatus(s) {
					return c.getJob(ctx, id)
				}
				if res.JobInfo[0] == nil {
					return nil, fmt.Errorf("job %s is unknown to the cluster (never submitted, or already archived)", id)
				}
			}
			continue
		}
		j, err := c.getJob(ctx, id)
		if err != nil {
			return nil, err
		}
		if finalStatus(*j.Status) {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// subJobs returns the jobs a job submitted (node evacuate and node migrate:
// opresult[0] = {"jobs": [[true, id], [false, "why"], ...]}): their ids,
// and the reasons of those that could not be submitted.
func (j *job) subJobs() (ids []string, failures []string) {
	if len(j.OpResult) == 0 {
		return nil, nil
	}
	var res struct {
		Jobs [][]json.RawMessage `json:"jobs"`
	}
	if json.Unmarshal(j.OpResult[0], &res) != nil {
		return nil, nil
	}
	for _, e := range res.Jobs {
		if len(e) != 2 {
			continue
		}
		var ok bool
		_ = json.Unmarshal(e[0], &ok)
		if ok {
			ids = append(ids, strings.Trim(string(e[1]), `"`))
		} else {
			var why any
			_ = json.Unmarshal(e[1], &why)
			failures = append(failures, fmt.Sprint(why))
		}
	}
	return ids, failures
}

// failure describes why a job failed, from its failed op's result
// ["OpPrereqError", ["message", "wrong_input"]]; "" for a successful job.
func (j *job) failure() string {
	if j.Status == nil || *j.Status == jobSuccess {
		return ""
	}
	for i, st := range j.OpStatus {
		if st != jobError || i >= len(j.OpResult) {
			continue
		}
		var r []json.RawMessage
		if json.Unmarshal(j.OpResult[i], &r) == nil && len(r) == 2 {
			var class string
			_ = json.Unmarshal(r[0], &class)
			var args []any
			_ = json.Unmarshal(r[1], &args)
			msg := class
			if len(args) > 0 {
				msg += ": " + fmt.Sprint(args[0])
			}
			if len(args) > 1 {
				msg += " (" + fmt.Sprint(args[1]) + ")"
			}
			summary := ""
			if i < len(j.Summary) {
				summary = j.Summary[i] + ": "
			}
			return summary + msg
		}
	}
	return "job " + string(j.ID) + " ended " + *j.Status
}

// jobOutcome is a waited-for job with its sub-jobs.
type jobOutcome struct {
	id      string
	job     *job
	subjobs []string
	subs    []*job
	// problems lists why the job or a sub-job did not succeed.
	problems []string
}

// status is the overall status: success only when the job and every
// sub-job succeeded.
func (o *jobOutcome) status() string {
	if o.job == nil {
		return "unknown"
	}
	st := *o.job.Status
	if st != jobSuccess {
		return st
	}
	for _, s := range o.subs {
		switch *s.Status {
		case jobError:
			st = jobError
		case jobCanceled:
			if st == jobSuccess {
				st = jobCanceled
			}
		}
	}
	if st == jobSuccess && len(o.problems) > 0 {
		st = jobError
	}
	return st
}

// waitAll waits for the job and, when it submitted sub-jobs, for each of
// them: an evacuation is "success" as soon as it has submitted its
// migrations, which may then fail.
func (c *rapiClient) waitAll(ctx context.Context, id string, output func(stream, line string)) (*jobOutcome, error) {
	o := &jobOutcome{id: id}
	j, err := c.waitJob(ctx, id, output)
	if err != nil {
		return o, err
	}
	o.job = j
	if f := j.failure(); f != "" {
		o.problems = append(o.problems, f)
	}
	ids, failures := j.subJobs()
	o.subjobs = ids
	for _, f := range failures {
		o.problems = append(o.problems, "a job could not be submitted: "+f)
	}
	for _, sid := range ids {
		sj, err := c.waitJob(ctx, sid, output)
		if err != nil {
			return o, err
		}
		o.subs = append(o.subs, sj)
		if f := sj.failure(); f != "" {
			o.problems = append(o.problems, "job "+sid+": "+f)
		}
	}
	return o, nil
}

// moves returns, from the sub-jobs' ops, the instances moved (sorted) and
// the node each was sent to ("" when the op names none).
func (o *jobOutcome) moves() (instances []string, to map[string]string) {
	to = map[string]string{}
	for _, s := range o.subs {
		for _, op := range s.Ops {
			name, _ := op["instance_name"].(string)
			if name == "" {
				continue
			}
			if _, seen := to[name]; !seen {
				instances = append(instances, name)
			}
			target, _ := op["target_node"].(string)
			if target == "" {
				target, _ = op["remote_node"].(string)
			}
			to[name] = target
		}
	}
	sort.Strings(instances)
	return instances, to
}

// jobOutputs are the outputs every job-submitting kind has.
var jobOutputs = map[string]*schema.Attribute{
	"job_id":  {Type: cty.String, Description: "The Ganeti job id (also journaled as the step's handle)."},
	"status":  {Type: cty.String, Description: "The overall status: success only when the job and every job it submitted succeeded; otherwise error or canceled (or the current status when wait is false)."},
	"subjobs": {Type: cty.List(cty.String), Description: "The ids of the jobs this job submitted (one per instance for evacuate and node migrate)."},
	"result":  {Type: cty.DynamicPseudoType, Description: "The job's opresult, one entry per opcode, as Ganeti returns it."},
}

// outputs renders o as the common job outputs.
func (o *jobOutcome) outputs() map[string]cty.Value {
	result := cty.NullVal(cty.DynamicPseudoType)
	if o.job != nil && o.job.OpResult != nil {
		if raw, err := json.Marshal(o.job.OpResult); err == nil {
			result = jsonToCty(raw)
		}
	}
	return map[string]cty.Value{
		"job_id":  cty.StringVal(o.id),
		"status":  cty.StringVal(o.status()),
		"subjobs": stringList(o.subjobs),
		"result":  result,
	}
}

// jobID reads the bare integer a write returns.
func jobID(raw json.Number) (string, error) {
	if _, err := strconv.ParseInt(string(raw), 10, 64); err != nil {
		return "", fmt.Errorf("the RAPI answered %q, not a job id", string(raw))
	}
	return string(raw), nil
}
