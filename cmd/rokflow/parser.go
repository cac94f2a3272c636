package main

import (
	"reflect"
	"strings"

	"github.com/alecthomas/kong"
)

// newParser builds the command-line parser for args. Kong's model of the
// whole CLI costs milliseconds at every start — reflection over every
// command's flags and the interpolation of every help text — which is most
// of what a quick command such as version or validate takes. So when args
// name a command (the global flags, then its name), the model holds the
// global flags and that command only: it parses, checks and documents the
// command exactly as the whole model would. Anything else (no command,
// help, an unknown word) gets the whole CLI, for its listing of commands
// and its suggestions. globals returns the global flags once parsed.
func newParser(args []string, env Env, exitCode *int) (parser *kong.Kong, globals func() CLI, err error) {
	target := reflect.New(cliFor(args))
	parser, err = kong.New(target.Interface(),
		kong.Name("rokflow"),
		kong.Description(description),
		kong.Writers(env.Stdout, env.Stderr),
		kong.Exit(func(code int) { *exitCode = code }),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Vars{"pattern_help": patternHelp, "version": versionLine()},
	)
	globals = func() CLI {
		v := target.Elem()
		return CLI{NoColor: v.FieldByName("NoColor").Bool(), Chdir: v.FieldByName("Chdir").String()}
	}
	return parser, globals, err
}

// cliFor returns the type to build the model from: CLI itself, or a
// struct of CLI's global flags and the one command args name.
func cliFor(args []string) reflect.Type {
	whole := reflect.TypeFor[CLI]()
	name := ""
	for _, a := range args {
		if a == "--" {
			return whole
		}
		if !strings.HasPrefix(a, "-") {
			name = a
			break
		}
	}
	if name == "" || name == "help" {
		return whole
	}
	var fields []reflect.StructField
	found := false
	for i := range whole.NumField() {
		f := whole.Field(i)
		if _, isCmd := f.Tag.Lookup("cmd"); !isCmd {
			fields = append(fields, f)
			continue
		}
		if cmdName(f) == name {
			fields, found = append(fields, f), true
		}
	}
	if !found {
		return whole
	}
	for i := range fields {
		fields[i].Offset, fields[i].Index = 0, nil // StructOf lays them out anew
	}
	return reflect.StructOf(fields)
}

// cmdName is the name kong gives the command of field f: its name tag, or
// its field name in kebab case.
func cmdName(f reflect.StructField) string {
	if n := f.Tag.Get("name"); n != "" {
		return n
	}
	var b strings.Builder
	for i, r := range f.Name {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('-')
		}
		b.WriteRune(r)
	}
	return strings.ToLower(b.String())
}
