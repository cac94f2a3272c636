package funcs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// MakeEnvFunc returns env(name): the value of the environment variable name
// in the rokflow process, or "" when it is not set (as a shell expands an
// unset variable). It is impure: its result depends on the environment.
// With pure set it reads nothing and always returns an unknown string.
func MakeEnvFunc(pure bool) function.Function {
	var fn implFunc
	if !pure {
		fn = func(args []cty.Value) (cty.Value, error) {
			name := args[0].AsString()
			if name == "" {
				return cty.NilVal, argErrorf(0, "invalid variable name", "variable name must not be empty")
			}
			return cty.StringVal(os.Getenv(name)), nil
		}
	}
	return newFunc(
		`Returns the value of an environment variable of the rokflow process, or "" if it is unset. Impure.`,
		[]function.Parameter{strParam("name", "The variable name.")},
		cty.String, fn,
	)
}

// MakeFileFunc returns file(path): the contents of the file at path, which
// must be valid UTF-8. A relative path is resolved against baseDir (the
// playbook's directory; the working directory when baseDir is ""); absolute
// paths and ".." are allowed, as in Terraform. It is impure: its result
// depends on the file system. With pure set it reads nothing and always
// returns an unknown string.
func MakeFileFunc(baseDir string, pure bool) function.Function {
	var fn implFunc
	if !pure {
		fn = func(args []cty.Value) (cty.Value, error) {
			p := args[0].AsString()
			if p == "" {
				return cty.NilVal, argErrorf(0, "invalid path", "path must not be empty")
			}
			full := p
			if !filepath.IsAbs(full) {
				full = filepath.Join(baseDir, p)
			}
			data, err := os.ReadFile(full)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return cty.NilVal, argErrorf(0, "no such file", "no file exists at %q", full)
			case err != nil:
				if fi, serr := os.Stat(full); serr == nil && fi.IsDir() {
					return cty.NilVal, argErrorf(0, "the path is a directory", "%q is a directory, not a file", full)
				}
				return cty.NilVal, argErrorf(0, "cannot read the file", "cannot read %q: %v", full, err)
			case !utf8.Valid(data):
				return cty.NilVal, argErrorf(0, "the file is not valid UTF-8", "contents of %q are not valid UTF-8", full)
			}
			return cty.StringVal(string(data)), nil
		}
	}
	return newFunc(
		"Reads a UTF-8 text file; relative paths are resolved against the playbook directory. Impure.",
		[]function.Parameter{strParam("path", "The file path.")},
		cty.String, fn,
	)
}

// MakeTimestampFunc returns timestamp(): the current UTC time in RFC 3339
// format ("2026-05-01T12:00:00Z"). It is impure; with pure set it always
// returns an unknown string.
func MakeTimestampFunc(pure bool) function.Function {
	var fn implFunc
	if !pure {
		fn = func([]cty.Value) (cty.Value, error) {
			return cty.StringVal(time.Now().UTC().Format(time.RFC3339)), nil
		}
	}
	return newFunc("Returns the current UTC time in RFC 3339 format. Impure.", nil, cty.String, fn)
}
