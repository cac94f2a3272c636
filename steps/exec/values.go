package exec

import (
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/steps"
)

// envName is what a POSIX shell accepts as a variable name; anything else
// could not be read back by the command and may be mangled by env(1).
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkArgv reports a command that cannot be run: empty, with a null
// element, or with an empty program name. Unknown parts are not checked.
func checkArgv(name string, v cty.Value) hcl.Diagnostics {
	_, diags := planArgv(name, v)
	return diags
}

// planArgv checks a command as checkArgv does and renders it for display
// as steps.DisplayArgv does, going over the list once.
func planArgv(name string, v cty.Value) ([]string, hcl.Diagnostics) {
	l, ok := steps.KnownValue(v)
	if !ok {
		return steps.DisplayArgv(v), nil
	}
	n := l.LengthInt()
	if n == 0 {
		return []string{}, hcl.Diagnostics{steps.Error(fmt.Sprintf("Empty %s", name),
			fmt.Sprintf("The %s argument must hold at least the program to run, for example [\"systemctl\", \"status\"].", name))}
	}
	sensitive := v.HasMark(marks.Sensitive)
	var argv []string
	if !sensitive {
		argv = make([]string, n)
	}
	var diags hcl.Diagnostics
	for i := range n {
		ev := steps.ListElem(l, i)
		if !sensitive {
			argv[i] = steps.DisplayElem(ev)
		}
		if ev.IsKnown() && ev.IsNull() {
			diags = append(diags, steps.Error(fmt.Sprintf("Null element in %s", name),
				fmt.Sprintf("Element %d of %s is null; every element must be a string.", i, name)))
			continue
		}
		if i == 0 {
			if s, ok := steps.KnownValue(ev); ok && s.AsString() == "" {
				diags = append(diags, steps.Error(fmt.Sprintf("Empty program name in %s", name),
					fmt.Sprintf("The first element of %s names the program to run and must not be empty.", name)))
			}
		}
	}
	if sensitive {
		return []string{marks.Masked}, diags
	}
	return argv, diags
}

// checkEnv reports environment names a command could not read and null values.
func checkEnv(v cty.Value) hcl.Diagnostics {
	m, ok := steps.KnownValue(v)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	for it := m.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		name := k.AsString()
		if !envName.MatchString(name) {
			diags = append(diags, steps.Error("Invalid environment variable name",
				fmt.Sprintf("The env key %q is not a valid variable name: use letters, digits and underscores, not starting with a digit.", name)))
		}
		if ev.IsKnown() && ev.IsNull() {
			diags = append(diags, steps.Error("Null environment value",
				fmt.Sprintf("The env value for %s is null; give a string, or leave the key out.", name)))
		}
	}
	return diags
}

// exitStatuses returns the accepted exit statuses, reporting values that
// are not whole numbers from 0 to 255.
func exitStatuses(v cty.Value) ([]int, hcl.Diagnostics) {
	l, ok := steps.KnownValue(v)
	if !ok {
		return nil, nil
	}
	var out []int
	var diags hcl.Diagnostics
	for it := l.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		n, ok := steps.KnownValue(ev)
		if !ok {
			continue
		}
		bf := n.AsBigFloat()
		i, acc := bf.Int64()
		if acc != big.Exact || i < 0 || i > 255 {
			diags = append(diags, steps.Error("Invalid exit status in expect_exit",
				fmt.Sprintf("%s is not an exit status; use whole numbers from 0 to 255.", bf.Text('g', -1))))
			continue
		}
		out = append(out, int(i))
	}
	return out, diags
}

// displayEnv renders env for a summary: NAME=value pairs, sorted, sensitive
// values masked.
func displayEnv(v cty.Value) string {
	if !v.IsKnown() || v.HasMark(marks.Sensitive) {
		return steps.Display(v)
	}
	m, _ := v.Unmark()
	if m.IsNull() {
		return ""
	}
	var parts []string
	for it := m.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		parts = append(parts, k.AsString()+"="+steps.Display(ev))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// rawValue returns v without any marks, however deep.
func rawValue(v cty.Value) cty.Value {
	raw, _ := v.UnmarkDeep()
	return raw
}
