package lang_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/marks"
)

const inputsDir = "testdata/inputs"

// inputs describes the raw inputs of one BindInputs call, added in the
// order the CLI adds them: environment, files, flags.
type inputs struct {
	env   []string
	files []string
	flags []string
}

func (in inputs) set(t *testing.T) *lang.InputSet {
	t.Helper()
	set := lang.NewInputSet()
	set.AddEnv(in.env)
	p := hclparse.NewParser()
	for _, f := range in.files {
		if diags := set.AddFile(inputsDir+"/"+f, p); diags.HasErrors() {
			t.Fatalf("AddFile(%s):\n%s", f, diagText(diags))
		}
	}
	for _, f := range in.flags {
		if diags := set.AddFlag(f); diags.HasErrors() {
			t.Fatalf("AddFlag(%s):\n%s", f, diagText(diags))
		}
	}
	return set
}

func inputsModule(t *testing.T) *lang.Module {
	t.Helper()
	return mustLoad(t, inputsDir).Root
}

func TestBindInputsValues(t *testing.T) {
	m := inputsModule(t)
	tests := map[string]struct {
		in   inputs
		want map[string]cty.Value
	}{
		"defaults": {
			in: inputs{flags: []string{"name=n"}},
			want: map[string]cty.Value{
				"replicas": cty.NumberIntVal(3),
				"enabled":  cty.False,
				"nodes":    cty.ListValEmpty(cty.String),
				"labels":   cty.MapValEmpty(cty.String),
				"etcd": cty.ObjectVal(map[string]cty.Value{
					"endpoints": cty.ListVal([]cty.Value{cty.StringVal("https://rok1:2379")}),
					"port":      cty.NumberIntVal(2379),
				}),
				"comment": cty.StringVal("none"),
			},
		},
		"flag text for a string is taken literally": {
			in: inputs{flags: []string{`name=["not", "a list"]`, "owner=a=b", "comment=null"}},
			want: map[string]cty.Value{
				"name":    cty.StringVal(`["not", "a list"]`),
				"owner":   cty.StringVal("a=b"),
				"comment": cty.StringVal("null"),
			},
		},
		"flag text for a number or bool is converted": {
			in: inputs{flags: []string{"name=n", "replicas=7", "enabled=true"}},
			want: map[string]cty.Value{
				"replicas": cty.NumberIntVal(7),
				"enabled":  cty.True,
			},
		},
		"flag text for a list, map and object is HCL": {
			in: inputs{flags: []string{
				"name=n",
				`nodes=["rok1", "rok2"]`,
				`labels={zone = "a", rack = "r1"}`,
				`etcd={endpoints = ["https://e:2379"]}`,
			}},
			want: map[string]cty.Value{
				"nodes":  cty.ListVal([]cty.Value{cty.StringVal("rok1"), cty.StringVal("rok2")}),
				"labels": cty.MapVal(map[string]cty.Value{"zone": cty.StringVal("a"), "rack": cty.StringVal("r1")}),
				"etcd": cty.ObjectVal(map[string]cty.Value{
					"endpoints": cty.ListVal([]cty.Value{cty.StringVal("https://e:2379")}),
					"port":      cty.NumberIntVal(2379),
				}),
			},
		},
		"HCL variable file": {
			in: inputs{files: []string{"prod.vars.hcl"}},
			want: map[string]cty.Value{
				"name":     cty.StringVal("from-hcl-file"),
				"replicas": cty.NumberIntVal(5),
				"nodes":    cty.ListVal([]cty.Value{cty.StringVal("rok1"), cty.StringVal("rok2")}),
				"labels":   cty.MapVal(map[string]cty.Value{"zone": cty.StringVal("a")}),
			},
		},
		"JSON variable file": {
			in: inputs{files: []string{"prod.vars.hcl.json"}},
			want: map[string]cty.Value{
				"name":    cty.StringVal("from-json-file"),
				"enabled": cty.True,
				"nodes":   cty.ListVal([]cty.Value{cty.StringVal("rok3")}),
				"etcd": cty.ObjectVal(map[string]cty.Value{
					"endpoints": cty.ListVal([]cty.Value{cty.StringVal("https://rok3:2379")}),
					"port":      cty.NumberIntVal(4001),
				}),
			},
		},
		"environment": {
			in: inputs{env: []string{
				"HOME=/root",
				"ROKFLOW_VAR_name=from-env",
				"ROKFLOW_VAR_replicas=2",
				`ROKFLOW_VAR_nodes=["e1"]`,
				"ROKFLOW_VAR_=ignored",
				"ROKFLOW_VAR_novalue",
				"rokflow_var_owner=not-the-prefix",
			}},
			want: map[string]cty.Value{
				"name":     cty.StringVal("from-env"),
				"replicas": cty.NumberIntVal(2),
				"nodes":    cty.ListVal([]cty.Value{cty.StringVal("e1")}),
				"owner":    cty.StringVal("ops"),
			},
		},
		"files override the environment": {
			in: inputs{
				env:   []string{"ROKFLOW_VAR_name=from-env", "ROKFLOW_VAR_owner=env-owner"},
				files: []string{"prod.vars.hcl"},
			},
			want: map[string]cty.Value{
				"name":  cty.StringVal("from-hcl-file"),
				"owner": cty.StringVal("env-owner"),
			},
		},
		"later files override earlier ones": {
			in: inputs{files: []string{"prod.vars.hcl", "prod.vars.hcl.json"}},
			want: map[string]cty.Value{
				"name":     cty.StringVal("from-json-file"),
				"replicas": cty.NumberIntVal(5),
				"nodes":    cty.ListVal([]cty.Value{cty.StringVal("rok3")}),
			},
		},
		"flags override files and the environment": {
			in: inputs{
				env:   []string{"ROKFLOW_VAR_name=from-env", "ROKFLOW_VAR_replicas=2"},
				files: []string{"prod.vars.hcl"},
				flags: []string{"name=from-flag", " replicas =6"},
			},
			want: map[string]cty.Value{
				"name":     cty.StringVal("from-flag"),
				"replicas": cty.NumberIntVal(6),
			},
		},
		"null for a nullable variable": {
			in: inputs{files: []string{"nulls.vars.hcl"}},
			want: map[string]cty.Value{
				"comment": cty.NullVal(cty.String),
				// owner is not nullable: null means its default.
				"owner": cty.StringVal("ops"),
			},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			vals, diags := lang.BindInputs(m, tt.in.set(t), false)
			if diags.HasErrors() {
				t.Fatalf("BindInputs:\n%s", diagText(diags))
			}
			if len(vals) != len(m.Variables) {
				t.Errorf("got %d values, want one per variable (%d)", len(vals), len(m.Variables))
			}
			for n, want := range tt.want {
				got, ok := vals[n]
				if !ok {
					t.Errorf("no value for %s", n)
					continue
				}
				if !got.RawEquals(want) {
					t.Errorf("%s = %#v, want %#v", n, got, want)
				}
			}
		})
	}
}

