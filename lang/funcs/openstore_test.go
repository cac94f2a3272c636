package funcs

import (
	"errors"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/internal/openstore"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// testMark stands in for the caller's sensitive mark.
type testMark string

const sensitive testMark = "sensitive"

func str(s string) cty.Value { return cty.StringVal(s) }

// callCase is one call of a function: its arguments and either the wanted
// result or a substring of the wanted error.
type callCase struct {
	name  string
	args  []cty.Value
	want  cty.Value
	error string
	arg   int // index of the argument the error must be about
}

func runCalls(t *testing.T, f function.Function, tests []callCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.Call(tt.args)
			if tt.error != "" {
				if err == nil {
					t.Fatalf("got %#v, want error containing %q", got, tt.error)
				}
				if !strings.Contains(err.Error(), tt.error) {
					t.Fatalf("error = %q, want it to contain %q", err, tt.error)
				}
				ae, ok := err.(function.ArgError)
				if !ok || ae.Index != tt.arg {
					t.Fatalf("error %#v is not an ArgError for argument %d", err, tt.arg)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !got.RawEquals(tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func endpointObj(role string, explicit bool, scheme, host string, port int64, url string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"role":          str(role),
		"role_explicit": cty.BoolVal(explicit),
		"scheme":        str(scheme),
		"host":          str(host),
		"port":          cty.NumberIntVal(port),
		"url":           str(url),
		"legacy":        cty.BoolVal(scheme == "tcp"),
	})
}

func TestOpenstoreEndpoint(t *testing.T) {
	runCalls(t, OpenstoreEndpointFunc, []callCase{
		{name: "master connect", args: []cty.Value{str("role=master,http://1.2.3.4:8080")},
			want: endpointObj("master", true, "http", "1.2.3.4", 8080, "http://1.2.3.4:8080")},
		{name: "slave explicit", args: []cty.Value{str("role=slave,http://1.2.3.4:9090")},
			want: endpointObj("slave", true, "http", "1.2.3.4", 9090, "http://1.2.3.4:9090")},
		{name: "default role", args: []cty.Value{str("http://1.2.3.4:9090")},
			want: endpointObj("", false, "http", "1.2.3.4", 9090, "http://1.2.3.4:9090")},
		{name: "legacy", args: []cty.Value{str("tcp://10.0.0.11:8080")},
			want: endpointObj("", false, "tcp", "10.0.0.11", 8080, "tcp://10.0.0.11:8080")},
		{name: "ipv6", args: []cty.Value{str("role=slave,http://[::1]:8080")},
			want: endpointObj("slave", true, "http", "::1", 8080, "http://[::1]:8080")},
		{name: "garbage", args: []cty.Value{str("nonsense")}, error: `invalid OpenStore endpoint "nonsense": missing scheme`},
		{name: "tcp with role", args: []cty.Value{str("role=slave,tcp://h:1")}, error: "legacy tcp:// endpoints cannot carry a role"},
		{name: "bad role", args: []cty.Value{str("role=boss,http://h:1")}, error: `unknown OpenStore role "boss"`},
		{name: "null", args: []cty.Value{cty.NullVal(cty.String)}, error: "must not be null"},
	})
}

func TestOpenstoreFormat(t *testing.T) {
	runCalls(t, OpenstoreFormatFunc, []callCase{
		{name: "master", args: []cty.Value{str("master"), str("http://1.2.3.4:8080")}, want: str("role=master,http://1.2.3.4:8080")},
		{name: "slave", args: []cty.Value{str("slave"), str("http://[::1]:9090")}, want: str("role=slave,http://[::1]:9090")},
		{name: "no role", args: []cty.Value{str(""), str("http://h:1")}, want: str("http://h:1")},
		{name: "legacy without role", args: []cty.Value{str(""), str("tcp://h:1")}, want: str("tcp://h:1")},
		{name: "bad role", args: []cty.Value{str("primary"), str("http://h:1")}, error: `unknown OpenStore role "primary" (want "master", "slave", or "" for none)`, arg: 0},
		{name: "url with role", args: []cty.Value{str("master"), str("role=slave,http://h:1")}, error: `already carries a role; pass the role as the first argument and the URL without it (e.g. "http://h:1")`, arg: 1},
		{name: "legacy with role", args: []cty.Value{str("slave"), str("tcp://h:1")}, error: "convert it with openstore_migrate first", arg: 1},
		{name: "bad url", args: []cty.Value{str("slave"), str("http://h")}, error: "missing port", arg: 1},
	})
}

func TestOpenstoreFormatRoundTrip(t *testing.T) {
	for _, text := range []string{"role=master,http://1.2.3.4:8080", "http://h:1", "role=slave,http://[::1]:2", "tcp://h:3"} {
		t.Run(text, func(t *testing.T) {
			obj, err := OpenstoreEndpointFunc.Call([]cty.Value{str(text)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := OpenstoreFormatFunc.Call([]cty.Value{obj.GetAttr("role"), obj.GetAttr("url")})
			if err != nil {
				t.Fatal(err)
			}
			if got.AsString() != text {
				t.Fatalf("openstore_format(e.role, e.url) = %q, want %q", got.AsString(), text)
			}
		})
	}
}

func TestOpenstoreMigrate(t *testing.T) {
	runCalls(t, OpenstoreMigrateFunc, []callCase{
		{name: "legacy", args: []cty.Value{str("tcp://10.0.0.11:8080")}, want: str("http://10.0.0.11:8080")},
		{name: "legacy ipv6", args: []cty.Value{str("tcp://[::1]:8080")}, want: str("http://[::1]:8080")},
		{name: "already v0.11", args: []cty.Value{str("http://h:1")}, want: str("http://h:1")},
		{name: "already v0.11 with role", args: []cty.Value{str("role=master,http://h:1")}, want: str("role=master,http://h:1")},
		{name: "invalid", args: []cty.Value{str("tcp://h")}, error: "missing port"},
	})
}

func TestOpenstoreRewrite(t *testing.T) {
	t.Run("config", func(t *testing.T) {
		runCalls(t, OpenstoreRewriteConfigFunc, []callCase{
			{name: "migrates", args: []cty.Value{str("[ec.0]\nbind-http = tcp://h:1\n")}, want: str("[ec.0]\ncontroller-listen = role=slave,http://h:1\n")},
			{name: "idempotent", args: []cty.Value{str("[ec.0]\ncontroller-listen = role=slave,http://h:1\n")}, want: str("[ec.0]\ncontroller-listen = role=slave,http://h:1\n")},
			{name: "refuses", args: []cty.Value{str("[ec.0]\nbind-http = tcp://h:1\ncontroller-listen = http://h:2\n")}, error: "line 3: [ec.0] controller-listen conflicts with bind-http"},
		})
	})
	t.Run("env", func(t *testing.T) {
		runCalls(t, OpenstoreRewriteEnvFunc, []callCase{
			{name: "migrates", args: []cty.Value{str("export OPENSTORE_CONTROLLER=\"tcp://h:1\"\n")}, want: str("export OPENSTORE_CONTROLLER=\"http://h:1\"\n")},
			{name: "refuses", args: []cty.Value{str("A=1\nB=role=slave,tcp://h:1\n")}, error: "line 2: B: invalid OpenStore endpoint"},
		})
	})
}

func TestLineList(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"one", "[a]\nx = tcp://h:1\n", "line 2"},
		{"several", "x = tcp://h:1\ny=1\nz = tcp://h:1\n", "lines 1, 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := openstore.RewriteConfig(tt.text)
			if err == nil {
				t.Fatal("no error")
			}
			if got := lineList(err); got != tt.want {
				t.Fatalf("lineList = %q, want %q", got, tt.want)
			}
		})
	}
	if got := lineList(errors.New("x")); got != "the text" {
		t.Fatalf("lineList without line errors = %q", got)
	}
}
