package steps

import (
	"slices"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
)

func TestDisplay(t *testing.T) {
	tests := map[string]struct {
		v    cty.Value
		want string
	}{
		"string unquoted":    {cty.StringVal("a b"), "a b"},
		"integer":            {cty.NumberIntVal(42), "42"},
		"fraction":           {cty.NumberFloatVal(1.5), "1.5"},
		"bool":               {cty.False, "false"},
		"null":               {cty.NullVal(cty.String), "null"},
		"sensitive":          {secret("pw"), "(sensitive)"},
		"unknown":            {cty.UnknownVal(cty.String), "(known after apply)"},
		"known after a step": {later(cty.String, "step.a"), "(known after step.a)"},
		"list quotes strings": {cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal(`"b"`)}),
			`["a", "\"b\""]`},
		"secret in a list": {cty.ListVal([]cty.Value{cty.StringVal("a"), secret("pw")}), `["a", (sensitive)]`},
		"object sorted": {cty.ObjectVal(map[string]cty.Value{"b": cty.NumberIntVal(2), "a": cty.StringVal("x")}),
			`{a = "x", b = 2}`},
		"map":         {cty.MapVal(map[string]cty.Value{"k": cty.True}), "{k = true}"},
		"empty tuple": {cty.EmptyTupleVal, "[]"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Display(tt.v); got != tt.want {
				t.Errorf("Display = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDisplayArgv(t *testing.T) {
	strs := func(ss ...string) cty.Value {
		vs := make([]cty.Value, len(ss))
		for i, s := range ss {
			vs[i] = cty.StringVal(s)
		}
		return cty.ListVal(vs)
	}
	tests := map[string]struct {
		v    cty.Value
		want []string
	}{
		"plain":           {strs("ls", "-l"), []string{"ls", "-l"}},
		"secret element":  {cty.ListVal([]cty.Value{cty.StringVal("login"), secret("pw")}), []string{"login", "(sensitive)"}},
		"secret list":     {strs("a", "b").Mark(marks.Sensitive), []string{"(sensitive)"}},
		"unknown list":    {later(cty.List(cty.String), "step.x"), []string{"(known after step.x)"}},
		"unknown element": {cty.ListVal([]cty.Value{cty.StringVal("a"), cty.UnknownVal(cty.String)}), []string{"a", "(known after apply)"}},
		"null list":       {cty.NullVal(cty.List(cty.String)), []string{"null"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := DisplayArgv(tt.v); !slices.Equal(got, tt.want) {
				t.Errorf("DisplayArgv = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestListElems(t *testing.T) {
	// Longer than the keys made once, and a set, go the other way.
	long := make([]cty.Value, 70)
	for i := range long {
		long[i] = cty.NumberIntVal(int64(i))
	}
	for name, v := range map[string]cty.Value{
		"short list": cty.ListVal(long[:3]),
		"long list":  cty.ListVal(long),
		"set":        cty.SetVal(long[:3]),
		"tuple":      cty.TupleVal(long[:3]),
	} {
		got := ListElems(v)
		if len(got) != v.LengthInt() {
			t.Fatalf("%s: %d elements, want %d", name, len(got), v.LengthInt())
		}
		for i, ev := range got {
			if !ev.RawEquals(long[i]) {
				t.Errorf("%s: element %d = %#v", name, i, ev)
			}
		}
	}
	l := cty.ListVal(long)
	for _, i := range []int{0, 63, 64, 69} {
		if got := ListElem(l, i); !got.RawEquals(long[i]) {
			t.Errorf("ListElem(%d) = %#v", i, got)
		}
	}
}

func TestQuoteArgv(t *testing.T) {
	tests := map[string]struct {
		argv []string
		want string
	}{
		"plain words":           {[]string{"systemctl", "restart", "rok-gw.service"}, "systemctl restart rok-gw.service"},
		"space":                 {[]string{"echo", "a b"}, "echo 'a b'"},
		"single quote":          {[]string{"echo", "it's"}, `echo 'it'\''s'`},
		"empty word":            {[]string{"test", "-n", ""}, "test -n ''"},
		"non-ASCII":             {[]string{"echo", "grüße"}, "echo 'grüße'"},
		"newline stays on line": {[]string{"printf", "a\nb"}, `printf "a\nb"`},
		"placeholders bare": {[]string{"login", marks.Masked, "(known after step.a)"},
			"login (sensitive) (known after step.a)"},
		"nothing": {nil, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := QuoteArgv(tt.argv); got != tt.want {
				t.Errorf("QuoteArgv = %s, want %s", got, tt.want)
			}
		})
	}
}
