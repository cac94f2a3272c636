package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/modsrc"
	"github.com/rokflow/rokflow/steps/builtin"
)

// completeCommand is the hidden command the completion scripts run: it
// takes the words of the command line after rokflow, the last one being
// the word under the cursor (empty at a new word), and prints what may
// stand there, one per line, with a tab and a description where there is
// one. It reads the kong model, so commands and flags complete as they
// are declared; playbook paths complete from the file system.
const completeCommand = "__complete"

// candidate is one completion: the text, and what it is.
type candidate struct {
	Value, Help string
}

// complete prints the candidates for words and returns the exit code. It
// never fails: a shell asking for completions gets none rather than an
// error in the middle of the command line.
func complete(app *kong.Application, words []string, env Env) int {
	for _, c := range completions(app, words) {
		if c.Help != "" {
			fmt.Fprintf(env.Stdout, "%s\t%s\n", c.Value, firstSentence(c.Help))
		} else {
			fmt.Fprintln(env.Stdout, c.Value)
		}
	}
	return exitOK
}

// completions returns what may stand in place of the last word.
func completions(app *kong.Application, words []string) []candidate {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	prev := words[:len(words)-1]

	w := walk(app, prev)
	// A flag's value after the flag (--var-file F), or in the same word
	// (--var-file=F: the candidates keep the flag, and the bash script
	// takes off what bash does not count as the word, up to the =).
	if w.want != nil {
		return w.values(w.want, cur, "")
	}
	if strings.HasPrefix(cur, "-") && !w.positionalOnly {
		if name, val, ok := strings.Cut(cur, "="); ok {
			lookup := name
			if lookup == "-chdir" {
				lookup = "--chdir"
			}
			if f := w.flag(lookup); f != nil {
				return w.values(f, val, name+"=")
			}
			return nil
		}
		return w.flags(cur)
	}
	if w.node.Name == "help" && w.node.Parent != nil && w.node.Parent.Parent == nil {
		return commandsAt(app.Node, w.args, cur)
	}
	if len(w.args) == 0 && hasCommands(w.node) {
		return commandsAt(w.node, nil, cur)
	}
	pos := w.node.Positional
	if len(pos) == 0 {
		return nil
	}
	i := min(len(w.args), len(pos)-1)
	if len(w.args) >= len(pos) && !pos[i].IsSlice() {
		return nil
	}
	return w.positional(pos[i], cur)
}

// walked is where the words before the cursor lead: the command, the
// positional arguments given, a flag still waiting for its value, and
// the directory -chdir names.
type walked struct {
	app            *kong.Application
	node           *kong.Node
	args           []string
	want           *kong.Flag
	positionalOnly bool
	dir            string
}

func walk(app *kong.Application, words []string) *walked {
	w := &walked{app: app, node: app.Node}
	for i := 0; i < len(words); i++ {
		word := words[i]
		switch {
		case w.positionalOnly:
			w.args = append(w.args, word)
		case word == "--":
			w.positionalOnly = true
		case strings.HasPrefix(word, "-") && word != "-":
			name, val, hasVal := strings.Cut(word, "=")
			if name == "-chdir" {
				name = "--chdir"
			}
			f := w.flag(name)
			if f == nil || f.IsBool() || f.IsCounter() {
				continue
			}
			if !hasVal {
				if i+1 == len(words) {
					w.want = f
					continue
				}
				i++
				val = words[i]
			}
			if f.Name == "chdir" {
				w.dir = val
			}
		default:
			if len(w.args) == 0 {
				if child := findChild(w.node, word); child != nil {
					w.node = child
					continue
				}
			}
			w.args = append(w.args, word)
		}
	}
	return w
}

// flag finds a flag of the command or its parents by --name or -s.
func (w *walked) flag(word string) *kong.Flag {
	for _, group := range w.node.AllFlags(false) {
		for _, f := range group {
			if word == "--"+f.Name || (f.Short != 0 && word == "-"+string(f.Short)) || slices.Contains(f.Aliases, strings.TrimPrefix(word, "--")) {
				return f
			}
		}
	}
	return nil
}

// flags returns the flags of the command and its parents that start with
// prefix.
func (w *walked) flags(prefix string) []candidate {
	var out []candidate
	for _, group := range w.node.AllFlags(true) {
		for _, f := range group {
			name := "--" + f.Name
			if strings.HasPrefix(name, prefix) {
				out = append(out, candidate{name, f.Help})
			}
		}
	}
	return out
}

