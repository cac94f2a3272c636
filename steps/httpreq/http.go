package httpreq

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/steps"
)

// maxBody bounds the response body read into outputs.
const maxBody = 32 << 20

// excerptLen bounds the body excerpt shown in a diagnostic.
const excerptLen = 512

// HTTP is the `http` kind, and with NewGet the read-only `http.get` kind.
type HTTP struct {
	schema *steps.Schema
}

var _ steps.Kind = (*HTTP)(nil)

var (
	httpKind = &HTTP{schema: httpSchema()}
	getKind  = &HTTP{schema: getSchema()}
)

// New returns the http kind.
func New() *HTTP { return httpKind }

// NewGet returns the http.get kind.
func NewGet() *HTTP { return getKind }

// Schema describes the kind.
func (k *HTTP) Schema() *steps.Schema { return k.schema }

// Plan shows the request line and what goes with it.
func (k *HTTP) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	r, diags := parse(req.Args)
	method := "GET"
	if req.Args.Type().HasAttribute("method") {
		method = steps.Display(req.Args.GetAttr("method"))
	}
	shownURL := steps.Display(req.Args.GetAttr("url"))
	if r != nil {
		shownURL = r.shownURL
	} else if u, ok := steps.KnownValue(req.Args.GetAttr("url")); ok && !req.Args.GetAttr("url").HasMark(marks.Sensitive) {
		shownURL = redactedURL(u.AsString())
	}
	line := method + " " + shownURL
	var extra []string
	if h := displayHeaders(req.Args.GetAttr("headers")); h != "" {
		extra = append(extra, "headers "+h)
	}
	if !req.Args.GetAttr("basic_auth").IsNull() {
		extra = append(extra, "basic auth "+marks.Masked)
	}
	if req.Args.Type().HasAttribute("body") {
		if b := req.Args.GetAttr("body"); !b.IsNull() {
			extra = append(extra, "body "+displayBody(b))
		}
		if j := req.Args.GetAttr("json_body"); !j.IsNull() {
			extra = append(extra, "JSON body "+steps.Display(j))
		}
	}
	if v := req.Args.GetAttr("ca_file"); !v.IsNull() {
		extra = append(extra, "CA file "+steps.Display(v))
	}
	if v := req.Args.GetAttr("pinned_sha256"); !v.IsNull() {
		extra = append(extra, "certificate pinned to "+steps.Display(v))
	}
	if v, ok := steps.KnownValue(req.Args.GetAttr("insecure_skip_verify")); ok && v.True() {
		extra = append(extra, "TLS NOT VERIFIED")
	}
	summary := line
	if len(extra) > 0 {
		summary += " (" + strings.Join(extra, "; ") + ")"
	}
	return steps.PlanResponse{Summary: summary, Request: line, Diagnostics: diags}
}

// Run sends the request and checks the status.
func (k *HTTP) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	r, diags := parse(req.Args)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	if r == nil {
		return steps.RunResponse{Diagnostics: hcl.Diagnostics{steps.Error("Arguments not known",
			"The request's arguments are not all known yet; this step cannot run before the steps it depends on.")}}
	}
	resp, more := r.do(ctx)
	return steps.RunResponse{Outputs: resp, Diagnostics: append(diags, more...)}
}

func (r *request) do(ctx context.Context) (cty.Value, hcl.Diagnostics) {
	cfg, err := r.tls.tlsConfig()
	if err != nil {
		return cty.NilVal, hcl.Diagnostics{steps.Error("Invalid ca_file",
			fmt.Sprintf("%s. Give the path of a PEM file holding the CA certificate that signed the server's certificate.", err))}
	}
	transport := &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: cfg, ForceAttemptHTTP2: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}

	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, r.method, r.url.String(), body)
	if err != nil {
		return cty.NilVal, hcl.Diagnostics{steps.Error("Invalid request", steps.Redact(err.Error(), r.secrets)+".")}
	}
	hreq.Header.Set("User-Agent", "rokflow")
	if r.isJSON {
		hreq.Header.Set("Content-Type", "application/json")
	}
	for n, v := range r.headers {
		hreq.Header.Set(n, v)
	}
	if r.auth != nil {
		hreq.SetBasicAuth(r.auth[0], r.auth[1])
	}

	hresp, err := client.Do(hreq)
	if err != nil {
		return cty.NilVal, hcl.Diagnostics{r.transportDiag(err)}
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxBody+1))
	if err != nil {
		return cty.NilVal, hcl.Diagnostics{steps.Error("Cannot read the response",
			fmt.Sprintf("Reading the response to %s %s failed: %s. Check the server and the network, then run the step again.",
				r.method, r.shownURL, steps.Redact(err.Error(), r.secrets)))}
	}
	if len(data) > maxBody {
		return cty.NilVal, hcl.Diagnostics{steps.Error("Response too large",
			fmt.Sprintf("The response to %s %s is larger than %d MiB; request a smaller resource.", r.method, r.shownURL, maxBody>>20))}
	}
	out, diags := r.outputs(hresp, data)
	if !slices.Contains(r.expect, hresp.StatusCode) {
		diags = append(diags, steps.Error(fmt.Sprintf("Unexpected HTTP status %d", hresp.StatusCode),
			fmt.Sprintf("%s %s answered %q; the step accepts %s.%s Fix the request, or list the status in expect_status if it means success.",
				r.method, r.shownURL, hresp.Status, joinInts(r.expect), r.bodyExcerpt(data))))
	}
	return out, diags
}

