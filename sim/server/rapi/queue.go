package rapi

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Ganeti job and opcode statuses.
const (
	JobQueued   = "queued"
	JobRunning  = "running"
	JobSuccess  = "success"
	JobError    = "error"
	JobCanceled = "canceled"
)

// Job is a Ganeti job: a list of opcodes run one after another by the
// simulator's queue; the fields are what GET /2/jobs/ID shows, and what
// the cluster's state file keeps.
type Job struct {
	ID         int              `json:"id"`
	Ops        []map[string]any `json:"ops"`
	Status     string           `json:"status"`
	Summary    []string         `json:"summary"`
	OpStatus   []string         `json:"opstatus"`
	OpResult   []any            `json:"opresult"`
	OpLog      [][]any          `json:"oplog"`
	ReceivedTS []int64          `json:"received_ts"`
	StartTS    []int64          `json:"start_ts"`
	EndTS      []int64          `json:"end_ts"`
	// Next is the opcode to run next; LogSerial the last log serial.
	Next      int  `json:"next"`
	LogSerial int  `json:"log_serial"`
	DryRun    bool `json:"dry_run"`
}

func timestamp(t time.Time) []int64 { return []int64{t.Unix(), int64(t.Nanosecond() / 1000)} }

// Final says the job has ended (success, error or canceled).
func (j *Job) Final() bool {
	return j.Status == JobSuccess || j.Status == JobError || j.Status == JobCanceled
}

// opSummary is how Ganeti summarises an opcode: INSTANCE_MIGRATE(inst1).
func opSummary(op map[string]any) string {
	id, _ := op["OP_ID"].(string)
	s := strings.TrimPrefix(id, "OP_")
	for _, k := range []string{"instance_name", "node_name"} {
		if v, ok := op[k].(string); ok {
			return s + "(" + v + ")"
		}
	}
	return s
}

// NewJob is a queued job of ops with the given id, each opcode completed
// with Ganeti's defaults and reason trail (reason is the RAPI resource
// that submitted it; an op's "_reason" is its parent job's trail).
func NewJob(id int, reason string, dryRun bool, ops ...map[string]any) *Job {
	now := time.Now()
	j := &Job{ID: id, Status: JobQueued, ReceivedTS: timestamp(now), DryRun: dryRun}
	for i, op := range ops {
		full := map[string]any{"debug_level": 0, "priority": 0, "depends": nil, "comment": nil}
		var trail []any
		if reason != "" {
			trail = append(trail, []any{"gnt:library:rlib2:" + reason, "", now.UnixNano()})
		}
		if parent, ok := op["_reason"].([]any); ok {
			trail = append(append([]any{}, parent...), trail...)
		}
		delete(op, "_reason")
		opName := strings.ToLower(strings.TrimPrefix(op["OP_ID"].(string), "OP_"))
		trail = append(trail, []any{"gnt:opcode:" + opName, fmt.Sprintf("job=%d;index=%d", id, i), now.UnixNano()})
		full["reason"] = trail
		for k, v := range op {
			full[k] = v
		}
		j.Ops = append(j.Ops, full)
		j.Summary = append(j.Summary, opSummary(full))
		j.OpStatus = append(j.OpStatus, JobQueued)
		j.OpResult = append(j.OpResult, nil)
		j.OpLog = append(j.OpLog, []any{})
	}
	return j
}

// Start marks the next opcode running (and the job, if it was queued) and
// returns its index.
func (j *Job) Start() int {
	i := j.Next
	if j.Status == JobQueued {
		j.Status = JobRunning
		j.StartTS = timestamp(time.Now())
	}
	j.OpStatus[i] = JobRunning
	return i
}

// Record records the outcome of opcode i: its log lines, and its result
// or error. An error fails the opcodes after it and the job.
func (j *Job) Record(i int, result any, oerr *OpError, logs []string) {
	for _, l := range logs {
		j.LogSerial++
		j.OpLog[i] = append(j.OpLog[i], []any{j.LogSerial, timestamp(time.Now()), "message", l})
	}
	j.Next = i + 1
	if oerr != nil {
		j.OpStatus[i] = JobError
		j.OpResult[i] = oerr.Result()
		for k := i + 1; k < len(j.Ops); k++ {
			j.OpStatus[k] = JobError
			j.OpResult[k] = ExecError("Preceding opcode failed").Result()
		}
		j.Status = JobError
		j.EndTS = timestamp(time.Now())
		return
	}
	j.OpStatus[i] = JobSuccess
	j.OpResult[i] = result
	if j.Next == len(j.Ops) {
		j.Status = JobSuccess
		j.EndTS = timestamp(time.Now())
	}
}

// cancel cancels a queued job; false when it is not queued.
func (j *Job) cancel() bool {
	if j == nil || j.Status != JobQueued {
		return false
	}
	j.Status = JobCanceled
	for k := range j.OpStatus {
		j.OpStatus[k] = JobCanceled
		j.OpResult[k] = ExecError("Job canceled by request").Result()
	}
	j.EndTS = timestamp(time.Now())
	return true
}

// OpError is a failed opcode's result: ["OpPrereqError", [msg, code]].
type OpError struct {
	Class string
	Msg   string
	Code  string
}

// Prereq is an OpPrereqError with Ganeti's error code (wrong_input,
// wrong_state, ...).
func Prereq(code, format string, args ...any) *OpError {
	return &OpError{Class: "OpPrereqError", Msg: fmt.Sprintf(format, args...), Code: code}
}

// ExecError is an OpExecError.
func ExecError(format string, args ...any) *OpError {
	return &OpError{Class: "OpExecError", Msg: fmt.Sprintf(format, args...)}
}

// Result is the error as a job's opresult shows it.
func (e *OpError) Result() any {
	args := []any{e.Msg}
	if e.Code != "" {
		args = append(args, e.Code)
	}
	return []any{e.Class, args}
}

// view is GET /2/jobs/ID; unknown ids give every field null, as Ganeti.
func (j *Job) view(id int) map[string]any {
	if j == nil {
		return map[string]any{"id": id, "ops": nil, "status": nil, "summary": nil, "opstatus": nil,
			"received_ts": nil, "start_ts": nil, "end_ts": nil, "oplog": nil, "opresult": nil}
	}
	ts := func(t []int64) any {
		if t == nil {
			return nil
		}
		return t
	}
	return map[string]any{"id": j.ID, "ops": j.Ops, "status": j.Status, "summary": j.Summary, "opstatus": j.OpStatus,
		"received_ts": ts(j.ReceivedTS), "start_ts": ts(j.StartTS), "end_ts": ts(j.EndTS), "oplog": j.OpLog, "opresult": j.OpResult}
}

// field returns one field of the job for /wait.
func (j *Job) field(name string) any {
	v := j.view(j.ID)
	if f, ok := v[name]; ok {
		return f
	}
	return nil
}

// logsAfter returns the log entries with a serial above serial.
func (j *Job) logsAfter(serial int) []any {
	out := []any{}
	for _, opl := range j.OpLog {
		for _, e := range opl {
			entry, _ := e.([]any)
			if len(entry) == 0 {
				continue
			}
			var n int
			switch v := entry[0].(type) {
			case int:
				n = v
			case float64:
				n = int(v)
			case string:
				n, _ = strconv.Atoi(v)
			}
			if n > serial {
				out = append(out, entry)
			}
		}
	}
	return out
}
