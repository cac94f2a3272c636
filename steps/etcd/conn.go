package etcd

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// connType is the type of the shared `etcd` argument.
var connType = cty.ObjectWithOptionalAttrs(map[string]cty.Type{
	"endpoints":       cty.List(cty.String),
	"ca_file":         cty.String,
	"cert_file":       cty.String,
	"key_file":        cty.String,
	"server_name":     cty.String,
	"user":            cty.String,
	"password":        cty.String,
	"dial_timeout":    cty.String,
	"request_timeout": cty.String,
}, []string{"ca_file", "cert_file", "key_file", "server_name", "user", "password", "dial_timeout", "request_timeout"})

const (
	defaultDialTimeout    = 5 * time.Second
	defaultRequestTimeout = 10 * time.Second
)

// connArg is the `etcd` argument every kind of the package takes.
// connSecrets: the connection, password and key included, only
// authenticates the client to etcd, which never sends it back.
var connSecrets = steps.Secrets{Credentials: []string{"etcd"}}

var connArg = &schema.Attribute{
	Type:     connType,
	Required: true,
	Description: "How to reach etcd (client v3 gRPC): endpoints (all http:// or all https://), ca_file to verify " +
		"the servers, cert_file and key_file for a client certificate (its CN is the etcd user once auth " +
		"is on), server_name to override the TLS name checked, user and password (sensitive; both or " +
		"neither: the client authenticates only with both), dial_timeout and request_timeout as Go " +
		"durations (default 5s and 10s). A TLS mismatch makes etcd calls hang rather than fail, so every " +
		"call is bounded by request_timeout and a timeout is reported with a TLS hint.",
}

// conn is a decoded, validated connection argument.
type conn struct {
	Endpoints      []string
	CAFile         string
	CertFile       string
	KeyFile        string
	ServerName     string
	User           string
	Password       string
	DialTimeout    time.Duration
	RequestTimeout time.Duration
	TLS            bool
}

// identity says who the connection acts as, for plans and messages.
func (c conn) identity() string {
	switch {
	case c.User != "":
		return "user " + c.User
	case c.CertFile != "":
		return "the certificate " + c.CertFile
	}
	return "anonymous"
}

// parseConn decodes and checks the `etcd` argument. ok is false when part of
// it is not known yet; the diagnostics are about the known parts.
func parseConn(v cty.Value) (c conn, ok bool, diags hcl.Diagnostics) {
	if v.IsNull() {
		return c, false, hcl.Diagnostics{steps.Errorf("Missing etcd connection", "The etcd argument is required.")}
	}
	if !v.IsWhollyKnown() {
		ok = false
	} else {
		ok = true
	}
	eps, eok := steps.StrList(steps.Attr(v, "endpoints"))
	if eok {
		if len(eps) == 0 {
			diags = append(diags, steps.Errorf("No etcd endpoints", "The etcd argument's endpoints list is empty."))
		}
		schemes := map[string]bool{}
		for _, ep := range eps {
			u, err := url.Parse(ep)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				diags = append(diags, steps.Errorf("Invalid etcd endpoint",
					"The endpoint %q must be a URL such as https://10.0.0.11:2379 (http:// or https://, with a host and port).", ep))
				continue
			}
			schemes[u.Scheme] = true
		}
		if len(schemes) > 1 {
			diags = append(diags, steps.Errorf("Mixed etcd endpoint schemes", "The endpoints mix http:// and https://; etcd serves one or the other, so use one scheme."))
		}
		c.Endpoints = eps
		c.TLS = schemes["https"]
	}
	get := func(name string) string {
		s, _ := steps.Str(steps.Attr(v, name))
		return s
	}
	c.CAFile, c.CertFile, c.KeyFile = get("ca_file"), get("cert_file"), get("key_file")
	c.ServerName, c.User, c.Password = get("server_name"), get("user"), get("password")
	for _, name := range []string{"ca_file", "cert_file", "key_file"} {
		if s := get(name); s != "" && !strings.HasPrefix(s, "/") {
			diags = append(diags, steps.Errorf("Relative path", "The etcd argument's %s must be an absolute path on the machine running rokflow; %q is not.", name, s))
		}
	}
	if steps.Known(steps.Attr(v, "cert_file")) != steps.Known(steps.Attr(v, "key_file")) && steps.Attr(v, "cert_file").IsKnown() && steps.Attr(v, "key_file").IsKnown() {
		diags = append(diags, steps.Errorf("Incomplete client certificate", "The etcd argument needs both cert_file and key_file, or neither."))
	}
	if steps.Known(steps.Attr(v, "user")) != steps.Known(steps.Attr(v, "password")) && steps.Attr(v, "user").IsKnown() && steps.Attr(v, "password").IsKnown() {
		diags = append(diags, steps.Errorf("Incomplete etcd credentials",
			"The etcd argument needs both user and password, or neither: the etcd client only authenticates when both are set, and a user alone is refused as anonymous."))
	}
	if eok && !c.TLS && (c.CAFile != "" || c.CertFile != "" || c.ServerName != "") {
		diags = append(diags, steps.Errorf("TLS files with http:// endpoints",
			"The etcd argument gives TLS files but its endpoints are http://. A plain-text client pointed at a TLS server hangs until its deadline instead of failing; use https:// endpoints."))
	}
	var err error
	if c.DialTimeout, err = durationArg(steps.Attr(v, "dial_timeout"), defaultDialTimeout); err != nil {
		diags = append(diags, steps.Errorf("Invalid dial_timeout", "The etcd argument's dial_timeout %s.", err))
	}
	if c.RequestTimeout, err = durationArg(steps.Attr(v, "request_timeout"), defaultRequestTimeout); err != nil {
		diags = append(diags, steps.Errorf("Invalid request_timeout", "The etcd argument's request_timeout %s.", err))
	}
	return c, ok && !diags.HasErrors(), diags
}

// durationArg parses an optional Go duration; unknown values give def.
func durationArg(v cty.Value, def time.Duration) (time.Duration, error) {
	s, ok := steps.Str(v)
	if !ok {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return def, fmt.Errorf("%q is not a duration such as 5s or 2m", s)
	}
	if d <= 0 {
		return def, fmt.Errorf("%q must be positive", s)
	}
	return d, nil
}

// displayConn renders where a step connects, without credentials: the
// endpoints and the identity it acts as.
func displayConn(v cty.Value) string {
	if v.IsNull() {
		return "etcd"
	}
	eps := steps.Attr(v, "endpoints")
	who := "anonymously"
	switch {
	case !steps.Attr(v, "user").IsNull():
		who = "as user " + steps.Display(steps.Attr(v, "user"))
	case !steps.Attr(v, "cert_file").IsNull():
		who = "with certificate " + steps.Display(steps.Attr(v, "cert_file"))
	}
	if l, ok := steps.StrList(eps); ok && !steps.Sensitive(eps) {
		return "etcd " + strings.Join(l, ",") + " " + who
	}
	return "etcd " + steps.Display(eps) + " " + who
}