// outputs builds the step's outputs from a response.
func (r *request) outputs(hresp *http.Response, data []byte) (cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	text := strings.ToValidUTF8(string(data), "\uFFFD")
	tainted := r.tainted
	for _, s := range r.secrets {
		if strings.Contains(text, s) {
			tainted = true
		}
	}
	jsonVal := cty.NullVal(cty.DynamicPseudoType)
	if isJSON(hresp.Header.Get("Content-Type")) && len(bytes.TrimSpace(data)) > 0 {
		v, err := decodeJSON(data)
		if err != nil {
			diags = append(diags, steps.Warning("Response is not valid JSON",
				fmt.Sprintf("The server said the body is JSON, but it does not parse (%s); outputs.json is null and outputs.body holds the text.", err)))
		} else {
			jsonVal = v
		}
	}
	bodyVal := cty.StringVal(text)
	if tainted {
		bodyVal, jsonVal = bodyVal.Mark(marks.Sensitive), jsonVal.Mark(marks.Sensitive)
	}
	headers := map[string]cty.Value{}
	for n, vs := range hresp.Header {
		v := cty.StringVal(strings.ToValidUTF8(strings.Join(vs, ", "), "\uFFFD"))
		if isCredentialHeader(n) {
			v = v.Mark(marks.Sensitive)
		}
		headers[n] = v
	}
	hv := cty.MapValEmpty(cty.String)
	if len(headers) > 0 {
		hv = cty.MapVal(headers)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"status":  cty.NumberIntVal(int64(hresp.StatusCode)),
		"body":    bodyVal,
		"json":    jsonVal,
		"headers": hv,
	}), diags
}

func decodeJSON(data []byte) (cty.Value, error) {
	ty, err := ctyjson.ImpliedType(data)
	if err != nil {
		return cty.NilVal, err
	}
	return ctyjson.Unmarshal(data, ty)
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// bodyExcerpt is the start of a response body for a diagnostic, secrets
// redacted.
func (r *request) bodyExcerpt(data []byte) string {
	text := strings.TrimSpace(strings.ToValidUTF8(string(data), "\uFFFD"))
	if text == "" {
		return " The response body is empty."
	}
	if len(text) > excerptLen {
		text = strings.ToValidUTF8(text[:excerptLen], "") + "…"
	}
	return " The response body begins:\n" + steps.Redact(text, r.secrets) + "\n"
}

// transportDiag explains a request that got no response, in the terms of
// the argument that fixes it.
func (r *request) transportDiag(err error) *hcl.Diagnostic {
	msg := steps.Redact(err.Error(), r.secrets)
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var pinErr *pinError
	switch {
	case errors.As(err, &pinErr):
		return steps.Error("Server certificate does not match the pin",
			fmt.Sprintf("%s %s: %s. If the server's certificate was replaced on purpose, update pinned_sha256; otherwise someone may be impersonating it.",
				r.method, r.shownURL, pinErr.Error()))
	case errors.As(err, &unknownCA):
		return steps.Error("Server certificate not trusted",
			fmt.Sprintf("%s %s: %s. Set ca_file to the CA that signed the server's certificate, or pinned_sha256 to its fingerprint.", r.method, r.shownURL, msg))
	case errors.As(err, &hostErr):
		return steps.Error("Server certificate is for another name",
			fmt.Sprintf("%s %s: %s. Use the host name the certificate names, or pin the certificate with pinned_sha256.", r.method, r.shownURL, msg))
	}
	return steps.Error("HTTP request failed",
		fmt.Sprintf("%s %s got no response: %s. Check the URL and that the server is reachable from this machine.", r.method, r.shownURL, msg))
}

// displayBody shows a text body in a summary by size, never by content.
func displayBody(v cty.Value) string {
	if s, ok := steps.KnownValue(v); ok && !v.HasMark(marks.Sensitive) {
		return strconv.Itoa(len(s.AsString())) + " bytes"
	}
	return steps.Display(v)
}

func redactedURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}

func joinInts(ns []int) string {
	ss := make([]string, len(ns))
	sorted := slices.Clone(ns)
	sort.Ints(sorted)
	for i, n := range sorted {
		ss[i] = strconv.Itoa(n)
	}
	return strings.Join(ss, ", ")
}
