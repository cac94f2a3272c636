package server

import (
	"fmt"
	"strings"
)

// opts are the parsed options of a command: short ones keyed by their
// letter, long ones by their name; a flag without value maps to "".
type opts map[string]string

func (o opts) has(names ...string) bool {
	for _, n := range names {
		if _, ok := o[n]; ok {
			return true
		}
	}
	return false
}

func (o opts) get(names ...string) (string, bool) {
	for _, n := range names {
		if v, ok := o[n]; ok {
			return v, true
		}
	}
	return "", false
}

// parseOpts reads GNU-style options up to "--" or the first operand.
// flags are the short flags without value ("fr"), valued those with one
// ("pt"); longs maps long option names to whether they take a value.
// problem is the message GNU tools print for a bad option, "" if none.
func parseOpts(args []string, flags, valued string, longs map[string]bool) (o opts, rest []string, problem string) {
	o = opts{}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			takes, ok := longs[name]
			if !ok {
				return nil, nil, fmt.Sprintf("unrecognized option '%s'", a)
			}
			if takes && !hasVal {
				if i+1 >= len(args) {
					return nil, nil, fmt.Sprintf("option '--%s' requires an argument", name)
				}
				i++
				val = args[i]
			}
			o[name] = val
			continue
		}
		for j := 1; j < len(a); j++ {
			ch := string(a[j])
			switch {
			case strings.Contains(flags, ch):
				o[ch] = ""
			case strings.Contains(valued, ch):
				val := a[j+1:]
				if val == "" {
					if i+1 >= len(args) {
						return nil, nil, fmt.Sprintf("option requires an argument -- '%s'", ch)
					}
					i++
					val = args[i]
				}
				o[ch] = val
				j = len(a)
			default:
				return nil, nil, fmt.Sprintf("invalid option -- '%s'", ch)
			}
		}
	}
	return o, args[i:], ""
}

// badOption prints a GNU tool's complaint about its options; status 1.
func (c *cmd) badOption(problem string) int {
	c.errf("%s: %s\nTry '%s --help' for more information.", c.name, problem, c.name)
	return 1
}
