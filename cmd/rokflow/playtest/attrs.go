package playtest

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyfunc "github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/gocty"
)

type function = ctyfunc.Function

// attrs decodes typed attributes of a block, each with diagnostics on its
// own expression. An attribute that is absent leaves its target alone.
type attrs struct {
	m   hcl.Attributes
	ctx *hcl.EvalContext
}

// value evaluates name and converts it to ty; ok is false when the
// attribute is absent, null or wrong (and then diagnosed).
func (a attrs) value(name string, ty cty.Type, what string) (cty.Value, bool, hcl.Diagnostics) {
	at := a.m[name]
	if at == nil {
		return cty.NilVal, false, nil
	}
	v, diags := at.Expr.Value(a.ctx)
	if diags.HasErrors() || v.IsNull() {
		return cty.NilVal, false, diags
	}
	if !v.IsWhollyKnown() {
		return cty.NilVal, false, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Unknown value",
			Detail: fmt.Sprintf("The value of %s must be known when the test file is read.", name), Subject: at.Expr.Range().Ptr(),
		})
	}
	c, err := convert.Convert(v, ty)
	if err != nil {
		return cty.NilVal, false, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Incorrect value type",
			Detail: fmt.Sprintf("%s must be %s: %s.", name, what, err), Subject: at.Expr.Range().Ptr(),
		})
	}
	return c, true, diags
}

func (a attrs) decode(name string, ty cty.Type, what string, into any) hcl.Diagnostics {
	v, ok, diags := a.value(name, ty, what)
	if ok {
		if err := gocty.FromCtyValue(v, into); err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Incorrect value", Detail: fmt.Sprintf("%s: %s.", name, err),
				Subject: a.m[name].Expr.Range().Ptr(),
			})
		}
	}
	return diags
}

func (a attrs) str(name string, into *string) hcl.Diagnostics {
	return a.decode(name, cty.String, "a string", into)
}

func (a attrs) strs(name string, into *[]string) hcl.Diagnostics {
	return a.decode(name, cty.List(cty.String), "a list of strings", into)
}

func (a attrs) strMap(name string, into *map[string]string) hcl.Diagnostics {
	return a.decode(name, cty.Map(cty.String), "a map of strings", into)
}

func (a attrs) integer(name string, into *int) hcl.Diagnostics {
	return a.decode(name, cty.Number, "a whole number", into)
}

func (a attrs) boolean(name string, into *bool) hcl.Diagnostics {
	return a.decode(name, cty.Bool, "true or false", into)
}

// duration decodes a Go duration written as a string ("1.5s", "5m").
func (a attrs) duration(name string, into *time.Duration) hcl.Diagnostics {
	var s string
	diags := a.str(name, &s)
	if s == "" {
		return diags
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Invalid duration",
			Detail:  fmt.Sprintf("%s is a duration such as \"500ms\", \"2s\" or \"5m\", not %q.", name, s),
			Subject: a.m[name].Expr.Range().Ptr(),
		})
	}
	*into = d
	return diags
}
