package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Ganeti job and opcode statuses.
const (
	jobQueued   = "queued"
	jobRunning  = "running"
	jobSuccess  = "success"
	jobError    = "error"
	jobCanceled = "canceled"
)

// job is a Ganeti job: a list of opcodes run one after another by the
// queue; the fields are what GET /2/jobs/ID shows.
type job struct {
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

func final(status string) bool {
	return status == jobSuccess || status == jobError || status == jobCanceled
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

// submit queues a job of ops and returns its id. The caller holds s.mu.
func (s *Server) submit(reason string, dryRun bool, ops ...map[string]any) *job {
	g := s.st.Ganeti
	id := g.NextJob
	g.NextJob++
	now := time.Now()
	j := &job{ID: id, Status: jobQueued, ReceivedTS: timestamp(now), DryRun: dryRun}
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
		j.OpStatus = append(j.OpStatus, jobQueued)
		j.OpResult = append(j.OpResult, nil)
		j.OpLog = append(j.OpLog, []any{})
	}
	g.Jobs = append(g.Jobs, j)
	s.st.event("", "Ganeti job %d submitted: %s", id, strings.Join(j.Summary, ", "))
	kick(s.kickJobs)
	return j
}

func (g *ganeti) job(id int) *job {
	for _, j := range g.Jobs {
		if j.ID == id {
			return j
		}
	}
	return nil
}

// opError is a failed opcode's result: ["OpPrereqError", [msg, code]].
type opError struct {
	Class string
	Msg   string
	Code  string
}

func prereq(code, format string, args ...any) *opError {
	return &opError{Class: "OpPrereqError", Msg: fmt.Sprintf(format, args...), Code: code}
}

func execError(format string, args ...any) *opError {
	return &opError{Class: "OpExecError", Msg: fmt.Sprintf(format, args...)}
}

func (e *opError) result() any {
	args := []any{e.Msg}
	if e.Code != "" {
		args = append(args, e.Code)
	}
	return []any{e.Class, args}
}

// runJobs is the job queue: one job at a time, one opcode after another,
// each taking the spec's JobDelay (plus a slow host's latency). A job
// interrupted by a restart resumes at the opcode that was running, since
// an opcode changes the state only when it completes.
func (s *Server) runJobs() {
	defer s.wg.Done()
	if s.st.Ganeti == nil {
		<-s.stopping
		return
	}
	for {
		s.mu.Lock()
		var j *job
		for _, c := range s.st.Ganeti.Jobs {
			if c.Status == jobQueued || c.Status == jobRunning {
				j = c
				break
			}
		}
		if j == nil {
			s.mu.Unlock()
			select {
			case <-s.stopping:
				return
			case <-s.kickJobs:
			}
			continue
		}
		i := j.Next
		if j.Status == jobQueued {
			j.Status = jobRunning
			j.StartTS = timestamp(time.Now())
		}
		j.OpStatus[i] = jobRunning
		target, _ := j.Ops[i]["instance_name"].(string)
		if target == "" {
			target, _ = j.Ops[i]["node_name"].(string)
		}
		delay := s.st.Spec.JobDelay.D() + s.st.Spec.Faults.Slow[s.st.hostOf(target)].D()
		_ = s.saveLocked()
		s.mu.Unlock()
		if !s.sleep(delay) {
			return
		}
		s.mu.Lock()
		s.runOp(j, i)
		s.flushEvents()
		_ = s.saveLocked()
		s.mu.Unlock()
	}
}

// runOp runs opcode i of j and records its outcome. The caller holds s.mu.
func (s *Server) runOp(j *job, i int) {
	op := j.Ops[i]
	var logs []string
	log := func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }
	result, oerr := s.execOp(j, op, log)
	for _, l := range logs {
		j.LogSerial++
		now := time.Now()
		j.OpLog[i] = append(j.OpLog[i], []any{j.LogSerial, timestamp(now), "message", l})
	}
	j.Next = i + 1
	if oerr != nil {
		j.OpStatus[i] = jobError
		j.OpResult[i] = oerr.result()
		for k := i + 1; k < len(j.Ops); k++ {
			j.OpStatus[k] = jobError
			j.OpResult[k] = execError("Preceding opcode failed").result()
		}
		j.Status = jobError
		j.EndTS = timestamp(time.Now())
		s.st.event("", "Ganeti job %d failed: %s: %s", j.ID, j.Summary[i], oerr.Msg)
		return
	}
	j.OpStatus[i] = jobSuccess
	j.OpResult[i] = result
	if j.Next == len(j.Ops) {
		j.Status = jobSuccess
		j.EndTS = timestamp(time.Now())
		s.st.event("", "Ganeti job %d succeeded: %s", j.ID, strings.Join(j.Summary, ", "))
	}
}

// jobView is GET /2/jobs/ID; unknown ids give every field null, as Ganeti.
func (j *job) view(id int) map[string]any {
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
func (j *job) field(name string) any {
	v := j.view(j.ID)
	if f, ok := v[name]; ok {
		return f
	}
	return nil
}

// logsAfter returns the log entries with a serial above serial.
func (j *job) logsAfter(serial int) []any {
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
