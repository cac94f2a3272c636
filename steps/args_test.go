package steps

import (
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
)

func secret(s string) cty.Value { return cty.StringVal(s).Mark(marks.Sensitive) }

func later(ty cty.Type, addr string) cty.Value {
	return cty.UnknownVal(ty).Mark(marks.KnownAfter{Addr: addr})
}

func TestAttr(t *testing.T) {
	obj := cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x")})
	tests := map[string]struct {
		obj  cty.Value
		name string
		want cty.Value
	}{
		"present":       {obj, "a", cty.StringVal("x")},
		"absent":        {obj, "b", cty.NullVal(cty.DynamicPseudoType)},
		"nil object":    {cty.NilVal, "a", cty.NullVal(cty.DynamicPseudoType)},
		"null object":   {cty.NullVal(obj.Type()), "a", cty.NullVal(cty.DynamicPseudoType)},
		"not an object": {cty.StringVal("s"), "a", cty.NullVal(cty.DynamicPseudoType)},
		"dynamic":       {cty.DynamicVal, "a", cty.DynamicVal},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Attr(tt.obj, tt.name); !got.RawEquals(tt.want) {
				t.Errorf("Attr = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestKnownAndKnownValue(t *testing.T) {
	partly := cty.ListVal([]cty.Value{cty.StringVal("a"), cty.UnknownVal(cty.String)})
	tests := map[string]struct {
		v                 cty.Value
		known, knownValue bool
	}{
		"string":          {cty.StringVal("a"), true, true},
		"null":            {cty.NullVal(cty.String), false, false},
		"unknown":         {cty.UnknownVal(cty.String), false, false},
		"partly unknown":  {partly, false, true},
		"sensitive":       {secret("pw"), true, true},
		"empty string":    {cty.StringVal(""), true, true},
		"unknown, marked": {later(cty.String, "step.a"), false, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Known(tt.v); got != tt.known {
				t.Errorf("Known = %t, want %t", got, tt.known)
			}
			v, ok := KnownValue(tt.v)
			if ok != tt.knownValue {
				t.Fatalf("KnownValue ok = %t, want %t", ok, tt.knownValue)
			}
			if ok && v.IsMarked() {
				t.Errorf("KnownValue kept the marks of %#v", tt.v)
			}
			if !ok && v != cty.NilVal {
				t.Errorf("KnownValue = %#v with ok false, want cty.NilVal", v)
			}
		})
	}
}

func TestStrBoolStrList(t *testing.T) {
	if s, ok := Str(secret("pw")); !ok || s != "pw" {
		t.Errorf("Str(secret) = %q, %t; want the plain string", s, ok)
	}
	for _, v := range []cty.Value{cty.NullVal(cty.String), cty.UnknownVal(cty.String), cty.NumberIntVal(1)} {
		if s, ok := Str(v); ok || s != "" {
			t.Errorf("Str(%#v) = %q, %t; want not ok", v, s, ok)
		}
	}

	boolTests := map[string]struct {
		v        cty.Value
		want, ok bool
	}{
		"true":      {cty.True, true, true},
		"false":     {cty.False, false, true},
		"null":      {cty.NullVal(cty.Bool), true, true}, // the default
		"unknown":   {cty.UnknownVal(cty.Bool), true, false},
		"not bool":  {cty.StringVal("yes"), true, false},
		"sensitive": {cty.False.Mark(marks.Sensitive), false, true},
	}
	for name, tt := range boolTests {
		if got, ok := Bool(tt.v, true); got != tt.want || ok != tt.ok {
			t.Errorf("Bool(%s, true) = %t, %t; want %t, %t", name, got, ok, tt.want, tt.ok)
		}
	}

	list := cty.ListVal([]cty.Value{cty.StringVal("a"), secret("b")})
	if got, ok := StrList(list); !ok || !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("StrList = %q, %t", got, ok)
	}
	withNull := cty.ListVal([]cty.Value{cty.StringVal("a"), cty.NullVal(cty.String)})
	for name, v := range map[string]cty.Value{
		"null element": withNull,
		"unknown":      cty.UnknownVal(cty.List(cty.String)),
		"not a list":   cty.StringVal("a"),
		"numbers":      cty.ListVal([]cty.Value{cty.NumberIntVal(1)}),
	} {
		if got, ok := StrList(v); ok {
			t.Errorf("StrList(%s) = %q, ok; want not ok", name, got)
		}
	}
}

func TestQuotedAndSensitive(t *testing.T) {
	tests := map[string]struct {
		v         cty.Value
		quoted    string
		sensitive bool
	}{
		"plain":       {cty.StringVal(`say "hi"`), `"say \"hi\""`, false},
		"sensitive":   {secret("pw"), "(sensitive)", true},
		"known after": {later(cty.String, "step.a"), "(known after step.a)", false},
		"null":        {cty.NullVal(cty.String), "null", false},
		"deep secret": {cty.ListVal([]cty.Value{secret("pw")}), "[(sensitive)]", true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if name != "deep secret" {
				if got := Quoted(tt.v); got != tt.quoted {
					t.Errorf("Quoted = %s, want %s", got, tt.quoted)
				}
			} else if got := Display(tt.v); got != tt.quoted {
				t.Errorf("Display = %s, want %s", got, tt.quoted)
			}
			if got := Sensitive(tt.v); got != tt.sensitive {
				t.Errorf("Sensitive = %t, want %t", got, tt.sensitive)
			}
		})
	}
	if Sensitive(cty.NilVal) {
		t.Error("Sensitive(cty.NilVal) is true")
	}
}

