package rok

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// ConfigGet is the kind rok.config_get: it reads one cluster configuration
// key, or all of them, with `rok-config get`.
type ConfigGet struct{}

// ConfigSet is the kind rok.config_set: it records a key's value and then
// sets it with `rok-config set KEY=VALUE`, so the old value can be restored.
type ConfigSet struct{}

var (
	_ steps.Kind = ConfigGet{}
	_ steps.Kind = ConfigSet{}
)

const rokConfig = "rok-config"

var sudoArg = &schema.Attribute{
	Type:        cty.Bool,
	Default:     cty.False,
	Description: "Run the command as root through `sudo -n`.",
}

var configGetSchema = &steps.Schema{
	Name:    "rok.config_get",
	Summary: "Read Rok cluster configuration with rok-config get.",
	Description: "Runs `rok-config get KEY` on the target node and returns the value, or, without a key, " +
		"`rok-config get`, which prints every key as key=value, one per line, and returns them as a map. " +
		"Keys are dotted names such as cluster.master_candidates. The step is read-only, so " +
		"`plan --discover` runs it.",
	Effect: steps.ReadOnly,
	Target: steps.TargetHost,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"key": {
			Type:        cty.String,
			Description: "The dotted configuration key to read, e.g. cluster.master_candidates; omit it to read every key.",
		},
		"sudo": sudoArg,
	}},
	Outputs: map[string]*schema.Attribute{
		"value":  {Type: cty.String, Description: "The value of key; empty when no key was given."},
		"values": {Type: cty.Map(cty.String), Description: "Every key read and its value (just key when one was given)."},
	},
}

var configSetSchema = &steps.Schema{
	Name:    "rok.config_set",
	Summary: "Set a Rok cluster configuration key with rok-config set, recording its previous value.",
	Description: "Runs `rok-config get KEY` on the target node to record the current value, then " +
		"`rok-config set KEY=VALUE` unless the value is already the one wanted, so a re-run changes " +
		"nothing. The previous value is an output, so an undo step (another rok.config_set with " +
		"value = step.NAME.outputs.previous) can put it back: this is how the v0.11 playbook pins " +
		"cluster.master_candidates to the master and restores it afterwards. A key that does not " +
		"exist yet is reported with existed = false and previous = \"\".",
	Effect:     steps.Idempotent,
	Reversible: true,
	Target:     steps.TargetHost,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"key": {
			Type:        cty.String,
			Required:    true,
			Description: "The dotted configuration key to set, e.g. cluster.master_candidates.",
		},
		"value": {
			Type:        cty.String,
			Required:    true,
			Description: "The value to set; for cluster.master_candidates a comma-separated list of member names.",
		},
		"sudo": sudoArg,
	}},
	Outputs: map[string]*schema.Attribute{
		"previous": {Type: cty.String, Description: "The key's value before the step ran (\"\" when it did not exist)."},
		"existed":  {Type: cty.Bool, Description: "Whether the key existed before the step ran."},
		"value":    {Type: cty.String, Description: "The value the key has now."},
		"changed":  {Type: cty.Bool, Description: "Whether the step ran rok-config set (false when the value was already right)."},
	},
}

// Schema implements steps.Kind.
func (ConfigGet) Schema() *steps.Schema { return configGetSchema }

// Schema implements steps.Kind.
func (ConfigSet) Schema() *steps.Schema { return configSetSchema }

func checkKey(v cty.Value) hcl.Diagnostics {
	k, ok := steps.Str(v)
	if !ok {
		return nil
	}
	if err := validKey(k); err != nil {
		return hcl.Diagnostics{steps.Errorf("Invalid configuration key", "The key %q %s.", k, err)}
	}
	return nil
}

// validKey accepts dotted names; it refuses what would change the meaning of
// the command line (an "=" splits KEY=VALUE, a leading "-" is an option).
func validKey(k string) error {
	switch {
	case k == "":
		return fmt.Errorf("is empty")
	case strings.HasPrefix(k, "-"):
		return fmt.Errorf("starts with \"-\", which rok-config would read as an option")
	case strings.ContainsAny(k, "= \t\r\n"):
		return fmt.Errorf("contains \"=\" or white space")
	}
	return nil
}

