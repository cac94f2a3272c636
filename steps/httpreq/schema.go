package httpreq

import (
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// defaultExpect is the statuses a request accepts unless told otherwise.
var defaultExpect = []int{200, 201, 202, 204}

func commonArgs() map[string]*schema.Attribute {
	expect := make([]cty.Value, len(defaultExpect))
	for i, s := range defaultExpect {
		expect[i] = cty.NumberIntVal(int64(s))
	}
	return map[string]*schema.Attribute{
		"url": {
			Type:        cty.String,
			Required:    true,
			Description: "The absolute http:// or https:// URL to request.",
		},
		"headers": {
			Type:        cty.Map(cty.String),
			Description: "Request headers. Values of credential headers (Authorization, Cookie, tokens) are always masked in plans.",
		},
		"basic_auth": {
			Type:        cty.Object(map[string]cty.Type{"user": cty.String, "password": cty.String}),
			Sensitive:   true,
			Description: "HTTP basic authentication, { user = …, password = … }; always treated as sensitive.",
		},
		"ca_file": {
			Type:        cty.String,
			Description: "A PEM file, on the machine running rokflow, holding the CA certificates to trust instead of the system's.",
		},
		"pinned_sha256": {
			Type: cty.String,
			Description: "SHA-256 fingerprint of the server's certificate, hex with or without colons. The server's " +
				"leaf certificate must match it; without ca_file the pin replaces CA and host name checks, so a " +
				"self-signed certificate (Ganeti's RAPI) can be trusted exactly.",
		},
		"insecure_skip_verify": {
			Type:        cty.Bool,
			Default:     cty.False,
			Description: "Do not verify the server's certificate at all. Avoid it: use ca_file or pinned_sha256.",
		},
		"expect_status": {
			Type:        cty.List(cty.Number),
			Default:     cty.ListVal(expect),
			Description: "HTTP statuses that count as success; any other fails the step.",
		},
	}
}

// httpSecrets: any server may echo a request, basic auth included (as
// base64, which no search for the password finds), so only the status
// is clean.
var httpSecrets = steps.Secrets{Clean: []string{"status"}}

var outputs = map[string]*schema.Attribute{
	"status":  {Type: cty.Number, Description: "The response's HTTP status code."},
	"body":    {Type: cty.String, Description: "The response body as text."},
	"json":    {Type: cty.DynamicPseudoType, Description: "The response body decoded, when the response is JSON (application/json or +json); null otherwise."},
	"headers": {Type: cty.Map(cty.String), Description: "Response headers by canonical name, repeated values joined with \", \"; Set-Cookie values are sensitive."},
}

func httpSchema() *steps.Schema {
	args := commonArgs()
	args["method"] = &schema.Attribute{
		Type:        cty.String,
		Default:     cty.StringVal("GET"),
		Description: "The HTTP method, in capitals: GET, POST, PUT, DELETE…",
	}
	args["body"] = &schema.Attribute{
		Type:        cty.String,
		Description: "The request body as text; not with json_body.",
	}
	args["json_body"] = &schema.Attribute{
		Type:        cty.DynamicPseudoType,
		Description: "A value sent JSON-encoded as the body, with Content-Type application/json unless headers set one; not with body.",
	}
	return &steps.Schema{
		Name:    "http",
		Summary: "Send an HTTP request and check its status; TLS is verified.",
		Description: "Sends `method` `url` with optional headers, basic auth and a text or JSON body from the machine " +
			"running rokflow, and fails unless the status is in `expect_status`. TLS certificates are verified " +
			"against the system's CAs, or `ca_file`, or matched exactly against `pinned_sha256`. A JSON response " +
			"is decoded into outputs.json. The kind counts as idempotent (use `once = true` for a request that " +
			"must not be repeated); use http.get for a read-only GET.",
		Effect:  steps.Idempotent,
		Target:  steps.TargetNone,
		Args:    &schema.Block{Attributes: args},
		Outputs: outputs,
		Secrets: httpSecrets,
	}
}

func getSchema() *steps.Schema {
	return &steps.Schema{
		Name:    "http.get",
		Summary: "Read a URL with HTTP GET (read-only; runs during plan --discover).",
		Description: "Sends GET `url` with optional headers and basic auth from the machine running rokflow and " +
			"fails unless the status is in `expect_status`. TLS certificates are verified against the system's " +
			"CAs, or `ca_file`, or matched exactly against `pinned_sha256`. A JSON response is decoded into " +
			"outputs.json. It changes nothing, so plan --discover may run it to make the plan concrete.",
		Effect:  steps.ReadOnly,
		Target:  steps.TargetNone,
		Args:    &schema.Block{Attributes: commonArgs()},
		Outputs: outputs,
		Secrets: httpSecrets,
	}
}