func TestDiagnostics(t *testing.T) {
	tests := map[string]struct {
		d        *hcl.Diagnostic
		severity hcl.DiagnosticSeverity
		detail   string
	}{
		"Error":                            {Error("Bad", "Fix it."), hcl.DiagError, "Fix it."},
		"Warning":                          {Warning("Odd", "Look."), hcl.DiagWarning, "Look."},
		"Errorf":                           {Errorf("Bad", "%d of %s", 2, "x"), hcl.DiagError, "2 of x"},
		"Warnf":                            {Warnf("Odd", "%q", "y"), hcl.DiagWarning, `"y"`},
		"Errorf, a percent in an argument": {Errorf("Bad", "%s", "100%"), hcl.DiagError, "100%"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if tt.d.Severity != tt.severity || tt.d.Detail != tt.detail || tt.d.Summary == "" {
				t.Errorf("got %v %q %q, want %v and %q", tt.d.Severity, tt.d.Summary, tt.d.Detail, tt.severity, tt.detail)
			}
		})
	}
}

func TestSensitiveStringsAndRedact(t *testing.T) {
	args := cty.ObjectVal(map[string]cty.Value{
		"user":  cty.StringVal("admin"),
		"pw":    secret("hunter2"),
		"short": secret("x9"),
		"empty": secret(""),
		"list":  cty.ListVal([]cty.Value{secret("token-abc"), cty.StringVal("public")}),
	})
	got := SensitiveStrings(args)
	if want := []string{"token-abc", "hunter2", "x9"}; !slices.Equal(got, want) {
		t.Fatalf("SensitiveStrings = %q, want %q (longest first, no empty string)", got, want)
	}
	if s := SensitiveStrings(cty.StringVal("plain")); s != nil {
		t.Errorf("SensitiveStrings(plain) = %q", s)
	}
	if s := SensitiveStrings(cty.NilVal); s != nil {
		t.Errorf("SensitiveStrings(NilVal) = %q", s)
	}
	// Every secret is replaced, whole.
	if got := Redact("login admin:hunter2 with token-abc", got); got != "login admin:(sensitive) with (sensitive)" {
		t.Errorf("Redact = %q", got)
	}
	if got := Redact("nothing", []string{""}); got != "nothing" {
		t.Errorf("Redact with an empty secret = %q", got)
	}
}
