package httpreq

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/steps"
)

var methodToken = regexp.MustCompile(`^[A-Z][A-Z-]*$`)

// request is a validated, wholly known request.
type request struct {
	method   string
	url      *url.URL
	shownURL string // what a reader may see: masked or with its password redacted
	headers  map[string]string
	auth     *[2]string // user, password
	body     []byte
	isJSON   bool
	tls      tlsOptions
	expect   []int
	secrets  []string // raw sensitive strings, longest first, for redaction
	// tainted: the URL or body was sensitive, so a response may echo it.
	tainted bool
}

// parse validates args. The request is nil when diags has errors or, at
// plan time, when some argument is still unknown; diags then covers what is
// known.
func parse(args cty.Value) (*request, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	r := &request{method: "GET"}
	complete := args.IsWhollyKnown()

	if args.Type().HasAttribute("method") {
		if m, ok := steps.KnownValue(args.GetAttr("method")); ok {
			r.method = m.AsString()
			if !methodToken.MatchString(r.method) {
				diags = append(diags, steps.Error("Invalid HTTP method",
					fmt.Sprintf("%s is not an HTTP method: write it in capitals, such as \"GET\" or \"POST\".", steps.Quoted(args.GetAttr("method")))))
			}
		}
	}

	uv := args.GetAttr("url")
	r.shownURL = steps.Display(uv)
	if u, ok := steps.KnownValue(uv); ok {
		parsed, err := url.Parse(u.AsString())
		switch {
		case err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "":
			detail := "The url must be absolute, with an http or https scheme and a host, such as \"https://10.0.0.1:5080/2/info\"."
			if !uv.HasMark(marks.Sensitive) {
				detail = steps.Quoted(uv) + " is not usable. " + detail
			}
			diags = append(diags, steps.Error("Invalid URL", detail))
		default:
			r.url = parsed
			if !uv.HasMark(marks.Sensitive) {
				r.shownURL = parsed.Redacted()
			}
			if pw, ok := parsed.User.Password(); ok {
				r.secrets = append(r.secrets, pw)
			}
		}
	} else if uv.IsKnown() {
		diags = append(diags, steps.Error("Invalid URL", "The url must not be null."))
	}

	if h, ok := steps.KnownValue(args.GetAttr("headers")); ok {
		r.headers = map[string]string{}
		for it := h.ElementIterator(); it.Next(); {
			k, v := it.Element()
			if !v.IsKnown() {
				continue
			}
			if v.IsNull() {
				diags = append(diags, steps.Error("Null header value", fmt.Sprintf("The header %s is null; give a string, or leave it out.", k.AsString())))
				continue
			}
			raw, _ := v.Unmark()
			r.headers[k.AsString()] = raw.AsString()
			if isCredentialHeader(k.AsString()) && raw.AsString() != "" {
				r.secrets = append(r.secrets, raw.AsString())
			}
		}
	}

	if a, ok := steps.KnownValue(args.GetAttr("basic_auth")); ok {
		a, _ = a.UnmarkDeep()
		user, pw := a.GetAttr("user"), a.GetAttr("password")
		if user.IsKnown() && pw.IsKnown() {
			if user.IsNull() || pw.IsNull() {
				diags = append(diags, steps.Error("Incomplete basic_auth", "basic_auth needs both user and password."))
			} else {
				r.auth = &[2]string{user.AsString(), pw.AsString()}
				// The encoded header hides nothing; a server echoing it
				// must not reveal the password through a diagnostic.
				encoded := base64.StdEncoding.EncodeToString([]byte(user.AsString() + ":" + pw.AsString()))
				r.secrets = append(r.secrets, pw.AsString(), encoded)
			}
		}
	}

	if args.Type().HasAttribute("body") {
		bv, jv := args.GetAttr("body"), args.GetAttr("json_body")
		if bv.IsKnown() && !bv.IsNull() && jv.IsKnown() && !jv.IsNull() {
			diags = append(diags, steps.Error("Both body and json_body set", "A request has one body: keep body for text, or json_body for a value to send as JSON."))
		}
		if b, ok := steps.KnownValue(bv); ok {
			r.body = []byte(b.AsString())
		}
		if jv.IsWhollyKnown() && !jv.IsNull() {
			raw, _ := jv.UnmarkDeep()
			enc, err := ctyjson.Marshal(raw, raw.Type())
			if err != nil {
				diags = append(diags, steps.Error("Cannot encode json_body", "json_body must be a value JSON can hold: "+err.Error()+"."))
			}
			r.body, r.isJSON = enc, true
		}
		r.tainted = marks.IsSensitive(bv) || marks.IsSensitive(jv)
	}
	r.tainted = r.tainted || marks.IsSensitive(uv)

	var more hcl.Diagnostics
	r.tls, more = parseTLS(args)
	diags = append(diags, more...)
	if r.url != nil && r.url.Scheme == "http" && (r.tls.caFile != "" || r.tls.pin != nil) {
		diags = append(diags, steps.Warning("TLS options on a plain http URL",
			"ca_file and pinned_sha256 only apply to https; use an https:// URL so the connection is protected."))
	}

	r.expect, more = statuses(args.GetAttr("expect_status"))
	diags = append(diags, more...)

	r.secrets = append(r.secrets, steps.SensitiveStrings(args)...)
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	if diags.HasErrors() || !complete {
		return nil, diags
	}
	return r, diags
}

