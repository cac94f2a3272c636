package ganeti

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// sample is one exchange recorded from a real Ganeti 3.0.2 RAPI
// (shared/reference/ganeti/samples, copied to testdata).
type sample struct {
	Request struct {
		Method string          `json:"method"`
		Path   string          `json:"path"`
		Body   json.RawMessage `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int    `json:"status"`
		BodyRaw string `json:"body_raw"`
	} `json:"response"`
}

func loadSample(t *testing.T, name string) sample {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var s sample
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

// recorded is one request the fake RAPI received.
type recorded struct {
	Method, Path, Body, User, Password string
}

// fakeRAPI answers like a Ganeti RAPI from recorded samples: fixed
// answers per "METHOD /path?query", and jobs by id, which /2/jobs/ID and
// /2/jobs/ID/wait serve. It checks basic auth when user is set.
type fakeRAPI struct {
	t          *testing.T
	srv        *httptest.Server
	user, pass string
	mu         sync.Mutex
	answers    map[string]sample
	jobs       map[string]string // id -> job JSON
	forbidWait bool
	requests   []recorded
}

func newFakeRAPI(t *testing.T) *fakeRAPI {
	f := &fakeRAPI{t: t, user: "rokflow", pass: "rapi-" + secret, answers: map[string]sample{}, jobs: map[string]string{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.answer("04-features.json")
	return f
}

// answer serves a sample's response for its request line.
func (f *fakeRAPI) answer(names ...string) *fakeRAPI {
	for _, n := range names {
		s := loadSample(f.t, n)
		f.answers[s.Request.Method+" "+s.Request.Path] = s
	}
	return f
}

// answerAt serves a sample's response for another request line.
func (f *fakeRAPI) answerAt(line, name string) *fakeRAPI {
	f.answers[line] = loadSample(f.t, name)
	return f
}

// job serves a recorded GET /2/jobs/ID answer as job id.
func (f *fakeRAPI) job(id, name string) *fakeRAPI {
	f.jobs[id] = loadSample(f.t, name).Response.BodyRaw
	return f
}

func (f *fakeRAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u, p, _ := r.BasicAuth()
	line := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	f.mu.Lock()
	f.requests = append(f.requests, recorded{Method: r.Method, Path: line[len(r.Method)+1:], Body: string(body), User: u, Password: p})
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if f.user != "" && (u != f.user || p != f.pass) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintln(w, `{"code": 401, "message": "Unauthorized", "explain": "No permission -- see authorization schemes"}`)
		return
	}
	if (r.Method == http.MethodPost || r.Method == http.MethodPut) && len(body) > 0 && r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintln(w, `{"code": 400, "message": "Bad Request", "explain": "content type"}`)
		return
	}
	if s, ok := f.answers[line]; ok {
		w.WriteHeader(s.Response.Status)
		io.WriteString(w, s.Response.BodyRaw)
		return
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/2/jobs/"); ok && r.Method == http.MethodGet {
		id, wait := strings.CutSuffix(rest, "/wait")
		j, known := f.jobs[id]
		if wait {
			if f.forbidWait {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintln(w, `{"code": 403, "message": "Forbidden", "explain": "Request forbidden -- authorization will not help"}`)
				return
			}
			if !known {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprintln(w, `{"code": 404, "message": "Not Found", "explain": ""}`)
				return
			}
			var jv struct {
				Status string `json:"status"`
			}
			_ = json.Unmarshal([]byte(j), &jv)
			fmt.Fprintf(w, `{"job_info": [%q], "log_entries": [[1, [1795485556, 962492], "message", " - INFO: job %s log line"]]}`+"\n", jv.Status, id)
			return
		}
		if !known {
			fmt.Fprintf(w, `{"id": %s, "ops": null, "status": null, "summary": null, "opstatus": null, "received_ts": null, "start_ts": null, "end_ts": null, "oplog": null, "opresult": null}`+"\n", id)
			return
		}
		io.WriteString(w, j)
		return
	}
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintln(w, `{"code": 404, "message": "Not Found", "explain": "Nothing matches the given URI"}`)
}

// lines returns the request lines received, without GETs of jobs.
func (f *fakeRAPI) lines() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		s := r.Method + " " + r.Path
		if r.Body != "" && !strings.HasPrefix(r.Path, "/2/jobs/") {
			s += " " + r.Body
		}
		out = append(out, s)
	}
	return out
}

// pin is the SHA-256 of the fake server's certificate, as pinned_sha256.
func (f *fakeRAPI) pin() string {
	sum := sha256.Sum256(f.srv.Certificate().Raw)
	return hex.EncodeToString(sum[:])
}

// rapiHCL is the rapi argument reaching the fake server with a pinned
// certificate and the password taken from var.secret.
func (f *fakeRAPI) rapiHCL() string {
	u, _ := url.Parse(f.srv.URL)
	return fmt.Sprintf("rapi = { host = %q, port = %s, user = \"rokflow\", password = \"rapi-${var.secret}\", pinned_sha256 = %q }\n",
		u.Hostname(), u.Port(), f.pin())
}