// values completes the value of flag f from cur; prefix is put back in
// front of every candidate (--flag= when the shell kept it in the word).
func (w *walked) values(f *kong.Flag, cur, prefix string) []candidate {
	var out []candidate
	switch {
	case f.Enum != "":
		out = enumCandidates(f.EnumSlice(), cur)
	case f.Name == "chdir":
		out = paths(w.base(), cur, func(string) bool { return false })
	case f.Name == "var-file":
		out = paths(w.base(), cur, func(n string) bool { return strings.HasSuffix(n, ".hcl") || strings.HasSuffix(n, ".json") })
	case f.Tag != nil && (f.Tag.Type == "path" || f.Tag.Type == "existingfile"):
		out = paths(w.base(), cur, func(string) bool { return true })
	}
	for i := range out {
		out[i].Value = prefix + out[i].Value
	}
	return out
}

// positional completes a positional argument.
func (w *walked) positional(p *kong.Value, cur string) []candidate {
	switch {
	case p.Enum != "":
		return enumCandidates(p.EnumSlice(), cur)
	case p.Name == "kind" && w.node.Name == "steps":
		return kindCandidates(cur)
	case p.Name == "path" || p.Name == "paths":
		planFile := w.node.Name == "apply" // a plan saved by plan --out
		return paths(w.base(), cur, func(n string) bool {
			if !strings.HasSuffix(n, ".hcl") && !strings.HasSuffix(n, ".hcl.json") {
				return planFile
			}
			return !strings.HasSuffix(n, ".vars.hcl") && !strings.HasSuffix(n, ".vars.hcl.json") &&
				!strings.HasSuffix(n, lang.TestFileSuffix) && n != modsrc.LockFile
		})
	}
	return nil
}

// base is the directory relative paths are read from: -chdir's, or the
// working directory.
func (w *walked) base() string {
	if w.dir == "" {
		return "."
	}
	return w.dir
}

func hasCommands(n *kong.Node) bool {
	for _, c := range n.Children {
		if c.Type == kong.CommandNode && !c.Hidden {
			return true
		}
	}
	return false
}

func findChild(n *kong.Node, name string) *kong.Node {
	for _, c := range n.Children {
		if c.Type == kong.CommandNode && (c.Name == name || slices.Contains(c.Aliases, name)) {
			return c
		}
	}
	return nil
}

// commandsAt completes a command name below n after the command words
// path (for rokflow help state …).
func commandsAt(n *kong.Node, path []string, cur string) []candidate {
	for _, p := range path {
		if n = findChild(n, p); n == nil {
			return nil
		}
	}
	var out []candidate
	for _, c := range n.Children {
		if c.Type == kong.CommandNode && !c.Hidden && strings.HasPrefix(c.Name, cur) {
			out = append(out, candidate{c.Name, c.Help})
		}
	}
	return out
}

func enumCandidates(values []string, cur string) []candidate {
	var out []candidate
	for _, v := range values {
		if strings.HasPrefix(v, cur) {
			out = append(out, candidate{Value: v})
		}
	}
	return out
}

// kindCandidates completes a step kind for rokflow steps.
func kindCandidates(cur string) []candidate {
	reg, err := builtin.Registry()
	if err != nil {
		return nil
	}
	var out []candidate
	for _, k := range append(reg.Names(), "connection") {
		if strings.HasPrefix(k, cur) {
			out = append(out, candidate{Value: k})
		}
	}
	return out
}

// paths completes a path from cur: directories (with a trailing slash,
// so the shell goes on into them) and the files keep accepts. Dot files
// show only when cur's last element starts with a dot. base is where a
// relative cur is read from.
func paths(base, cur string, keep func(name string) bool) []candidate {
	dirPart, filePart := cur[:strings.LastIndex(cur, "/")+1], cur[strings.LastIndex(cur, "/")+1:]
	read := dirPart
	if strings.HasPrefix(read, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			read = filepath.Join(home, read[2:])
		}
	}
	if read == "" {
		read = "."
	}
	if !filepath.IsAbs(read) {
		read = filepath.Join(base, read)
	}
	entries, err := os.ReadDir(read)
	if err != nil {
		return nil
	}
	var out []candidate
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, filePart) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(filePart, ".")) {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if info, err := os.Stat(filepath.Join(read, name)); err == nil {
				isDir = info.IsDir()
			}
		}
		switch {
		case isDir:
			out = append(out, candidate{Value: dirPart + name + "/"})
		case keep(name):
			out = append(out, candidate{Value: dirPart + name})
		}
	}
	return out
}

// firstSentence shortens a help text to its first sentence, for a
// completion's description.
func firstSentence(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return s
}
