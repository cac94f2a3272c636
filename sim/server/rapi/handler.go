package rapi

import (
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rokflow/rokflow/internal/pki"
)

// PEMFile holds the RAPI server's self-signed certificate, for the
// playbook's ca_file; keyFile its key. Both are in the simulator's
// directory.
const (
	PEMFile = "rapi.pem"
	keyFile = "rapi.key"
)

// rapiFeatures are what GET /2/features answers.
var rapiFeatures = []string{"node-evac-res1", "node-migrate-reqv1", "instance-reinstall-reqv1", "instance-create-reqv1"}

// Handler answers the RAPI's requests from a Cluster.
type Handler struct {
	c        Cluster
	stopping <-chan struct{}
}

// NewHandler is the RAPI of c. A /2/jobs/ID/wait long poll ends early
// when stopping is closed.
func NewHandler(c Cluster, stopping <-chan struct{}) *Handler {
	return &Handler{c: c, stopping: stopping}
}

// Serve serves h over HTTPS on l, with the certificate PEMFile of simDir,
// made the first time, until the returned server is shut down.
func Serve(simDir string, l net.Listener, h *Handler) (*http.Server, error) {
	certFile := filepath.Join(simDir, PEMFile)
	keyFile := filepath.Join(simDir, keyFile)
	if _, err := os.Stat(keyFile); err != nil {
		p, err := pki.SelfSigned("ganeti.example.com", []net.IP{net.ParseIP("127.0.0.1")}, []string{"localhost"})
		if err != nil {
			return nil, err
		}
		if err := pki.WriteFile(keyFile, p.KeyPEM, 0o600); err != nil {
			return nil, err
		}
		if err := pki.WriteFile(certFile, p.CertPEM, 0o644); err != nil {
			return nil, err
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	srv.SetKeepAlivesEnabled(false)
	go func() { _ = srv.Serve(tls.NewListener(l, srv.TLSConfig)) }()
	return srv, nil
}

// rapiErr is an HTTP error answer: {"code", "message", "explain"}, the
// message HTML-escaped as Ganeti does.
type rapiErr struct {
	code             int
	message, explain string
}

var (
	errUnauthorized = &rapiErr{401, "Unauthorized", "No permission -- see authorization schemes"}
	errNotFound     = &rapiErr{404, "Not Found", "Nothing matches the given URI"}
)

func badRequest(format string, args ...any) *rapiErr {
	return &rapiErr{400, fmt.Sprintf(format, args...), "Bad request syntax or unsupported method"}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Server", "Ganeti 3.0.2")
	w.Header().Set("Connection", "close")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="Ganeti Remote API"`)
	}
	data, _ := json.Marshal(v)
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

func replyError(w http.ResponseWriter, e *rapiErr) {
	reply(w, e.code, map[string]any{"code": e.code, "message": pyEscape(e.message), "explain": e.explain})
}

// pyEscape escapes as Python's html.escape, which Ganeti uses.
var pyEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#x27;").Replace

// rapiRequest is one decoded request.
type rapiRequest struct {
	r      *http.Request
	parts  []string
	body   []byte
	writer bool // has write rights
}

func (q *rapiRequest) flag(name string) bool {
	v := q.r.URL.Query().Get(name)
	return v == "1" || strings.EqualFold(v, "true")
}

// ServeHTTP answers one request as Ganeti 3.0.2 does.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	h.c.Lock()
	user, pass := h.c.Credentials()
	h.c.Unlock()
	q := &rapiRequest{r: r, body: body}
	if u, p, ok := r.BasicAuth(); ok {
		if subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(pass)) != 1 {
			replyError(w, errUnauthorized)
			return
		}
		q.writer = true
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	if path == "" {
		reply(w, 200, nil)
		return
	}
	q.parts = strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(body) > 0 && (r.Method == http.MethodPost || r.Method == http.MethodPut) &&
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		replyError(w, &rapiErr{415, "Unsupported Media Type", "Expected Content-Type application/json"})
		return
	}
	status, v, err := h.route(q)
	if err != nil {
		replyError(w, err)
		return
	}
	reply(w, status, v)
}

// needs checks the method and rights of a resource.
func (q *rapiRequest) needs(methods ...string) *rapiErr {
	for _, m := range methods {
		if q.r.Method == m {
			if m != http.MethodGet && !q.writer {
				return errUnauthorized
			}
			return nil
		}
	}
	return &rapiErr{501, "Not Implemented", fmt.Sprintf("Method %s is unsupported for this resource", q.r.Method)}
}

func (h *Handler) route(q *rapiRequest) (int, any, *rapiErr) {
	p := q.parts
	switch {
	case len(p) == 1 && p[0] == "version":
		if e := q.needs(http.MethodGet); e != nil {
			return 0, nil, e
		}
		return 200, 2, nil
	case len(p) < 2 || p[0] != "2":
		return 0, nil, errNotFound
	}
	if e := q.needs(http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete); e != nil {
		return 0, nil, e
	}
	h.c.Lock()
	defer h.c.Unlock()
	switch p[1] {
	case "features":
		return get(q, rapiFeatures)
	case "info":
		return get(q, h.c.Info())
	case "os":
		return get(q, []string{"noop", "snf-image+default"})
	case "nodes":
		return h.routeNodes(q, p[2:])
	case "instances":
		return h.routeInstances(q, p[2:])
	case "jobs":
		return h.routeJobs(q, p[2:])
	case "query":
		if len(p) == 3 && p[2] == "instance" {
			return h.queryInstances(q)
		}
	}
	return 0, nil, errNotFound
}

func get(q *rapiRequest, v any) (int, any, *rapiErr) {
	if e := q.needs(http.MethodGet); e != nil {
		return 0, nil, e
	}
	return 200, v, nil
}

// decodeBody decodes a JSON object body; "dry_run" in it is refused as
// Ganeti refuses to overwrite static parameters.
func decodeBody(q *rapiRequest, allowed ...string) (map[string]any, *rapiErr) {
	body := map[string]any{}
	if len(q.body) == 0 {
		return body, nil
	}
	if err := json.Unmarshal(q.body, &body); err != nil {
		return nil, badRequest("Unable to parse JSON data")
	}
	if _, ok := body["dry_run"]; ok {
		return nil, badRequest("Can't overwrite static parameters {'dry_run'}")
	}
	for k := range body {
		if !slices.Contains(allowed, k) {
			return nil, badRequest("Invalid body parameters: (\"Unknown parameter '%s'\", 'wrong_input')", k)
		}
	}
	return body, nil
}

func oneOfParam(op, field string, body map[string]any, required bool, values ...string) *rapiErr {
	v, ok := body[field]
	if !ok {
		if required {
			return badRequest("Invalid body parameters: (\"Required parameter '%s.%s' missing\", 'wrong_input')", op, field)
		}
		return nil
	}
	sv, _ := v.(string)
	if !slices.Contains(values, sv) {
		return badRequest("Invalid body parameters: (\"Parameter '%s.%s' fails validation\", 'wrong_input')", op, field)
	}
	return nil
}

func (h *Handler) routeNodes(q *rapiRequest, p []string) (int, any, *rapiErr) {
	if len(p) == 0 {
		if e := q.needs(http.MethodGet); e != nil {
			return 0, nil, e
		}
		var out []any
		for _, name := range h.c.Hosts() {
			if q.flag("bulk") {
				out = append(out, h.c.HostView(name, false))
			} else {
				out = append(out, map[string]any{"id": name, "uri": "/2/nodes/" + name})
			}
		}
		return 200, out, nil
	}
	name := p[0]
	uuid, role, ok := h.c.Host(name)
	if !ok {
		return 0, nil, errNotFound
	}
	if len(p) == 1 {
		return get(q, h.c.HostView(name, true))
	}
	if len(p) != 2 {
		return 0, nil, errNotFound
	}
	base := map[string]any{"node_name": name, "node_uuid": uuid}
	switch p[1] {
	case "role":
		if q.r.Method == http.MethodGet {
			return 200, role, nil
		}
		if e := q.needs(http.MethodPut); e != nil {
			return 0, nil, e
		}
		var role string
		if json.Unmarshal(q.body, &role) != nil {
			return 0, nil, badRequest("Can't set '%s' role", strings.TrimSpace(string(q.body)))
		}
		op := map[string]any{"OP_ID": "OP_NODE_SET_PARAMS", "force": q.flag("force"), "auto_promote": q.flag("auto-promote")}
		switch role {
		case "drained":
			op["drained"] = true
		case "offline":
			op["offline"] = true
		case "master-candidate":
			op["master_candidate"] = true
		case "regular":
			op["master_candidate"], op["drained"], op["offline"] = false, false, false
		default:
			return 0, nil, badRequest("Can't set '%s' role", role)
		}
		return h.submitted("nodes_name_role", false, merge(base, op))
	case "modify":
		if e := q.needs(http.MethodPost); e != nil {
			return 0, nil, e
		}
		body, e := decodeBody(q, "drained", "offline", "master_candidate", "auto_promote", "force", "master_capable", "vm_capable")
		if e != nil {
			return 0, nil, e
		}
		return h.submitted("nodes_name_modify", false, merge(base, map[string]any{"OP_ID": "OP_NODE_SET_PARAMS"}, body))
	case "evacuate":
		if e := q.needs(http.MethodPost); e != nil {
			return 0, nil, e
		}
		body, e := decodeBody(q, "mode", "iallocator", "remote_node", "early_release", "ignore_soft_errors")
		if e != nil {
			return 0, nil, e
		}
		if e := oneOfParam("OP_NODE_EVACUATE", "mode", body, true, "primary-only", "secondary-only", "all"); e != nil {
			return 0, nil, e
		}
		if _, ok := body["early_release"]; !ok {
			body["early_release"] = false
		}
		dry := q.flag("dry-run")
		if r, ok := body["remote_node"].(string); ok {
			if uuid, _, ok := h.c.Host(r); ok {
				body["remote_node_uuid"] = uuid
			}
		}
		return h.submitted("nodes_name_evacuate", dry, merge(base, map[string]any{"OP_ID": "OP_NODE_EVACUATE", "dry_run": dry}, body))
	case "migrate":
		if e := q.needs(http.MethodPost); e != nil {
			return 0, nil, e
		}
		body, e := decodeBody(q, "mode", "target_node", "iallocator", "allow_runtime_changes", "ignore_ipolicy", "live", "cleanup")
		if e != nil {
			return 0, nil, e
		}
		if e := oneOfParam("OP_NODE_MIGRATE", "mode", body, false, "live", "non-live"); e != nil {
			return 0, nil, e
		}
		op := merge(base, map[string]any{"OP_ID": "OP_NODE_MIGRATE", "allow_runtime_changes": true, "ignore_ipolicy": false}, body)
		return h.submitted("nodes_name_migrate", false, op)
	}
	return 0, nil, errNotFound
}

func (h *Handler) routeInstances(q *rapiRequest, p []string) (int, any, *rapiErr) {
	if len(p) == 0 {
		if e := q.needs(http.MethodGet); e != nil {
			return 0, nil, e
		}
		names := slices.Sorted(slices.Values(h.c.Instances()))
		var out []any
		for _, n := range names {
			if q.flag("bulk") {
				out = append(out, h.c.InstanceView(n))
			} else {
				out = append(out, map[string]any{"id": n, "uri": "/2/instances/" + n})
			}
		}
		return 200, out, nil
	}
	i := h.c.InstanceView(p[0])
	if len(p) == 1 {
		if i == nil {
			return 0, nil, errNotFound
		}
		return get(q, i)
	}
	if len(p) != 2 {
		return 0, nil, errNotFound
	}
	// Writes to an unknown instance become jobs that fail, as in Ganeti.
	base := map[string]any{"instance_name": p[0]}
	if i != nil {
		base["instance_uuid"] = i["uuid"]
	}
	switch p[1] {
	case "migrate":
		if e := q.needs(http.MethodPut); e != nil {
			return 0, nil, e
		}
		body, e := decodeBody(q, "mode", "target_node", "iallocator", "cleanup", "allow_failover", "ignore_ipolicy", "allow_runtime_changes", "ignore_hvversions", "live")
		if e != nil {
			return 0, nil, e
		}
		if e := oneOfParam("OP_INSTANCE_MIGRATE", "mode", body, false, "live", "non-live"); e != nil {
			return 0, nil, e
		}
		op := merge(base, map[string]any{"OP_ID": "OP_INSTANCE_MIGRATE", "mode": "live", "allow_runtime_changes": true,
			"ignore_ipolicy": false, "cleanup": false, "allow_failover": false, "ignore_hvversions": false}, body)
		if t := opStr(op, "target_node"); t != "" {
			if uuid, _, ok := h.c.Host(t); ok {
				op["target_node_uuid"] = uuid
			}
		} else if opStr(op, "iallocator") == "" && opBool(op, "cleanup") {
			op["iallocator"] = "hail"
		}
		return h.submitted("instances_name_migrate", false, op)
	case "reinstall":
		if e := q.needs(http.MethodPost); e != nil {
			return 0, nil, e
		}
		var osName string
		var params map[string]any
		start := true
		if len(q.body) > 0 {
			if len(q.r.URL.RawQuery) > 0 {
				return 0, nil, badRequest("Parameters must be passed either in the body or as query arguments, not both")
			}
			body, e := decodeBody(q, "os", "osparams", "start")
			if e != nil {
				return 0, nil, e
			}
			osName, _ = body["os"].(string)
			params, _ = body["osparams"].(map[string]any)
			if v, ok := body["start"].(bool); ok {
				start = v
			}
		} else {
			osName = q.r.URL.Query().Get("os")
			start = !q.flag("nostartup")
		}
		if params == nil {
			params = map[string]any{}
		}
		common := map[string]any{"force": false, "ignore_offline_nodes": false}
		ops := []map[string]any{
			merge(base, common, map[string]any{"OP_ID": "OP_INSTANCE_SHUTDOWN", "timeout": 120, "no_remember": false, "admin_state_source": "admin"}),
			merge(base, map[string]any{"OP_ID": "OP_INSTANCE_REINSTALL", "force_variant": false, "os_type": osName,
				"osparams": params, "osparams_private": map[string]any{}, "osparams_secret": map[string]any{}}),
		}
		if start {
			ops = append(ops, merge(base, common, map[string]any{"OP_ID": "OP_INSTANCE_STARTUP", "hvparams": map[string]any{},
				"beparams": map[string]any{}, "no_remember": false, "startup_paused": false, "shutdown_timeout": 120}))
		}
		return 200, h.c.Submit("", false, ops...), nil
	case "shutdown":
		if e := q.needs(http.MethodPut); e != nil {
			return 0, nil, e
		}
		body, e := decodeBody(q, "timeout", "no_remember")
		if e != nil {
			return 0, nil, e
		}
		timeout := 120
		if t, ok := body["timeout"].(float64); ok {
			timeout = int(t)
		}
		dry := q.flag("dry-run")
		return h.submitted("instances_name_shutdown", dry, merge(base, map[string]any{"OP_ID": "OP_INSTANCE_SHUTDOWN", "dry_run": dry,
			"force": false, "ignore_offline_nodes": false, "timeout": timeout, "no_remember": q.flag("no_remember"), "admin_state_source": "admin"}))
	case "startup":
		if e := q.needs(http.MethodPut); e != nil {
			return 0, nil, e
		}
		dry := q.flag("dry-run")
		return h.submitted("instances_name_startup", dry, merge(base, map[string]any{"OP_ID": "OP_INSTANCE_STARTUP", "dry_run": dry,
			"force": q.flag("force"), "ignore_offline_nodes": false, "hvparams": map[string]any{}, "beparams": map[string]any{},
			"no_remember": q.flag("no_remember"), "startup_paused": false, "shutdown_timeout": 120}))
	case "info":
		if i == nil {
			return 0, nil, errNotFound
		}
		if e := q.needs(http.MethodGet); e != nil {
			return 0, nil, e
		}
		return h.submitted("instances_name_info", false, map[string]any{"OP_ID": "OP_INSTANCE_QUERY_DATA", "use_locking": false,
			"instances": []any{i["name"]}, "static": q.flag("static")})
	}
	return 0, nil, errNotFound
}

// submitted queues a one-opcode job and answers its id.
func (h *Handler) submitted(reason string, dry bool, op map[string]any) (int, any, *rapiErr) {
	return 200, h.c.Submit(reason, dry, op), nil
}

func merge(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func opStr(op map[string]any, k string) string { s, _ := op[k].(string); return s }
func opBool(op map[string]any, k string) bool  { b, _ := op[k].(bool); return b }
