package main

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// TestParserOfOneCommand: the model built for one command documents and
// parses it as the whole CLI does — the help of every command, leaf or
// not, is the same through COMMAND --help (one command's model) and help
// COMMAND (the whole model) — and words that name no command get the
// whole CLI.
func TestParserOfOneCommand(t *testing.T) {
	exit := -1
	whole, _, err := newParser(nil, Env{Stdout: os.Stdout, Stderr: os.Stderr}, &exit)
	if err != nil {
		t.Fatal(err)
	}
	var paths [][]string
	var walk func(n *kong.Node, path []string)
	walk = func(n *kong.Node, path []string) {
		for _, c := range n.Children {
			if c.Hidden {
				continue
			}
			p := append(append([]string(nil), path...), c.Name)
			paths = append(paths, p)
			walk(c, p)
		}
	}
	walk(whole.Model.Node, nil)
	if len(paths) < 15 {
		t.Fatalf("only %d commands in the model", len(paths))
	}
	helpOf := func(args ...string) string {
		var out, errb bytes.Buffer
		code := Main(args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Environ: os.Environ})
		if code != 0 {
			t.Errorf("%q: exit %d\n%s", args, code, errb.String())
		}
		return out.String()
	}
	for _, p := range paths {
		one, all := helpOf(append(p, "--help")...), helpOf(append([]string{"help"}, p...)...)
		if one != all || one == "" {
			t.Errorf("%s --help differs from help %s:\n%s\n---\n%s", strings.Join(p, " "), strings.Join(p, " "), one, all)
		}
	}
	wholeType := reflect.TypeFor[CLI]()
	for _, args := range [][]string{nil, {"help", "apply"}, {"nosuch"}, {"--no-color"}, {"--", "apply"}} {
		if got := cliFor(args); got != wholeType {
			t.Errorf("cliFor(%q) is %v, want the whole CLI", args, got)
		}
	}
	if got := cliFor([]string{"--no-color", "--chdir=/tmp", "state", "list"}); got == wholeType || got.NumField() != 4 {
		t.Errorf("cliFor(state list) is %v, want the global flags and state", got)
	}
}
