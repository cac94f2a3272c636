package etcd

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// Get is the kind etcd.get: it reads one key or every key under a prefix.
type Get struct{}

// Put is the kind etcd.put: it sets a key unless it already holds the value.
type Put struct{}

// Wait is the kind etcd.wait: it waits until a key exists or holds a value.
type Wait struct{}

var (
	_ steps.Kind = Get{}
	_ steps.Kind = Put{}
	_ steps.Kind = Wait{}
)

var getSchema = &steps.Schema{
	Name:    "etcd.get",
	Summary: "Read a key, or every key under a prefix, from etcd.",
	Description: "Reads key from etcd with a linearizable range request, or with prefix = true every key " +
		"that starts with key. A key that does not exist is not an error: found is false and value is " +
		"\"\". The step is read-only, so `plan --discover` runs it.",
	Effect: steps.ReadOnly,
	Target: steps.TargetNone,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"etcd":   connArg,
		"key":    {Type: cty.String, Required: true, Description: "The key to read, or the prefix when prefix is true."},
		"prefix": {Type: cty.Bool, Default: cty.False, Description: "Read every key starting with key."},
	}},
	Outputs: map[string]*schema.Attribute{
		"value":    {Type: cty.String, Description: "The value of key itself (\"\" when it does not exist)."},
		"values":   {Type: cty.Map(cty.String), Description: "Every key read and its value."},
		"found":    {Type: cty.Bool, Description: "Whether any key was read."},
		"revision": {Type: cty.Number, Description: "The etcd store revision the read saw."},
	},
	Secrets: connSecrets,
}

var putSchema = &steps.Schema{
	Name:    "etcd.put",
	Summary: "Set a key in etcd, unless it already holds the value.",
	Description: "Sets key to value in one transaction that compares first: when the key already holds the " +
		"value nothing is written (no new revision), so re-running the step changes nothing. The value " +
		"before the step is an output, for an undo step.",
	Effect:     steps.Idempotent,
	Reversible: true,
	Target:     steps.TargetNone,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"etcd":  connArg,
		"key":   {Type: cty.String, Required: true, Description: "The key to set."},
		"value": {Type: cty.String, Required: true, Description: "The value to store."},
	}},
	Outputs: map[string]*schema.Attribute{
		"previous": {Type: cty.String, Description: "The key's value before the step (\"\" when it did not exist)."},
		"existed":  {Type: cty.Bool, Description: "Whether the key existed before the step."},
		"changed":  {Type: cty.Bool, Description: "Whether the step wrote the key."},
		"revision": {Type: cty.Number, Description: "The store revision after the step."},
	},
	Secrets: connSecrets,
}

var waitSchema = &steps.Schema{
	Name:    "etcd.wait",
	Summary: "Wait until an etcd key exists or holds a given value.",
	Description: "Reads key and, until it exists (or, when value is set, until it holds value), watches it " +
		"from the revision read, so no change is missed between the read and the watch. Fails when " +
		"wait_timeout passes first. It changes nothing.",
	Effect:     steps.ReadOnly,
	NoDiscover: true,
	Target:     steps.TargetNone,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"etcd":  connArg,
		"key":   {Type: cty.String, Required: true, Description: "The key to wait for."},
		"value": {Type: cty.String, Description: "The value to wait for; omit it to wait until the key exists with any value."},
		"wait_timeout": {
			Type:        cty.String,
			Default:     cty.StringVal("10m"),
			Description: "How long to wait, as a Go duration; the step fails when it passes.",
		},
	}},
	Outputs: map[string]*schema.Attribute{
		"value":    {Type: cty.String, Description: "The key's value when the wait ended."},
		"revision": {Type: cty.Number, Description: "The revision at which the key matched."},
	},
	Secrets: connSecrets,
}

// Schema implements steps.Kind.
func (Get) Schema() *steps.Schema { return getSchema }

// Schema implements steps.Kind.
func (Put) Schema() *steps.Schema { return putSchema }

// Schema implements steps.Kind.
func (Wait) Schema() *steps.Schema { return waitSchema }

// checkKey refuses an empty key, which etcd rejects.
func checkKey(v cty.Value) hcl.Diagnostics {
	if s, ok := steps.Str(v); ok && s == "" {
		return hcl.Diagnostics{steps.Errorf("Empty etcd key", "The key argument must not be empty.")}
	}
	return nil
}

// Plan implements steps.Kind.
func (Get) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	_, _, diags := parseConn(steps.Attr(req.Args, "etcd"))
	key := steps.Attr(req.Args, "key")
	diags = append(diags, checkKey(key)...)
	what, op := "key "+steps.Display(key), "GET "+steps.Display(key)
	if p, _ := steps.Bool(steps.Attr(req.Args, "prefix"), false); p {
		what, op = "keys under "+steps.Display(key), "GET "+steps.Display(key)+" --prefix"
	}
	return steps.PlanResponse{
		Summary:     "read " + what + " from " + displayConn(steps.Attr(req.Args, "etcd")),
		Request:     op,
		Diagnostics: diags,
	}
}

// Plan implements steps.Kind.
func (Put) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	_, _, diags := parseConn(steps.Attr(req.Args, "etcd"))
	key, value := steps.Attr(req.Args, "key"), steps.Attr(req.Args, "value")
	diags = append(diags, checkKey(key)...)
	return steps.PlanResponse{
		Summary:     fmt.Sprintf("set %s = %s in %s (was: %s)", steps.Display(key), steps.Display(value), displayConn(steps.Attr(req.Args, "etcd")), afterRun),
		Request:     "TXN IF value(" + steps.Display(key) + ") != " + steps.Display(value) + " THEN PUT " + steps.Display(key) + " " + steps.Display(value),
		Diagnostics: diags,
	}
}

// Plan implements steps.Kind.
func (Wait) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	_, _, diags := parseConn(steps.Attr(req.Args, "etcd"))
	key, value := steps.Attr(req.Args, "key"), steps.Attr(req.Args, "value")
	diags = append(diags, checkKey(key)...)
	timeout, err := durationArg(steps.Attr(req.Args, "wait_timeout"), 10*time.Minute)
	if err != nil {
		diags = append(diags, steps.Errorf("Invalid wait_timeout", "The wait_timeout argument %s.", err))
	}
	until := steps.Display(key) + " exists"
	if !value.IsNull() {
		until = steps.Display(key) + " = " + steps.Display(value)
	}
	return steps.PlanResponse{
		Summary:     fmt.Sprintf("wait up to %s until %s in %s", timeout, until, displayConn(steps.Attr(req.Args, "etcd"))),
		Request:     "GET " + steps.Display(key) + ", then WATCH " + steps.Display(key),
		Diagnostics: diags,
	}
}