// tlsOptions are the TLS arguments.
type tlsOptions struct {
	caFile   string
	pin      []byte
	insecure bool
}

func parseTLS(args cty.Value) (tlsOptions, hcl.Diagnostics) {
	var o tlsOptions
	var diags hcl.Diagnostics
	if v, ok := steps.KnownValue(args.GetAttr("ca_file")); ok {
		o.caFile = v.AsString()
	}
	if v, ok := steps.KnownValue(args.GetAttr("pinned_sha256")); ok {
		pin, err := parsePin(v.AsString())
		if err != nil {
			diags = append(diags, steps.Error("Invalid pinned_sha256",
				"pinned_sha256 must be a SHA-256 fingerprint: 64 hex digits, with or without colons (openssl x509 -noout -fingerprint -sha256 prints one)."))
		}
		o.pin = pin
	}
	if v, ok := steps.KnownValue(args.GetAttr("insecure_skip_verify")); ok && v.True() {
		o.insecure = true
		if o.pin == nil {
			diags = append(diags, steps.Warning("TLS certificate not verified",
				"insecure_skip_verify is set: anyone on the path can impersonate the server. Set ca_file or pinned_sha256 instead."))
		}
	}
	return o, diags
}

// parsePin decodes a SHA-256 fingerprint written as hex, with or without
// colons or spaces.
func parsePin(s string) ([]byte, error) {
	clean := strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s))
	b, err := hex.DecodeString(clean)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("not a SHA-256 fingerprint")
	}
	return b, nil
}

// fingerprint renders a SHA-256 digest as openssl does: AB:CD:…
func fingerprint(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

func statuses(v cty.Value) ([]int, hcl.Diagnostics) {
	l, ok := steps.KnownValue(v)
	if !ok {
		return nil, nil
	}
	var out []int
	var diags hcl.Diagnostics
	for it := l.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		n, ok := steps.KnownValue(ev)
		if !ok {
			continue
		}
		i, acc := n.AsBigFloat().Int64()
		if acc != big.Exact || i < 100 || i > 599 {
			diags = append(diags, steps.Error("Invalid status in expect_status",
				fmt.Sprintf("%s is not an HTTP status; use whole numbers from 100 to 599.", n.AsBigFloat().Text('g', -1))))
			continue
		}
		out = append(out, int(i))
	}
	return out, diags
}

// isCredentialHeader reports headers whose values are credentials, masked
// in plans and redacted from diagnostics even when not marked sensitive.
func isCredentialHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	for _, w := range []string{"token", "secret", "password", "passwd", "api-key", "apikey", "auth"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// displayHeaders renders headers for a summary, credential values masked.
func displayHeaders(v cty.Value) string {
	if !v.IsKnown() || v.HasMark(marks.Sensitive) {
		return steps.Display(v)
	}
	m, _ := v.Unmark()
	if m.IsNull() {
		return ""
	}
	var parts []string
	for it := m.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		shown := steps.Display(ev)
		if isCredentialHeader(k.AsString()) && ev.IsKnown() {
			shown = marks.Masked
		}
		parts = append(parts, k.AsString()+": "+shown)
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
