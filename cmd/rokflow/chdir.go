package main

import (
	"fmt"
	"os"
	"strings"
)

// chdirFlags are the spellings of the global option that switches
// directory: Terraform's -chdir=DIR, and kong's --chdir DIR and
// --chdir=DIR.
var chdirFlags = []string{"-chdir", "--chdir"}

// chdir finds the -chdir option in args and switches to its directory
// before anything reads a path: kong resolves path flags as it parses
// them, and a playbook path is read relative to the working directory.
// It returns args as kong parses them (-chdir=DIR spelt --chdir=DIR) and
// the directory ("" without the option). Nothing after "--" is an option;
// the last -chdir wins.
func chdir(args []string) ([]string, string, error) {
	out := make([]string, 0, len(args))
	dir, seen := "", false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		name, val, hasVal := strings.Cut(a, "=")
		if name != chdirFlags[0] && name != chdirFlags[1] {
			out = append(out, a)
			continue
		}
		if !hasVal {
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "-") {
				return nil, "", fmt.Errorf("%s needs a directory: %s=DIR", name, name)
			}
			i++
			val = args[i]
		}
		if val == "" {
			return nil, "", fmt.Errorf("%s needs a directory: %s=DIR", name, name)
		}
		dir, seen = val, true
		out = append(out, "--chdir="+val)
	}
	if !seen {
		return out, "", nil
	}
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		return nil, "", fmt.Errorf("-chdir=%s: %s", dir, pathErrReason(err))
	case !info.IsDir():
		return nil, "", fmt.Errorf("-chdir=%s: not a directory", dir)
	}
	if err := os.Chdir(dir); err != nil {
		return nil, "", fmt.Errorf("-chdir=%s: %s", dir, pathErrReason(err))
	}
	return out, dir, nil
}

// pathErrReason is what went wrong with a path, without the Go operation
// that met it ("stat", "chdir") or the path, which the message gives.
func pathErrReason(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
