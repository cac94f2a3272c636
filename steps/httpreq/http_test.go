package httpreq

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
)

func TestConformance(t *testing.T) {
	for _, k := range []steps.Kind{New(), NewGet()} {
		t.Run(k.Schema().Name, func(t *testing.T) { stepstest.CheckKind(t, k) })
	}
	if NewGet().Schema().Effect != steps.ReadOnly || New().Schema().Effect != steps.Idempotent {
		t.Errorf("effects: http.get %v, http %v", NewGet().Schema().Effect, New().Schema().Effect)
	}
	for _, n := range []string{"method", "body", "json_body"} {
		if _, ok := NewGet().Schema().Args.Attributes[n]; ok {
			t.Errorf("http.get has argument %s", n)
		}
	}
}

// server is a TLS server on loopback standing in for a RAPI-like API.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/2/info", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprint(w, `{"master": "n1", "members": [{"name": "n1", "version": "0.11.0"}], "count": 1}`)
	})
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "hunter2" {
			// A careless server that echoes the credentials it got.
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, "denied: Authorization=%s password=%s", r.Header.Get("Authorization"), p)
			return
		}
		fmt.Fprint(w, "welcome")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Trace", r.Header.Get("X-Trace"))
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "database is locked"+strings.Repeat(".", 2000))
	})
	mux.HandleFunc("/cookie", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3ss10n"})
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "{not json")
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point of some tests
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func caFile(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	srv := server(t)
	sum := sha256.Sum256(srv.Certificate().Raw)
	vars := map[string]cty.Value{
		"url":      cty.StringVal(srv.URL),
		"ca":       cty.StringVal(caFile(t, srv)),
		"pin":      cty.StringVal(fingerprint(sum[:])),
		"pin_hex":  cty.StringVal(hex.EncodeToString(sum[:])),
		"password": stepstest.Secret("hunter2"),
		"wrong":    stepstest.Secret("letmein"),
		"secret":   stepstest.Secret("top-secret-body"),
	}
	tests := map[string]struct {
		kind        steps.Kind
		src         string
		wantStatus  int
		wantBody    string
		wantJSON    string // a path into json = value, as "members.0.version=0.11.0"
		wantError   string
		wantDetail  []string
		wantWarning string
		check       func(t *testing.T, out cty.Value)
	}{
		"CA file": {
			kind: NewGet(), src: `url = "${var.url}/2/info"` + "\n" + `ca_file = var.ca`,
			wantStatus: 200, wantJSON: "members.0.version=0.11.0",
		},
		"pinned certificate, colons": {
			kind: NewGet(), src: `url = "${var.url}/2/info"` + "\n" + `pinned_sha256 = var.pin`,
			wantStatus: 200, wantJSON: "master=n1",
		},
		"pinned certificate, plain hex, with a CA": {
			kind: NewGet(), src: `url = "${var.url}/2/info"` + "\n" + `pinned_sha256 = var.pin_hex` + "\n" + `ca_file = var.ca`,
			wantStatus: 200, wantJSON: "count=1",
		},
		"wrong pin": {
			kind:       NewGet(),
			src:        `url = "${var.url}/2/info"` + "\n" + `pinned_sha256 = "` + strings.Repeat("00", 32) + `"`,
			wantError:  "Server certificate does not match the pin",
			wantDetail: []string{fingerprint(sum[:])},
		},
		"verified by default": {
			kind:       NewGet(),
			src:        `url = "${var.url}/2/info"`,
			wantError:  "Server certificate not trusted",
			wantDetail: []string{"ca_file", "pinned_sha256"},
		},
		"insecure": {
			kind: NewGet(), src: `url = "${var.url}/2/info"` + "\n" + `insecure_skip_verify = true`,
			wantStatus: 200, wantWarning: "TLS certificate not verified",
		},
		"basic auth": {
			kind:       New(),
			src:        `url = "${var.url}/auth"` + "\n" + `ca_file = var.ca` + "\n" + `basic_auth = { user = "admin", password = var.password }`,
			wantStatus: 200, wantBody: "welcome",
		},
		"wrong basic auth is reported without the credentials": {
			kind:       New(),
			src:        `url = "${var.url}/auth"` + "\n" + `ca_file = var.ca` + "\n" + `basic_auth = { user = "admin", password = var.wrong }`,
			wantError:  "Unexpected HTTP status 401",
			wantDetail: []string{"401 Unauthorized", "200, 201, 202, 204", "denied: Authorization=Basic (sensitive) password=(sensitive)"},
		},
		"JSON body": {
			kind: New(),
			src: `url = "${var.url}/echo"` + "\n" + `ca_file = var.ca` + "\n" + `method = "POST"` + "\n" +
				`json_body = { node = "n1", force = true }` + "\n" + `headers = { X-Trace = "t-1" }`,
			wantStatus: 200, wantJSON: "node=n1",
			check: func(t *testing.T, out cty.Value) {
				h := out.GetAttr("headers")
				if h.Index(cty.StringVal("X-Method")).AsString() != "POST" || h.Index(cty.StringVal("X-Trace")).AsString() != "t-1" {
					t.Errorf("headers = %#v", h)
				}
			},
		},
		"sensitive body taints the response": {
			kind: New(),
			src:  `url = "${var.url}/echo"` + "\n" + `ca_file = var.ca` + "\n" + `method = "PUT"` + "\n" + `body = var.secret`,
			check: func(t *testing.T, out cty.Value) {
				if !out.GetAttr("body").HasMark(marks.Sensitive) {
					t.Errorf("echoed body not marked sensitive")
				}
			},
			wantStatus: 200, wantBody: "top-secret-body",
		},
		"unexpected status": {
			kind:       New(),
			src:        `url = "${var.url}/fail"` + "\n" + `ca_file = var.ca`,
			wantError:  "Unexpected HTTP status 500",
			wantDetail: []string{"GET " + srv.URL + "/fail", "500 Internal Server Error", "database is locked", "expect_status"},
		},
		"accepted status": {
			kind:       New(),
			src:        `url = "${var.url}/fail"` + "\n" + `ca_file = var.ca` + "\n" + `expect_status = [500]`,
			wantStatus: 500,
		},
		"bad JSON and cookies": {
			kind:        NewGet(),
			src:         `url = "${var.url}/cookie"` + "\n" + `ca_file = var.ca`,
			wantStatus:  200,
			wantBody:    "{not json",
			wantWarning: "Response is not valid JSON",
			check: func(t *testing.T, out cty.Value) {
				if !out.GetAttr("json").IsNull() {
					t.Errorf("json = %#v, want null", out.GetAttr("json"))
				}
				if !out.GetAttr("headers").Index(cty.StringVal("Set-Cookie")).HasMark(marks.Sensitive) {
					t.Errorf("Set-Cookie not marked sensitive")
				}
			},
		},
		"unreadable CA file": {
			kind:      NewGet(),
			src:       `url = "${var.url}/2/info"` + "\n" + `ca_file = "/nonexistent/ca.pem"`,
			wantError: "Invalid ca_file",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := stepstest.Args(t, tc.kind, tc.src, vars)
			resp := tc.kind.Run(context.Background(), steps.RunRequest{Args: args})
			for _, d := range resp.Diagnostics {
				for _, secret := range []string{"hunter2", "letmein", "YWRtaW46"} {
					if strings.Contains(d.Summary+d.Detail, secret) {
						t.Errorf("diagnostic leaks %q: %s", secret, d.Detail)
					}
				}
			}
			var errs, warns []*hcl.Diagnostic
			for _, d := range resp.Diagnostics {
				if d.Severity == hcl.DiagError {
					errs = append(errs, d)
				} else {
					warns = append(warns, d)
				}
			}
			if tc.wantError != "" {
				if len(errs) != 1 || errs[0].Summary != tc.wantError {
					t.Fatalf("diagnostics = %v, want %q", resp.Diagnostics, tc.wantError)
				}
				for _, want := range tc.wantDetail {
					if !strings.Contains(errs[0].Detail, want) {
						t.Errorf("detail lacks %q:\n%s", want, errs[0].Detail)
					}
				}
				return
			}
			if len(errs) > 0 {
				t.Fatal(resp.Diagnostics.Error())
			}
			if tc.wantWarning != "" && (len(warns) != 1 || warns[0].Summary != tc.wantWarning) {
				t.Errorf("warnings = %v, want %q", warns, tc.wantWarning)
			}
			out := resp.Outputs
			if tc.check != nil {
				tc.check(t, out)
			}
			out, _ = out.UnmarkDeep()
			if got, _ := out.GetAttr("status").AsBigFloat().Int64(); int(got) != tc.wantStatus {
				t.Errorf("status = %d, want %d", got, tc.wantStatus)
			}
			if tc.wantBody != "" && out.GetAttr("body").AsString() != tc.wantBody {
				t.Errorf("body = %q, want %q", out.GetAttr("body").AsString(), tc.wantBody)
			}
			if tc.wantJSON != "" {
				path, want, _ := strings.Cut(tc.wantJSON, "=")
				v := out.GetAttr("json")
				for _, step := range strings.Split(path, ".") {
					if step >= "0" && step <= "9" {
						v = v.Index(cty.NumberIntVal(int64(step[0] - '0')))
					} else {
						v = v.GetAttr(step)
					}
				}
				got := steps.Display(v)
				if got != want {
					t.Errorf("json.%s = %q, want %q", path, got, want)
				}
			}
		})
	}
}