func TestBindInputsErrors(t *testing.T) {
	m := inputsModule(t)
	tests := map[string]struct {
		in inputs
		// allowMissing is BindInputs' last argument.
		allowMissing bool
		summary      string
		// detail lists texts the error's detail must hold.
		detail []string
		// subject is the file the error points at, "" for none.
		subject string
		// unknown names the variable whose value must come back unknown.
		unknown string
	}{
		"required variable missing": {
			summary: "No value for required variable",
			detail:  []string{`"name"`, "--var name=VALUE", "ROKFLOW_VAR_name"},
			subject: "main.hcl",
			unknown: "name",
		},
		"undeclared variable from a flag": {
			in:      inputs{flags: []string{"name=n", "replica=2"}},
			summary: "Value for undeclared variable",
			detail:  []string{`"replica"`, "set by -var", `Did you mean "replicas"?`},
		},
		"undeclared variable from a file": {
			in:      inputs{files: []string{"undeclared.vars.hcl"}},
			summary: "Value for undeclared variable",
			detail:  []string{`"nodez"`, "undeclared.vars.hcl", `Did you mean "nodes"?`},
			subject: "undeclared.vars.hcl",
		},
		"number flag that is not a number": {
			in:      inputs{flags: []string{"name=n", "replicas=many"}},
			summary: "Invalid value for variable",
			detail:  []string{`"replicas"`, "-var", "number"},
			unknown: "replicas",
		},
		"number in a file that is not a number": {
			in:      inputs{files: []string{"bad.vars.hcl"}},
			summary: "Invalid value for variable",
			detail:  []string{`"replicas"`, "bad.vars.hcl", "number"},
			subject: "bad.vars.hcl",
			unknown: "replicas",
		},
		"bool flag that is not a bool": {
			in:      inputs{flags: []string{"name=n", "enabled=yes"}},
			summary: "Invalid value for variable",
			detail:  []string{`"enabled"`, "bool"},
			unknown: "enabled",
		},
		"list flag that does not parse": {
			in:      inputs{flags: []string{"name=n", `nodes=["rok1"`}},
			summary: "Invalid value for variable",
			detail:  []string{`"nodes"`, "does not parse"},
			unknown: "nodes",
		},
		"list flag given a bare word": {
			in:      inputs{flags: []string{"name=n", "nodes=rok1"}},
			summary: "Invalid value for variable",
			detail:  []string{`"nodes"`},
			unknown: "nodes",
		},
		"list flag of the wrong element type": {
			in:      inputs{flags: []string{"name=n", `nodes=[["a"]]`}},
			summary: "Invalid value for variable",
			detail:  []string{`"nodes"`, "string required"},
			unknown: "nodes",
		},
		"object flag missing a required attribute": {
			in:      inputs{flags: []string{"name=n", `etcd={port = 1}`}},
			summary: "Invalid value for variable",
			detail:  []string{`"etcd"`, `"endpoints" is required`},
			unknown: "etcd",
		},
		"null for a required variable that is not nullable": {
			in:      inputs{files: []string{"nullname.vars.hcl"}},
			summary: "Invalid value for variable",
			detail:  []string{`"name"`, "must not be null"},
			unknown: "name",
		},
		"validation rule fails": {
			in:      inputs{flags: []string{"name=n", "environment=qa"}},
			summary: "Invalid value for variable",
			detail:  []string{"The environment must be production or staging.", "main.hcl"},
			subject: "main.hcl",
		},
		"validation rule of a number fails": {
			in:      inputs{flags: []string{"name=n", "replicas=9"}},
			summary: "Invalid value for variable",
			detail:  []string{"Between 1 and 7 replicas."},
			subject: "main.hcl",
		},
		"validation rule fails on a missing variable allowed": {
			in:           inputs{flags: []string{"replicas=0"}},
			allowMissing: true,
			summary:      "Invalid value for variable",
			detail:       []string{"Between 1 and 7 replicas."},
			subject:      "main.hcl",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			vals, diags := lang.BindInputs(m, tt.in.set(t), tt.allowMissing)
			errs := errorSummaries(diags)
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1 %q:\n%s", len(errs), tt.summary, diagText(diags))
			}
			d := findDiag(t, diags, tt.summary)
			for _, want := range tt.detail {
				if !strings.Contains(d.Detail, want) {
					t.Errorf("detail %q does not hold %q", d.Detail, want)
				}
			}
			switch {
			case tt.subject == "" && d.Subject != nil:
				t.Errorf("subject %s, want none", d.Subject)
			case tt.subject != "" && (d.Subject == nil || !strings.HasSuffix(d.Subject.Filename, tt.subject)):
				t.Errorf("subject %v, want a range in %s", d.Subject, tt.subject)
			}
			if len(vals) != len(m.Variables) {
				t.Errorf("got %d values, want one per variable (%d) even with errors", len(vals), len(m.Variables))
			}
			if tt.unknown != "" {
				if v := vals[tt.unknown]; v.IsKnown() {
					t.Errorf("%s = %#v, want an unknown after a bad input", tt.unknown, v)
				}
			}
		})
	}
}

