package openstore

import (
	"errors"
	"fmt"
	"strings"
)

// shortFlags maps the v0.11 short options to their long names.
var shortFlags = map[string]string{"-C": "connect", "-L": "listen"}

// RewriteArgs migrates a daemon's command line, given as an argv slice
// (already split by the shell; the program name may be included), following
// ConfigRules:
//
//	--bind-http tcp://H:P             ->  --controller-listen role=slave,http://H:P
//	--openstore-controller=tcp://H:P  ->  --connect=role=slave,http://H:P
//	--openstore-master-connect tcp://H:P  ->  --connect role=master,http://H:P
//	-C tcp://H:P    (or -Ctcp://H:P)  ->  -C role=slave,http://H:P
//	-L tcp://H:P                      ->  -L role=master,http://H:P
//
// Long options may take their value as the next argument or after '='; the
// form is kept. -C and -L keep their short spelling. Options are matched
// exactly (case-sensitive). v0.11 values are left alone, so the result is
// idempotent. The input slice is not modified.
//
// RewriteArgs refuses (returns nil, nil and the errors joined, each an
// *ArgError naming a 1-based argument position) when an endpoint option has
// no value or a value it cannot migrate, and when any other argument
// mentions tcp:// (e.g. "-drive file=rok:tcp://…"). Change.Arg holds the
// position of the option's argument.
func RewriteArgs(args []string) ([]string, []Change, error) {
	out, changes, _, err := rewriteArgs(args)
	return out, changes, err
}

// wordEdit replaces the bytes from..to of argument word's text with s.
type wordEdit struct {
	word int // 0-based argument position
	textEdit
}

// rewriteArgs is RewriteArgs, also saying which part of which argument
// changed: the option's name and its value separately, so that a caller
// that reads the arguments from text (RewriteUnit, RewriteEnv) can change
// just those bytes and keep the quoting around them.
func rewriteArgs(args []string) ([]string, []Change, []wordEdit, error) {
	out := make([]string, len(args))
	copy(out, args)
	var (
		changes []Change
		edits   []wordEdit
		errs    []error
	)
	refuse := func(i int, err error) { errs = append(errs, &ArgError{Arg: i + 1, Err: err}) }
	options := true
	for i := 0; i < len(out); i++ {
		a := out[i]
		if !options || a == "--" || !strings.HasPrefix(a, "-") {
			if a == "--" {
				options = false
			}
			if hasLegacyScheme(a) {
				refuse(i, fmt.Errorf("%q mentions tcp:// but is not the value of an OpenStore endpoint option; migrate it by hand", a))
			}
			continue
		}

		var (
			flag, name, value string
			attached, eq      bool
		)
		if strings.HasPrefix(a, "--") {
			n, v, hasEq := strings.Cut(a[2:], "=")
			flag, name, value, attached, eq = "--"+n, n, v, hasEq, hasEq
		} else if long, ok := shortFlags[a[:min(2, len(a))]]; ok {
			flag, name = a[:2], long
			if len(a) > 2 {
				value, attached = a[2:], true
			}
		} else {
			if hasLegacyScheme(a) {
				refuse(i, fmt.Errorf("%q mentions tcp:// but is not an OpenStore endpoint option; migrate it by hand", a))
			}
			continue
		}
		rule, known := lookupRule(name, false)
		if !known {
			if hasLegacyScheme(a) {
				refuse(i, errUnknownLegacy(flag))
			}
			continue
		}
		valueAt := i
		if !attached {
			if i+1 >= len(out) {
				refuse(i, fmt.Errorf("%s needs an endpoint value", flag))
				continue
			}
			valueAt = i + 1
			value = out[valueAt]
		}
		newValue, changed, err := migrateValue(rule, flag, value)
		if err != nil {
			refuse(valueAt, err)
			i = valueAt
			continue
		}
		newFlag := flag
		if changed && rule.Renamed() {
			newFlag = "--" + rule.NewKey
		}
		if changed {
			// The value always ends its argument: "--flag=V", "-CV" or "V".
			vEnd := len(out[valueAt])
			switch {
			case eq:
				out[i] = newFlag + "=" + newValue
			case attached:
				out[i] = newFlag + newValue
			default:
				out[i], out[valueAt] = newFlag, newValue
			}
			if newFlag != flag {
				edits = append(edits, wordEdit{i, textEdit{0, len(flag), newFlag}})
			}
			edits = append(edits, wordEdit{valueAt, textEdit{vEnd - len(value), vEnd, newValue}})
			changes = append(changes, Change{Arg: i + 1, Key: flag, NewKey: newFlag, Old: value, New: newValue})
		}
		i = valueAt
	}
	if len(errs) > 0 {
		return nil, nil, nil, errors.Join(errs...)
	}
	return out, changes, edits, nil
}
