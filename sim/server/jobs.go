package server

import (
	"fmt"
	"strings"

	"github.com/rokflow/rokflow/sim/server/rapi"
)

// submit queues a job of ops and returns its id. The caller holds s.mu.
func (s *Server) submit(reason string, dryRun bool, ops ...map[string]any) *rapi.Job {
	g := s.st.Ganeti
	id := g.NextJob
	g.NextJob++
	j := rapi.NewJob(id, reason, dryRun, ops...)
	g.Jobs = append(g.Jobs, j)
	s.st.event("", "Ganeti job %d submitted: %s", id, strings.Join(j.Summary, ", "))
	kick(s.kickJobs)
	return j
}

func (g *ganeti) job(id int) *rapi.Job {
	for _, j := range g.Jobs {
		if j.ID == id {
			return j
		}
	}
	return nil
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
		var j *rapi.Job
		for _, c := range s.st.Ganeti.Jobs {
			if c.Status == rapi.JobQueued || c.Status == rapi.JobRunning {
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
		i := j.Start()
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
func (s *Server) runOp(j *rapi.Job, i int) {
	var logs []string
	log := func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }
	result, oerr := s.execOp(j, j.Ops[i], log)
	j.Record(i, result, oerr, logs)
	switch {
	case oerr != nil:
		s.st.event("", "Ganeti job %d failed: %s: %s", j.ID, j.Summary[i], oerr.Msg)
	case j.Status == rapi.JobSuccess:
		s.st.event("", "Ganeti job %d succeeded: %s", j.ID, strings.Join(j.Summary, ", "))
	}
}
