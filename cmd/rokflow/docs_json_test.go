package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// docsDir holds the documentation pages whose JSON these tests check.
const docsDir = "../../docs"

// docExample is a JSON block of a documentation page, with the marker
// before it that names its schema and, for an example made by a command,
// the command:
//
//	<!-- plan.schema.json, the output of: rokflow plan --json examples/01-variables -->
//	```json
//	…
//	```
var docExample = regexp.MustCompile("(?m)^<!-- ([a-z.-]+\\.schema\\.json)(?:, the output of: rokflow ([^>]+))? -->\n```json\n((?s:.*?))```\n")

// volatile is what differs between two runs of one command: times, run
// ids, durations; and the version of the rokflow that printed it.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"time":"[^"]*"`), `"time":"…"`},
	{regexp.MustCompile(`"run":"[^"]*"`), `"run":"…"`},
	{regexp.MustCompile(`"elapsed_ns":[0-9]+`), `"elapsed_ns":0`},
	{regexp.MustCompile(`"rokflow_version": "[^"]*"`), `"rokflow_version": "…"`},
}

func normalize(s string) string {
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// TestDocsJSONExamples checks every JSON block of docs/*.md: each names
// its schema and holds to it, and one made by a command is that
// command's output, byte for byte but for times, run ids, durations and
// rokflow's version. -update rewrites those from a fresh run.
func TestDocsJSONExamples(t *testing.T) {
	pages, _ := filepath.Glob(filepath.Join(docsDir, "*.md"))
	examples := 0
	for _, page := range pages {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		matches := docExample.FindAllStringSubmatchIndex(text, -1)
		if fences := strings.Count(text, "```json\n"); fences != len(matches) {
			t.Errorf("%s has %d JSON blocks and %d with a marker naming their schema: every one needs one", page, fences, len(matches))
		}
		var out strings.Builder
		last := 0
		for _, m := range matches {
			schema, block := text[m[2]:m[3]], text[m[6]:m[7]]
			examples++
			if m[4] >= 0 {
				command := text[m[4]:m[5]]
				got := docCommand(t, command)
				if *update {
					got = strings.ReplaceAll(got, `"rokflow_version": "`+Version+`"`, `"rokflow_version": "0.1.0-dev"`)
					out.WriteString(text[last:m[6]])
					out.WriteString(got)
					last = m[7]
					block = got
				} else if normalize(got) != normalize(block) {
					t.Errorf("%s: the example of rokflow %s is not what it prints now (rewrite it with go test ./cmd/rokflow -run TestDocsJSONExamples -update):\n%s", page, command, firstDiff(normalize(block), normalize(got)))
				}
			}
			if schema == "events.schema.json" {
				validLines(t, page+" example", block)
			} else if e := schemaErrors(t, schema, []byte(block)); e != "" {
				t.Errorf("%s: an example does not hold to %s:\n%s", page, schema, e)
			}
		}
		if *update && last > 0 {
			out.WriteString(text[last:])
			if err := os.WriteFile(page, []byte(out.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if examples < 4 {
		t.Errorf("found %d JSON examples in %s", examples, docsDir)
	}
}

// docCommand runs a documented command from the repository's root: its
// paths are relative to it. An apply without --state journals in a
// directory of the test's.
func docCommand(t *testing.T, command string) string {
	t.Helper()
	args := strings.Fields(command)
	for i, a := range args {
		if _, err := os.Stat(filepath.Join("../..", a)); err == nil && !strings.HasPrefix(a, "-") {
			args[i] = filepath.Join("../..", a)
		}
	}
	if args[0] == "apply" && !strings.Contains(command, "--state") {
		args = append(args, "--state", "file://"+t.TempDir())
	}
	code, out, stderr := run(t, nil, args...)
	if code != 0 {
		t.Fatalf("rokflow %s exited %d:\n%s", command, code, stderr)
	}
	return strings.ReplaceAll(out, "../../", "")
}

// docTables are the field tables of the documentation and the schema
// objects they describe.
var docTables = []struct {
	page, heading, schema, def string
}{
	{"plan-json.md", "## The document", "plan.schema.json", ""},
	{"plan-json.md", "## An instance", "plan.schema.json", "instance"},
	{"plan-json.md", "## A group", "plan.schema.json", "group"},
	{"plan-json.md", "## The release", "plan.schema.json", "release"},
	{"events-json.md", "## An event", "events.schema.json", ""},
	{"json.md", "## state show", "state-show.schema.json", ""},
	{"json.md", "### A step", "state-show.schema.json", "stepView"},
	{"json.md", "## state list", "state-list.schema.json", ""},
	{"json.md", "### A run", "state-list.schema.json", "runSummary"},
}

// fieldCell is the first cell of a table row: `a`, `b`.
var fieldCell = regexp.MustCompile("^\\| ((?:`[a-z_]+`(?:, )?)+) \\|")

// TestDocsFieldTables checks that each field table of the documentation
// lists exactly the fields of the schema object it describes, which the
// Go types make.
func TestDocsFieldTables(t *testing.T) {
	for _, tc := range docTables {
		data, err := os.ReadFile(filepath.Join(docsDir, tc.page))
		if err != nil {
			t.Fatal(err)
		}
		_, section, ok := strings.Cut(string(data), "\n"+tc.heading+"\n")
		if !ok {
			t.Errorf("%s has no section %q", tc.page, tc.heading)
			continue
		}
		if i := strings.Index(section, "\n#"); i >= 0 {
			section = section[:i]
		}
		var documented []string
		for _, line := range strings.Split(section, "\n") {
			if m := fieldCell.FindStringSubmatch(line); m != nil {
				for _, f := range strings.Split(m[1], ", ") {
					documented = append(documented, strings.Trim(f, "`"))
				}
			}
		}
		schemaData, err := os.ReadFile(filepath.Join(schemaDir, tc.schema))
		if err != nil {
			t.Fatal(err)
		}
		type obj struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		var s struct {
			obj
			Defs map[string]obj `json:"$defs"`
		}
		if err := json.Unmarshal(schemaData, &s); err != nil {
			t.Fatal(err)
		}
		o := s.obj
		if tc.def != "" {
			o = s.Defs[tc.def]
		}
		var fields []string
		for f := range o.Properties {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		sort.Strings(documented)
		if len(fields) == 0 || strings.Join(fields, " ") != strings.Join(documented, " ") {
			t.Errorf("%s %q documents %v; %s has %v", tc.page, tc.heading, documented, tc.schema, fields)
		}
	}
}