// TestBindInputsUndeclaredEnv checks that the environment may hold
// values for variables the playbook does not declare (sim.env sets two
// passwords every playbook may not take): they are ignored, and only a
// name that looks like a misspelling of a declared one draws a warning.
func TestBindInputsUndeclaredEnv(t *testing.T) {
	m := inputsModule(t)
	tests := map[string]struct {
		env []string
		// warning is the variable a warning must suggest, "" for none.
		warning string
	}{
		"another playbook's variable": {env: []string{"ROKFLOW_VAR_roke_password=x", "ROKFLOW_VAR_zzz=1"}},
		"a misspelling":               {env: []string{"ROKFLOW_VAR_replica=2"}, warning: "replicas"},
		"another case":                {env: []string{"ROKFLOW_VAR_Owner=me"}, warning: "owner"},
		"three edits away":            {env: []string{"ROKFLOW_VAR_pasword_x=1"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			set := inputs{env: tt.env, flags: []string{"name=n"}}.set(t)
			vals, diags := lang.BindInputs(m, set, false)
			if diags.HasErrors() {
				t.Fatalf("BindInputs refused an undeclared environment variable:\n%s", diagText(diags))
			}
			if got := vals["name"]; !got.RawEquals(cty.StringVal("n")) {
				t.Errorf("name = %#v, want the flag's value", got)
			}
			if len(lang.UndeclaredEnv(m, set)) != len(tt.env) {
				t.Errorf("UndeclaredEnv = %v, want every one of %v", lang.UndeclaredEnv(m, set), tt.env)
			}
			if tt.warning == "" {
				if len(diags) != 0 {
					t.Errorf("want no diagnostics, got:\n%s", diagText(diags))
				}
				return
			}
			if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || diags[0].Summary != "Environment variable for undeclared variable" ||
				!strings.Contains(diags[0].Detail, "ROKFLOW_VAR_"+tt.warning+"?") {
				t.Errorf("want one warning suggesting ROKFLOW_VAR_%s, got:\n%s", tt.warning, diagText(diags))
			}
		})
	}
	t.Run("a flag still may not", func(t *testing.T) {
		_, diags := lang.BindInputs(m, inputs{flags: []string{"name=n", "zzz=1"}}.set(t), false)
		findDiag(t, diags, "Value for undeclared variable")
	})
}

