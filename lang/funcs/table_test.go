package funcs

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// TestTableExpressions evaluates one HCL expression per function in Table,
// as a playbook would, and checks that every function in Table is covered.
func TestTableExpressions(t *testing.T) {
	base := t.TempDir()
	if err := os.WriteFile(filepath.Join(base, "daemons.conf"), []byte("[ec.0]\nbind-http = tcp://10.0.0.12:9090\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OPENSTORE_CONTROLLER", "tcp://10.0.0.11:8080")
	table := Table(base, false)
	strs := func(ss ...string) cty.Value {
		vals := make([]cty.Value, len(ss))
		for i, s := range ss {
			vals[i] = str(s)
		}
		return cty.ListVal(vals)
	}
	n := cty.NumberIntVal

	tests := []struct {
		expr string
		want cty.Value
	}{
		// rokflow
		{`openstore_endpoint("role=master,http://1.2.3.4:8080").role`, str("master")},
		{`openstore_endpoint("tcp://[::1]:8080").port`, n(8080)},
		{`openstore_format("slave", openstore_migrate(env("OPENSTORE_CONTROLLER")))`, str("role=slave,http://10.0.0.11:8080")},
		{`openstore_rewrite_config(file("daemons.conf"))`, str("[ec.0]\ncontroller-listen = role=slave,http://10.0.0.12:9090\n")},
		{`openstore_rewrite_env("OPENSTORE_CONTROLLER=${env("OPENSTORE_CONTROLLER")}")`, str("OPENSTORE_CONTROLLER=http://10.0.0.11:8080")},
		{`release("0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b")`, str("0.11")},
		{`release_compare("1:0.1", "2.0")`, n(1)},
		{`release_at_least("v0.11.0", "0.10.2")`, cty.True},
		{`length(timestamp()) > 0`, cty.True},
		// numeric
		{`abs(-3)`, n(3)},
		{`ceil(1.2)`, n(2)},
		{`floor(1.8)`, n(1)},
		{`log(8, 2)`, n(3)},
		{`max(1, 5, 3)`, n(5)},
		{`min(4, 2)`, n(2)},
		{`parseint("ff", 16)`, n(255)},
		{`pow(2, 10)`, n(1024)},
		{`signum(-7)`, n(-1)},
		// string
		{`chomp("x\n")`, str("x")},
		{`endswith("daemons.conf", ".conf")`, cty.True},
		{`format("%s:%d", "h", 80)`, str("h:80")},
		{`formatlist("%s!", ["a", "b"])`, strs("a!", "b!")},
		{`indent(2, "a\nb")`, str("a\n  b")},
		{`join(",", ["a", "b"])`, str("a,b")},
		{`lower("ROK")`, str("rok")},
		{`regex("^([a-z]+)://", "tcp://h:1")`, cty.TupleVal([]cty.Value{str("tcp")})},
		{`regexall("[0-9]+", "10.0.0.11")`, cty.ListVal([]cty.Value{str("10"), str("0"), str("0"), str("11")})},
		{`replace("tcp://h:1", "tcp:", "http:")`, str("http://h:1")},
		{`replace("a1b22", "/[0-9]+/", "#")`, str("a#b#")},
		{`replace("rok-1.example", "/^([a-z]+)-([0-9])/", "$2-$1")`, str("1-rok.example")},
		{`split(",", "a,b")`, strs("a", "b")},
		{`startswith("tcp://h:1", "tcp://")`, cty.True},
		{`strcontains("daemons.conf", "mon")`, cty.True},
		{`strrev("kor")`, str("rok")},
		{`substr("openstore", 0, 4)`, str("open")},
		{`title("rok cluster")`, str("Rok Cluster")},
		{`trim("--x--", "-")`, str("x")},
		{`trimprefix("v0.11", "v")`, str("0.11")},
		{`trimspace("  x ")`, str("x")},
		{`trimsuffix("a.conf", ".conf")`, str("a")},
		{`upper("rok")`, str("ROK")},
		// collection
		{`chunklist(["a", "b", "c"], 2)`, cty.ListVal([]cty.Value{strs("a", "b"), strs("c")})},
		{`coalesce(null, "x")`, str("x")},
		{`coalescelist([], ["a"])`, cty.TupleVal([]cty.Value{str("a")})},
		{`compact(["a", "", "b"])`, strs("a", "b")},
		{`concat(["a"], ["b"])`, cty.TupleVal([]cty.Value{str("a"), str("b")})},
		{`contains(["a", "b"], "b")`, cty.True},
		{`distinct(["a", "a", "b"])`, strs("a", "b")},
		{`element(["a", "b"], 3)`, str("b")},
		{`flatten([["a"], ["b", "c"]])`, cty.TupleVal([]cty.Value{str("a"), str("b"), str("c")})},
		{`keys({b = 1, a = 2})`, cty.TupleVal([]cty.Value{str("a"), str("b")})},
		{`length(["a", "b"])`, n(2)},
		{`length("rök")`, n(3)},
		{`length({a = 1, b = "x"})`, n(2)},
		{`lookup({a = "x"}, "b", "d")`, str("d")},
		{`merge({a = 1}, {b = 2}).b`, n(2)},
		{`range(3)`, cty.ListVal([]cty.Value{n(0), n(1), n(2)})},
		{`reverse(["a", "b"])`, cty.TupleVal([]cty.Value{str("b"), str("a")})},
		{`setintersection(["a", "b"], ["b"])`, cty.SetVal([]cty.Value{str("b")})},
		{`length(setproduct(["a", "b"], ["c"]))`, n(2)},
		{`setsubtract(["a", "b"], ["b"])`, cty.SetVal([]cty.Value{str("a")})},
		{`setsymmetricdifference(["a", "b"], ["b", "c"])`, cty.SetVal([]cty.Value{str("a"), str("c")})},
		{`setunion(["a"], ["b"])`, cty.SetVal([]cty.Value{str("a"), str("b")})},
		{`slice(["a", "b", "c"], 1, 2)`, cty.TupleVal([]cty.Value{str("b")})},
		{`sort(["b", "a"])`, strs("a", "b")},
		{`values({a = "x", b = "y"})`, cty.TupleVal([]cty.Value{str("x"), str("y")})},
		{`zipmap(["a"], ["x"]).a`, str("x")},
		// encoding
		{`csvdecode("a,b\n1,2")[0].b`, str("2")},
		{`jsondecode("{\"a\": 1}").a`, n(1)},
		{`jsonencode({a = "x"})`, str(`{"a":"x"}`)},
		// time
		{`formatdate("YYYY-MM-DD", "2026-05-01T10:00:00Z")`, str("2026-05-01")},
		{`timeadd("2026-05-01T10:00:00Z", "1h")`, str("2026-05-01T11:00:00Z")},
		// conversion
		{`tobool("true")`, cty.True},
		{`tolist(["a"])`, strs("a")},
		{`tomap({a = "x"})`, cty.MapVal(map[string]cty.Value{"a": str("x")})},
		{`tonumber("42")`, n(42)},
		{`toset(["a", "a"])`, cty.SetVal([]cty.Value{str("a")})},
		{`tostring(42)`, str("42")},
		// errors
		{`can(openstore_endpoint("nonsense"))`, cty.False},
		{`try(release("latest"), "unknown")`, str("unknown")},
	}

	callRE := regexp.MustCompile(`([a-z_]+)\(`)
	covered := map[string]bool{}
	ctx := &hcl.EvalContext{Functions: table}
	for _, tt := range tests {
		for _, m := range callRE.FindAllStringSubmatch(tt.expr, -1) {
			covered[m[1]] = true
		}
		t.Run(tt.expr, func(t *testing.T) {
			expr, diags := hclsyntax.ParseExpression([]byte(tt.expr), "test.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatalf("parse: %s", diags.Error())
			}
			got, diags := expr.Value(ctx)
			if diags.HasErrors() {
				t.Fatalf("eval: %s", diags.Error())
			}
			if !got.RawEquals(tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}

	var missing []string
	for name := range table {
		if !covered[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("functions in Table without an expression test: %s", strings.Join(missing, ", "))
	}
}

// TestTableErrors checks that argument errors reach HCL diagnostics with
// the parameter's name.
func TestTableErrors(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{`openstore_endpoint("http://h")`, `Invalid value for "text" parameter: invalid OpenStore endpoint "http://h": missing port (want HOST:PORT).`},
		{`openstore_format("boss", "http://h:1")`, `Invalid value for "role" parameter: unknown OpenStore role "boss"`},
		{`release_compare("1.0", "one")`, `Invalid value for "b" parameter: invalid version "one": version number does not start with digit.`},
		{`file("nope")`, `Invalid value for "path" parameter: no file exists at`},
		{`openstore_endpoint()`, `Function "openstore_endpoint" expects 1 argument(s)`},
	}
	ctx := &hcl.EvalContext{Functions: Table(t.TempDir(), false)}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			expr, diags := hclsyntax.ParseExpression([]byte(tt.expr), "test.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatalf("parse: %s", diags.Error())
			}
			_, diags = expr.Value(ctx)
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			if msg := diags.Error(); !strings.Contains(msg, tt.want) {
				t.Fatalf("diagnostics = %q, want them to contain %q", msg, tt.want)
			}
		})
	}
}

func TestTableIsFresh(t *testing.T) {
	a := Table("", false)
	delete(a, "upper")
	if _, ok := Table("", false)["upper"]; !ok {
		t.Fatal("Table returned a shared map")
	}
}

func TestDescriptions(t *testing.T) {
	for name, f := range Table("", false) {
		if name == "can" || name == "try" {
			continue // hcl's tryfunc has no descriptions
		}
		t.Run(name, func(t *testing.T) {
			if f.Description() == "" {
				t.Errorf("%s has no description", name)
			}
			for _, p := range f.Params() {
				if p.Name == "" {
					t.Errorf("%s has an unnamed parameter", name)
				}
			}
		})
	}
}