// Plan implements steps.Kind.
func (ConfigGet) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	key := steps.Attr(req.Args, "key")
	if key.IsNull() {
		return steps.PlanResponse{Summary: "read every Rok configuration key", Command: []string{rokConfig, "get"}}
	}
	return steps.PlanResponse{
		Summary:     "read Rok configuration " + steps.Display(key),
		Command:     []string{rokConfig, "get", steps.Display(key)},
		Diagnostics: checkKey(key),
	}
}

// Run implements steps.Kind.
func (ConfigGet) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	sudo, _ := steps.Bool(steps.Attr(req.Args, "sudo"), false)
	keyV := steps.Attr(req.Args, "key")
	if keyV.IsNull() {
		values, diags := readAllConfig(ctx, req, configGetSchema.Name, sudo)
		if diags.HasErrors() {
			return steps.RunResponse{Diagnostics: diags}
		}
		return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
			"value":  cty.StringVal(""),
			"values": stringMap(values),
		})}
	}
	if diags := checkKey(keyV); diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	key, _ := steps.Str(keyV)
	value, diags := readConfig(ctx, req, configGetSchema.Name, key, sudo)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"value":  cty.StringVal(value),
		"values": stringMap(map[string]string{key: value}),
	})}
}

// readConfig runs `rok-config get KEY` and returns the value it prints.
func readConfig(ctx context.Context, req steps.RunRequest, kind, key string, sudo bool) (string, hcl.Diagnostics) {
	argv := []string{rokConfig, "get", key}
	res, diags := invocation{kind: kind, argv: argv, shown: argv, sudo: sudo}.run(ctx, req)
	if diags.HasErrors() {
		return "", diags
	}
	return parseConfigValue(string(res.Stdout), key), nil
}

// readAllConfig runs `rok-config get` and parses its key=value lines.
func readAllConfig(ctx context.Context, req steps.RunRequest, kind string, sudo bool) (map[string]string, hcl.Diagnostics) {
	argv := []string{rokConfig, "get"}
	res, diags := invocation{kind: kind, argv: argv, shown: argv, sudo: sudo}.run(ctx, req)
	if diags.HasErrors() {
		return nil, diags
	}
	values, err := ParseConfigLines(string(res.Stdout))
	if err != nil {
		return nil, hcl.Diagnostics{steps.Errorf("Cannot read rok-config output", "The output of `rok-config get`: %s.", err)}
	}
	return values, nil
}

// parseConfigValue takes the value printed by `rok-config get KEY`: the
// output without its final line break, and without a leading "KEY=" should
// the tool print the key too.
func parseConfigValue(out, key string) string {
	out = strings.TrimRight(out, "\r\n")
	if !strings.Contains(out, "\n") {
		out = strings.TrimPrefix(out, key+"=")
	}
	return out
}

// ParseConfigLines parses the output of `rok-config get` with no key: one
// key=value per line. Blank lines and lines starting with # are skipped; a
// value may itself contain "=".
func ParseConfigLines(text string) (map[string]string, error) {
	values := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d is not key=value: %q", i+1, line)
		}
		if _, dup := values[k]; dup {
			return nil, fmt.Errorf("key %s appears twice", k)
		}
		values[k] = v
	}
	return values, nil
}

// Plan implements steps.Kind.
func (ConfigSet) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	key, value := steps.Attr(req.Args, "key"), steps.Attr(req.Args, "value")
	return steps.PlanResponse{
		Summary:     fmt.Sprintf("set %s = %s (was: %s)", steps.Display(key), steps.Display(value), afterRun),
		Command:     []string{rokConfig, "set", displayKV(key, value)},
		Diagnostics: checkKey(key),
	}
}