func TestBindInputsAllowMissing(t *testing.T) {
	m := inputsModule(t)
	vals, diags := lang.BindInputs(m, lang.NewInputSet(), true)
	if diags.HasErrors() {
		t.Fatalf("BindInputs:\n%s", diagText(diags))
	}
	if v := vals["name"]; v.IsKnown() || !v.Type().Equals(cty.String) {
		t.Errorf("name = %#v, want an unknown string", v)
	}
}

func TestAddFlagErrors(t *testing.T) {
	for name, arg := range map[string]string{
		"no equals sign": "platform",
		"no name":        "=ganeti",
		"blank name":     "  =ganeti",
	} {
		t.Run(name, func(t *testing.T) {
			diags := lang.NewInputSet().AddFlag(arg)
			d := findDiag(t, diags, "Invalid -var option")
			if !strings.Contains(d.Detail, "NAME=VALUE") {
				t.Errorf("detail %q does not show the form", d.Detail)
			}
		})
	}
}

func TestAddFileErrors(t *testing.T) {
	tests := map[string]struct {
		file    string
		summary string
	}{
		"missing file":   {file: "nope.vars.hcl", summary: "Cannot read variable file"},
		"wrong name":     {file: "../../../README.md", summary: "Not a variable file"},
		"no name ending": {file: "main", summary: "Not a variable file"},
		"syntax error":   {file: "syntax.vars.hcl", summary: "Unterminated template string"},
		"blocks, not attributes": {
			file:    "../load/single.hcl",
			summary: "Unexpected \"playbook\" block",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			set := lang.NewInputSet()
			diags := set.AddFile(inputsDir+"/"+tt.file, hclparse.NewParser())
			findDiag(t, diags, tt.summary)
		})
	}
	t.Run("a directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "x.vars.hcl")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		d := findDiag(t, lang.NewInputSet().AddFile(dir, hclparse.NewParser()), "Cannot read variable file")
		if !strings.Contains(d.Detail, "is a directory") {
			t.Errorf("detail %q does not say it is a directory", d.Detail)
		}
	})
}

