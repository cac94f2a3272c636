package rapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// The RAPI's job resources and instance queries.

func (h *Handler) routeJobs(q *rapiRequest, p []string) (int, any, *rapiErr) {
	if len(p) == 0 {
		if e := q.needs(http.MethodGet); e != nil {
			return 0, nil, e
		}
		out := []any{}
		for _, j := range h.c.Jobs() {
			if q.flag("bulk") {
				v := j.view(j.ID)
				delete(v, "oplog")
				delete(v, "opresult")
				out = append(out, v)
			} else {
				out = append(out, map[string]any{"id": j.ID, "uri": "/2/jobs/" + strconv.Itoa(j.ID)})
			}
		}
		return 200, out, nil
	}
	id, err := strconv.Atoi(p[0])
	if err != nil {
		return 0, nil, badRequest("Invalid job ID '%s'", p[0])
	}
	j := h.c.Job(id)
	if len(p) == 1 {
		switch q.r.Method {
		case http.MethodGet:
			return 200, j.view(id), nil
		case http.MethodDelete:
			if e := q.needs(http.MethodDelete); e != nil {
				return 0, nil, e
			}
			if !j.cancel() {
				return 200, []any{false, fmt.Sprintf("Job %d not found in queue", id)}, nil
			}
			h.c.Save()
			return 200, []any{true, fmt.Sprintf("Job %d canceled", id)}, nil
		}
		return 0, nil, q.needs(http.MethodGet, http.MethodDelete)
	}
	if len(p) == 2 && p[1] == "wait" {
		if q.r.Method != http.MethodGet {
			return 0, nil, q.needs(http.MethodGet)
		}
		if !q.writer {
			return 0, nil, errUnauthorized
		}
		return h.waitJob(q, id)
	}
	return 0, nil, errNotFound
}

// waitJob is the /2/jobs/ID/wait long poll. The caller holds the
// cluster's lock; it is released while waiting.
func (h *Handler) waitJob(q *rapiRequest, id int) (int, any, *rapiErr) {
	var req struct {
		Fields            []string `json:"fields"`
		PreviousJobInfo   []any    `json:"previous_job_info"`
		PreviousLogSerial *int     `json:"previous_log_serial"`
	}
	if err := json.Unmarshal(q.body, &req); err != nil || len(req.Fields) == 0 {
		return 0, nil, badRequest("The 'fields' parameter should be a list")
	}
	serial := 0
	if req.PreviousLogSerial != nil {
		serial = *req.PreviousLogSerial
	}
	prev := jsonClone(req.PreviousJobInfo)
	deadline := time.NewTimer(h.c.WaitTimeout())
	defer deadline.Stop()
	for {
		j := h.c.Job(id)
		if j == nil {
			return 0, nil, errNotFound
		}
		info := make([]any, len(req.Fields))
		for k, f := range req.Fields {
			info[k] = j.field(f)
		}
		logs := j.logsAfter(serial)
		cur := jsonClone(info)
		if req.PreviousJobInfo == nil || !reflect.DeepEqual(cur, prev) || len(logs) > 0 || j.Final() {
			return 200, map[string]any{"job_info": cur, "log_entries": logs}, nil
		}
		changed := h.c.Changed()
		h.c.Unlock()
		select {
		case <-changed:
			h.c.Lock()
		case <-deadline.C:
			h.c.Lock()
			return 200, nil, nil
		case <-h.stopping:
			h.c.Lock()
			return 200, nil, nil
		}
	}
}

// queryInstances is /2/query/instance (GET ?fields= or PUT with a body).
func (h *Handler) queryInstances(q *rapiRequest) (int, any, *rapiErr) {
	var fields []string
	var filter []any
	switch q.r.Method {
	case http.MethodGet:
		fields = strings.Split(q.r.URL.Query().Get("fields"), ",")
	case http.MethodPut:
		var body struct {
			Fields []string `json:"fields"`
			Filter []any    `json:"qfilter"`
			Filt   []any    `json:"filter"`
		}
		if json.Unmarshal(q.body, &body) != nil {
			return 0, nil, badRequest("Unable to parse JSON data")
		}
		fields, filter = body.Fields, body.Filt
		if filter == nil {
			filter = body.Filter
		}
	default:
		return 0, nil, q.needs(http.MethodGet, http.MethodPut)
	}
	if !q.writer {
		return 0, nil, errUnauthorized
	}
	titles := map[string][3]string{
		"name": {"Instance", "text", "Instance name"}, "pnode": {"Primary_node", "text", "Primary node"},
		"status": {"Status", "text", "Instance status"}, "oper_state": {"Running", "bool", "Actual state of instance"},
		"os": {"OS", "text", "Operating system"}, "admin_state": {"InstanceState", "text", "Desired state of instance"},
		"disk_template": {"Disk_template", "text", "Instance disk template"}, "nic.ips": {"NIC_IPs", "other", "List containing each network interface's IP address"},
	}
	var desc []any
	for _, f := range fields {
		t, ok := titles[f]
		if !ok {
			t = [3]string{f, "unknown", "Unknown field '" + f + "'"}
		}
		desc = append(desc, map[string]any{"name": f, "title": t[0], "kind": t[1], "doc": t[2]})
	}
	data := []any{}
	for _, name := range h.c.Instances() {
		v := h.c.InstanceView(name)
		if len(filter) == 3 && filter[0] == "=" {
			if fv, _ := filter[1].(string); fmt.Sprint(v[fv]) != fmt.Sprint(filter[2]) {
				continue
			}
		}
		row := []any{}
		for _, f := range fields {
			if val, ok := v[f]; ok {
				row = append(row, []any{0, val})
			} else {
				row = append(row, []any{1, nil})
			}
		}
		data = append(data, row)
	}
	return 200, map[string]any{"data": data, "fields": desc}, nil
}

// jsonClone round-trips v through JSON, so that a view never aliases the
// cluster's state once the lock is released, and compares with what a
// client sent back.
func jsonClone(v any) any {
	data, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(data, &out)
	return out
}
