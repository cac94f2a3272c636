package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/rokflow/rokflow/internal/atomicfile"
)

// FmtCmd rewrites .hcl files in canonical style.
type FmtCmd struct {
	Paths []string `arg:"" optional:"" help:"Files or directories (searched recursively); the current directory when none; - for standard input, formatted to standard output."`
	Check bool     `help:"Change nothing; list the files that are not formatted and exit 1 if any."`
	Diff  bool     `help:"Show what would change, as a unified diff, instead of writing."`
}

// Run formats the files.
func (c *FmtCmd) Run(a *App) error {
	paths := c.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	if slices.Contains(paths, "-") {
		if len(paths) > 1 {
			return usageError("fmt - formats standard input alone; give files and directories in another command")
		}
		return c.stdin(a)
	}
	files, err := hclFiles(paths)
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	unformatted := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return &exitError{code: exitFailed, msg: err.Error()}
		}
		// Refuse to format what does not parse: hclwrite would keep the
		// broken bytes and the user would not learn why.
		if _, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos); diags.HasErrors() {
			if err := a.report(map[string]*hcl.File{f: {Bytes: src}}, diags); err != nil {
				return err
			}
		}
		out := hclwrite.Format(src)
		if bytes.Equal(src, out) {
			continue
		}
		unformatted++
		switch {
		case c.Check:
			fmt.Fprintln(a.Stdout, relPath(f))
		case c.Diff:
			fmt.Fprint(a.Stdout, lineDiff(f, string(src), string(out)))
		default:
			info, err := os.Stat(f)
			if err != nil {
				return &exitError{code: exitFailed, msg: err.Error()}
			}
			if err := atomicfile.Write(f, out, info.Mode()); err != nil {
				return &exitError{code: exitFailed, msg: err.Error()}
			}
			fmt.Fprintln(a.Stdout, relPath(f))
		}
	}
	if c.Check && unformatted > 0 {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("%d file(s) need formatting; run \"rokflow fmt\" to fix them", unformatted)}
	}
	return nil
}

// stdinName names standard input in diagnostics and diffs, as gofmt does.
const stdinName = "<standard input>"

// stdin formats standard input: to standard output; with --check, only
// the exit code says whether it was formatted; with --diff, as a diff.
func (c *FmtCmd) stdin(a *App) error {
	src, err := io.ReadAll(a.Stdin)
	if err != nil {
		return &exitError{code: exitFailed, msg: "cannot read standard input: " + err.Error()}
	}
	if _, diags := hclsyntax.ParseConfig(src, stdinName, hcl.InitialPos); diags.HasErrors() {
		return a.report(map[string]*hcl.File{stdinName: {Bytes: src}}, diags)
	}
	out := hclwrite.Format(src)
	switch {
	case c.Check:
		if !bytes.Equal(src, out) {
			return &exitError{code: exitFailed, msg: "standard input needs formatting"}
		}
		return nil
	case c.Diff:
		if !bytes.Equal(src, out) {
			fmt.Fprint(a.Stdout, udiff.Unified(stdinName, stdinName, string(src), string(out)))
		}
		return nil
	}
	_, err = a.Stdout.Write(out)
	return err
}

// hclFiles expands paths to the .hcl files they name, sorted.
func hclFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".hcl") {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}