// TestSensitiveInputs checks that a sensitive variable's value is marked
// and that no error about it shows the secret.
func TestSensitiveInputs(t *testing.T) {
	m := inputsModule(t)
	const secret = "plain-hunter2-XYZZY"
	tests := map[string]struct {
		in inputs
		// marked lists the variables whose values must carry the mark.
		marked []string
		// errors is how many errors to expect.
		errors int
		// detail is a text one error's detail must hold.
		detail string
	}{
		"defaults are marked": {
			in:     inputs{flags: []string{"name=n"}},
			marked: []string{"password", "token", "pin", "secrets"},
		},
		"given values are marked": {
			in: inputs{
				env:   []string{"ROKFLOW_VAR_password=" + secret + secret},
				flags: []string{"name=n", "pin=4321", `secrets=["a", "b"]`},
			},
			marked: []string{"password", "pin", "secrets"},
		},
		"missing values are marked unknowns": {
			in:     inputs{},
			marked: []string{"password", "token"},
		},
		"literal validation message": {
			in:     inputs{flags: []string{"name=n", "password=short"}},
			marked: []string{"password"},
			errors: 1,
			detail: "The password is too short.",
		},
		"validation message that interpolates the secret": {
			in:     inputs{flags: []string{"name=n", "token=" + secret}},
			marked: []string{"token"},
			errors: 1,
			detail: "sensitive",
		},
		"number that does not convert": {
			in:     inputs{flags: []string{"name=n", "pin=" + secret}},
			errors: 1,
			detail: `"pin"`,
		},
		"list that does not parse": {
			in:     inputs{flags: []string{"name=n", "secrets=[" + secret}},
			errors: 1,
			detail: `"secrets"`,
		},
		"list given a bare word": {
			in:     inputs{flags: []string{"name=n", "secrets=" + secret}},
			errors: 1,
			detail: `"secrets"`,
		},
		"list of the wrong element type": {
			in:     inputs{flags: []string{"name=n", `secrets=[["` + secret + `"]]`}},
			errors: 1,
			detail: `"secrets"`,
		},
		"short secret fails a rule that needs a function": {
			in:     inputs{flags: []string{"name=n", "pin=12"}},
			marked: []string{"pin"},
			errors: 1,
			detail: "The pin has four digits.",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			vals, diags := lang.BindInputs(m, tt.in.set(t), true)
			for _, n := range tt.marked {
				if !vals[n].HasMark(marks.Sensitive) {
					t.Errorf("%s = %#v, want it marked sensitive", n, vals[n])
				}
			}
			for _, n := range []string{"name", "replicas", "nodes"} {
				if marks.IsSensitive(vals[n]) {
					t.Errorf("%s is marked sensitive but is not declared so", n)
				}
			}
			if got := len(errorSummaries(diags)); got != tt.errors {
				t.Fatalf("got %d errors, want %d:\n%s", got, tt.errors, diagText(diags))
			}
			found := tt.detail == ""
			for _, d := range diags {
				for _, text := range []string{d.Summary, d.Detail} {
					if strings.Contains(text, "hunter2") || strings.Contains(text, "XYZZY") {
						t.Errorf("a diagnostic shows the secret: %s: %s", d.Summary, d.Detail)
					}
				}
				if strings.Contains(d.Detail, tt.detail) {
					found = true
				}
			}
			if !found {
				t.Errorf("no diagnostic holds %q:\n%s", tt.detail, diagText(diags))
			}
		})
	}
}