// Run implements steps.Kind.
func (ConfigSet) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	name := configSetSchema.Name
	keyV, valueV := steps.Attr(req.Args, "key"), steps.Attr(req.Args, "value")
	diags := checkKey(keyV)
	key, kok := steps.Str(keyV)
	value, vok := steps.Str(valueV)
	if !kok || !vok {
		diags = append(diags, steps.Errorf("Missing argument", "Kind %s needs both key and value.", name))
	}
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	sudo, _ := steps.Bool(steps.Attr(req.Args, "sudo"), false)

	var previous string
	var existed bool
	if h, ok := parsePreviousHandle(req.Handle); ok {
		// An earlier attempt read the value before setting it and recorded
		// it; after a crash the key may already hold the new value, and
		// the value to restore is the one recorded then.
		previous, existed = h.value, h.existed
	} else {
		previous, existed, diags = currentConfig(ctx, req, key, sudo)
		if diags.HasErrors() {
			return steps.RunResponse{Diagnostics: diags}
		}
		if req.RecordHandle != nil && !steps.Sensitive(valueV) {
			if err := req.RecordHandle(previousHandle(previous, existed)); err != nil {
				return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Cannot record the previous value", "The journal refused it (%s); nothing was set.", err))}
			}
		}
	}
	current, cexisted, cdiags := previous, existed, hcl.Diagnostics(nil)
	if req.Handle != "" {
		current, cexisted, cdiags = currentConfig(ctx, req, key, sudo)
		if cdiags.HasErrors() {
			return steps.RunResponse{Diagnostics: cdiags}
		}
	}
	changed := !cexisted || current != value
	if changed {
		inv := invocation{
			kind:    name,
			argv:    []string{rokConfig, "set", key + "=" + value},
			shown:   []string{rokConfig, "set", displayKV(keyV, valueV)},
			sudo:    sudo,
			secrets: secretsOf(valueV),
			stream:  true,
		}
		if _, sdiags := inv.run(ctx, req); sdiags.HasErrors() {
			return steps.RunResponse{Diagnostics: append(diags, sdiags...)}
		}
	}
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"previous": cty.StringVal(previous),
		"existed":  cty.BoolVal(existed),
		"value":    cty.StringVal(value),
		"changed":  cty.BoolVal(changed),
	}), Diagnostics: diags}
}

// currentConfig reads a key's value before it is set. `rok-config get KEY`
// may fail for a key that does not exist; the full listing then tells an
// absent key (no error) from a real failure (the first error is kept).
func currentConfig(ctx context.Context, req steps.RunRequest, key string, sudo bool) (string, bool, hcl.Diagnostics) {
	name := configSetSchema.Name
	value, diags := readConfig(ctx, req, name, key, sudo)
	if !diags.HasErrors() {
		return value, true, nil
	}
	all, adiags := readAllConfig(ctx, req, name, sudo)
	if adiags.HasErrors() {
		return "", false, diags
	}
	if _, ok := all[key]; ok {
		// The listing has it, so the first failure was not about absence.
		return "", false, diags
	}
	return "", false, hcl.Diagnostics{steps.Warnf("Configuration key not set yet",
		"`rok-config get %s` failed and the full listing has no such key, so it is treated as unset; the undo step would set it to \"\".", key)}
}

// previousValue is what rok.config_set records as its external handle
// before it sets a key: the value to restore.
type previousValue struct {
	value   string
	existed bool
}

const previousPrefix = "previous:"

func previousHandle(value string, existed bool) string {
	if !existed {
		return previousPrefix + "unset"
	}
	return previousPrefix + "=" + value
}

func parsePreviousHandle(h string) (previousValue, bool) {
	rest, ok := strings.CutPrefix(h, previousPrefix)
	switch {
	case !ok:
		return previousValue{}, false
	case rest == "unset":
		return previousValue{}, true
	case strings.HasPrefix(rest, "="):
		return previousValue{value: rest[1:], existed: true}, true
	}
	return previousValue{}, false
}