func TestPlan(t *testing.T) {
	vars := map[string]cty.Value{
		"password": stepstest.Secret("hunter2"),
		"token":    cty.StringVal("Bearer abc123"), // not marked: masked because of the header name
		"node":     stepstest.Unknown(cty.String, "step.master"),
	}
	tests := map[string]struct {
		kind        steps.Kind
		src         string
		wantRequest string
		wantSummary string
		wantError   string
		wantWarning string
	}{
		"request line and what goes with it": {
			kind: New(),
			src: `method = "POST"
				url = "https://rapi.example:5080/2/nodes/${var.node}/evacuate"
				basic_auth = { user = "rapi", password = var.password }
				headers = { Authorization = var.token, Accept = "application/json" }
				json_body = { mode = "secondary" }
				pinned_sha256 = "AB:CD"`,
			wantRequest: "POST (known after step.master)",
			wantSummary: `POST (known after step.master) (headers Accept: application/json, Authorization: (sensitive); basic auth (sensitive); JSON body {mode = "secondary"}; certificate pinned to AB:CD)`,
			wantError:   "Invalid pinned_sha256",
		},
		"get with a password in the URL": {
			kind:        NewGet(),
			src:         `url = "https://admin:hunter2@etcd.example:2379/health"`,
			wantRequest: "GET https://admin:xxxxx@etcd.example:2379/health",
			wantSummary: "GET https://admin:xxxxx@etcd.example:2379/health",
		},
		"text body by size": {
			kind:        New(),
			src:         `method = "PUT"` + "\n" + `url = "https://h/x"` + "\n" + `body = "0123456789"` + "\n" + `insecure_skip_verify = true`,
			wantRequest: "PUT https://h/x",
			wantSummary: "PUT https://h/x (body 10 bytes; TLS NOT VERIFIED)",
			wantWarning: "TLS certificate not verified",
		},
		"relative url":        {kind: New(), src: `url = "/2/info"`, wantError: "Invalid URL"},
		"ftp url":             {kind: NewGet(), src: `url = "ftp://h/x"`, wantError: "Invalid URL"},
		"lower-case method":   {kind: New(), src: `url = "https://h/"` + "\n" + `method = "get"`, wantError: "Invalid HTTP method"},
		"two bodies":          {kind: New(), src: `url = "https://h/"` + "\n" + `body = "a"` + "\n" + `json_body = {}`, wantError: "Both body and json_body set"},
		"status out of range": {kind: NewGet(), src: `url = "https://h/"` + "\n" + `expect_status = [42]`, wantError: "Invalid status in expect_status"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := stepstest.Args(t, tc.kind, tc.src, vars)
			resp := tc.kind.Plan(context.Background(), steps.PlanRequest{Args: args})
			all := resp.Summary + resp.Request
			for _, d := range resp.Diagnostics {
				all += d.Summary + d.Detail
			}
			for _, secret := range []string{"hunter2", "abc123"} {
				if strings.Contains(all, secret) {
					t.Errorf("plan shows %q: %s", secret, all)
				}
			}
			var errs, warns []string
			for _, d := range resp.Diagnostics {
				if d.Severity == hcl.DiagError {
					errs = append(errs, d.Summary)
				} else {
					warns = append(warns, d.Summary)
				}
			}
			if tc.wantError != "" {
				if len(errs) == 0 || errs[0] != tc.wantError {
					t.Fatalf("errors = %q, want %q", errs, tc.wantError)
				}
			} else if len(errs) > 0 {
				t.Fatalf("errors = %q", errs)
			}
			if tc.wantWarning != "" && (len(warns) != 1 || warns[0] != tc.wantWarning) {
				t.Errorf("warnings = %q, want %q", warns, tc.wantWarning)
			}
			if tc.wantRequest != "" && resp.Request != tc.wantRequest {
				t.Errorf("Request = %q, want %q", resp.Request, tc.wantRequest)
			}
			if tc.wantSummary != "" && resp.Summary != tc.wantSummary {
				t.Errorf("Summary = %q\nwant      %q", resp.Summary, tc.wantSummary)
			}
		})
	}
}