// TestValidateVariableSensitiveErrors checks a validation whose condition
// fails to evaluate on a sensitive value: the error must not show it.
func TestValidateVariableSensitiveErrors(t *testing.T) {
	const secret = "hunter2-XYZZY"
	tests := map[string]string{
		"function error": `tonumber(var.v) > 0`,
		"index error":    `var.v[0] == "x"`,
		"type error":     `var.v + 1 > 0`,
		"regex error":    `can(regex("[", var.v)) || regex(var.v, "") == ""`,
	}
	for name, cond := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := "variable \"v\" {\n  type      = string\n  sensitive = true\n  validation {\n    condition     = " + cond + "\n    error_message = \"bad\"\n  }\n}\n"
			writeFile(t, dir, "main.hcl", src)
			m := mustLoad(t, dir).Root
			set := lang.NewInputSet()
			set.AddFlag("v=" + secret)
			_, diags := lang.BindInputs(m, set, false)
			if !diags.HasErrors() {
				t.Fatalf("no error for a condition that cannot be evaluated")
			}
			for _, d := range diags {
				if strings.Contains(d.Summary, "XYZZY") || strings.Contains(d.Detail, "XYZZY") {
					t.Errorf("a diagnostic shows the secret: %s: %s", d.Summary, d.Detail)
				}
			}
		})
	}
}

func TestValidateVariableConditions(t *testing.T) {
	tests := map[string]struct {
		cond, msg string
		summary   string // "" for no error
		detail    string
	}{
		"true":            {cond: `true`, msg: `"m"`},
		"unknown result":  {cond: `var.v == "x" ? true : null`, msg: `"m"`},
		"not a bool":      {cond: `"maybe"`, msg: `"m"`, summary: "Invalid validation condition", detail: "true or false"},
		"false":           {cond: `var.v == "y"`, msg: `"must be y"`, summary: "Invalid value for variable", detail: "must be y"},
		"message errors":  {cond: `false`, msg: `"${[]}"`, summary: "Invalid value for variable", detail: "does not meet the variable's validation rule"},
		"message is null": {cond: `false`, msg: `null`, summary: "Invalid value for variable", detail: "does not meet the variable's validation rule"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := "variable \"v\" {\n  type = string\n  default = \"x\"\n  validation {\n    condition     = " + tt.cond + "\n    error_message = " + tt.msg + "\n  }\n}\n"
			writeFile(t, dir, "main.hcl", src)
			m := mustLoad(t, dir).Root
			_, diags := lang.BindInputs(m, lang.NewInputSet(), false)
			if tt.summary == "" {
				if diags.HasErrors() {
					t.Fatalf("unexpected errors:\n%s", diagText(diags))
				}
				return
			}
			d := findDiag(t, diags, tt.summary)
			if !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("detail %q does not hold %q", d.Detail, tt.detail)
			}
		})
	}
}

func TestFinishVariable(t *testing.T) {
	v := &lang.Variable{Name: "s", Type: cty.String, Sensitive: true}
	got := lang.FinishVariable(v, cty.StringVal("x"))
	if !got.HasMark(marks.Sensitive) {
		t.Errorf("FinishVariable of a sensitive variable = %#v, want it marked", got)
	}
	v.Sensitive = false
	if got := lang.FinishVariable(v, cty.StringVal("x")); got.IsMarked() {
		t.Errorf("FinishVariable of a plain variable = %#v, want it unmarked", got)
	}
}
