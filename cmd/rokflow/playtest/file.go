package playtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime/addrs"
)

// FileSuffix names a playbook test file. lang.Load leaves such files out
// of the playbook.
const FileSuffix = lang.TestFileSuffix

// TestsDir is the directory beside a playbook's files that holds its tests.
const TestsDir = "tests"

// Suite is the tests of one playbook.
type Suite struct {
	// Playbook is the playbook under test, loaded and checked.
	Playbook *lang.Playbook
	// Files holds the playbook's files and the test files, for rendering
	// diagnostics.
	Files map[string]*hcl.File
	// Cases are in file order, then source order.
	Cases []*Case
}

// Case is one test: a simulated cluster, inputs, and what must hold.
type Case struct {
	Name        string
	File        string // as the user named it
	Description string
	Simulator   Simulator
	// Variables are the inputs on top of the simulator's var-file: the
	// file's variables block, then the case's.
	Variables map[string]cty.Value
	Expect    Expect
	Asserts   []Assert
	// Timeout bounds each apply of the case.
	Timeout   time.Duration
	DeclRange hcl.Range
}

// Outcome is how a case's run ended, as a case expects it.
type Outcome string

// The outcomes.
const (
	// Succeeded: apply exited 0 and a step that changes something ran.
	Succeeded Outcome = "succeeded"
	// Failed: apply failed after a step that changes something began.
	Failed Outcome = "failed"
	// Refused: apply failed before any step that changes something began
	// (a cluster outside the playbook's release, a failed precondition).
	Refused Outcome = "refused"
	// NothingToDo: apply exited 0 and no step that changes anything ran.
	NothingToDo Outcome = "nothing_to_do"
	// Paused: apply stopped at a gate or a step in doubt (exit code 3).
	Paused Outcome = "paused"
	// Errored: apply could not run the playbook at all (bad inputs, exit 2,
	// or a crash); never what a case expects.
	Errored Outcome = "error"
)

var outcomes = []string{string(Succeeded), string(Failed), string(Refused), string(NothingToDo), string(Paused)}

// Expect is a case's expect block.
type Expect struct {
	Outcome      Outcome
	OutcomeRange *hcl.Range // nil when the case left the default
	// FailedAt, when given, are the steps (addresses or patterns) the run
	// must end failed at: each matches a failed step, each failed step
	// matches one.
	FailedAt      []addrs.Pattern
	FailedAtRange *hcl.Range
}

// Assert is a condition over cluster and run.
type Assert struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression // nil: a generic message
	DeclRange    hcl.Range
}

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variables"},
		{Type: "case", LabelNames: []string{"name"}},
	},
}

var caseSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "description"}, {Name: "timeout"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "simulator"}, {Type: "variables"}, {Type: "expect"}, {Type: "assert"},
	},
}

var expectSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "outcome"}, {Name: "failed_at"}},
}

var assertSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "condition", Required: true}, {Name: "error_message"}},
}

// defaultTimeout bounds one apply of a case that sets no timeout.
const defaultTimeout = 5 * time.Minute

// Load reads the playbook at dir and its tests: PLAYBOOK/tests/*.rftest.hcl
// and PLAYBOOK/*.rftest.hcl. The suite is usable for rendering diagnostics
// even when they hold errors, but must not be run then.
func Load(dir string) (*Suite, hcl.Diagnostics) {
	pb, diags := lang.Load(dir)
	s := &Suite{Playbook: pb, Files: map[string]*hcl.File{}}
	for n, f := range pb.Files {
		s.Files[n] = f
	}
	if diags.HasErrors() {
		return s, diags
	}
	paths, err := testFiles(pb.Dir)
	if err != nil {
		return s, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read the tests", Detail: err.Error()})
	}
	if len(paths) == 0 {
		return s, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No tests",
			Detail: fmt.Sprintf("The playbook %s has no test files: write cases in %s/*%s (or *%s beside the playbook's files).",
				pb.DisplayDir, filepath.ToSlash(filepath.Join(pb.DisplayDir, TestsDir)), FileSuffix, FileSuffix),
		})
	}
	parser := hclparse.NewParser()
	fns := lang.Functions(pb.Dir, true)
	declared := sortedKeys(pb.Root.Variables)
	seen := map[string]*Case{}
	for _, p := range paths {
		name := displayName(pb, p)
		src, err := os.ReadFile(p)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read file", Detail: err.Error()})
			continue
		}
		f, ds := parser.ParseHCL(src, name)
		diags = append(diags, ds...)
		if f == nil {
			continue
		}
		s.Files[name] = f
		cases, ds := decodeFile(f.Body, name, fns, declared)
		diags = append(diags, ds...)
		for _, c := range cases {
			if prev := seen[c.Name]; prev != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate case",
					Detail:   fmt.Sprintf("A case named %q is already defined at %s; each case of a playbook needs its own name.", c.Name, prev.DeclRange),
					Subject:  c.DeclRange.Ptr(),
				})
				continue
			}
			seen[c.Name] = c
			s.Cases = append(s.Cases, c)
		}
	}
	return s, diags
}

// testFiles lists the test files of the playbook in dir, sorted: those in
// tests/ first, then those beside the playbook.
func testFiles(dir string) ([]string, error) {
	var out []string
	for _, d := range []string{filepath.Join(dir, TestsDir), dir} {
		entries, err := os.ReadDir(d)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var files []string
		for _, e := range entries {
			if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), FileSuffix) {
				files = append(files, filepath.Join(d, e.Name()))
			}
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}

// displayName names a test file as the playbook was named: relative to
// the working directory when the playbook's name was.
func displayName(pb *lang.Playbook, path string) string {
	rel, err := filepath.Rel(pb.Dir, path)
	if err != nil {
		return path
	}
	return filepath.Join(pb.DisplayDir, rel)
}

// decodeFile decodes the cases of one test file.
func decodeFile(body hcl.Body, file string, fns map[string]function, declared []string) ([]*Case, hcl.Diagnostics) {
	content, diags := body.Content(fileSchema)
	ctx := &hcl.EvalContext{Functions: fns}
	common := map[string]cty.Value{}
	var cases []*Case
	for _, b := range content.Blocks {
		if b.Type == "variables" {
			diags = append(diags, decodeVariables(b.Body, ctx, common, declared)...)
		}
	}
	for _, b := range content.Blocks {
		if b.Type != "case" {
			continue
		}
		c, ds := decodeCase(b, file, ctx, common, declared)
		diags = append(diags, ds...)
		if c != nil {
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 && !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "No cases",
			Detail:   fmt.Sprintf("%s holds no case block.", file),
			Subject:  body.MissingItemRange().Ptr(),
		})
	}
	return cases, diags
}

// decodeVariables evaluates a variables block's attributes into into; each
// must name a variable the playbook declares, so that a misspelt input
// fails the file rather than the run (a refusal a case expects could
// otherwise pass for the wrong reason).
func decodeVariables(body hcl.Body, ctx *hcl.EvalContext, into map[string]cty.Value, declared []string) hcl.Diagnostics {
	attrs, diags := body.JustAttributes()
	for name, a := range attrs {
		if !contains(declared, name) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Undeclared variable",
				Detail:   fmt.Sprintf("The playbook declares no variable %q.%s", name, didYouMean(name, declared)),
				Subject:  a.NameRange.Ptr(),
			})
			continue
		}
		v, ds := a.Expr.Value(ctx)
		diags = append(diags, ds...)
		if !ds.HasErrors() {
			into[name] = v
		}
	}
	return diags
}

func decodeCase(b *hcl.Block, file string, ctx *hcl.EvalContext, common map[string]cty.Value, declared []string) (*Case, hcl.Diagnostics) {
	c := &Case{Name: b.Labels[0], File: file, DeclRange: b.DefRange, Timeout: defaultTimeout,
		Variables: map[string]cty.Value{}, Expect: Expect{Outcome: Succeeded}}
	var diags hcl.Diagnostics
	if !hclIdentifier(c.Name) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid case name",
			Detail:   "A case name is a letter followed by letters, digits, underscores and dashes, so that --run can select it.",
			Subject:  b.LabelRanges[0].Ptr(),
		})
	}
	for k, v := range common {
		c.Variables[k] = v
	}
	content, ds := b.Body.Content(caseSchema)
	diags = append(diags, ds...)
	a := attrs{content.Attributes, ctx}
	diags = append(diags, a.str("description", &c.Description)...)
	diags = append(diags, a.duration("timeout", &c.Timeout)...)
	sims := 0
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "simulator":
			if sims++; sims > 1 {
				diags = append(diags, duplicateBlock(blk))
				continue
			}
			diags = append(diags, decodeSimulator(blk, ctx, &c.Simulator)...)
		case "variables":
			diags = append(diags, decodeVariables(blk.Body, ctx, c.Variables, declared)...)
		case "expect":
			diags = append(diags, decodeExpect(blk, ctx, &c.Expect)...)
		case "assert":
			ac, ds := blk.Body.Content(assertSchema)
			diags = append(diags, ds...)
			if cond := ac.Attributes["condition"]; cond != nil {
				as := Assert{Condition: cond.Expr, DeclRange: blk.DefRange}
				if m := ac.Attributes["error_message"]; m != nil {
					as.ErrorMessage = m.Expr
				}
				c.Asserts = append(c.Asserts, as)
			}
		}
	}
	if sims == 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing simulator block",
			Detail:   "A case names the simulated cluster it runs against: simulator { platform = \"appliance\"  nodes = 3 }.",
			Subject:  b.DefRange.Ptr(),
		})
	}
	return c, diags
}

func decodeExpect(b *hcl.Block, ctx *hcl.EvalContext, e *Expect) hcl.Diagnostics {
	content, diags := b.Body.Content(expectSchema)
	if at := content.Attributes["outcome"]; at != nil {
		var s string
		diags = append(diags, attrs{content.Attributes, ctx}.str("outcome", &s)...)
		r := at.Expr.Range()
		e.Outcome, e.OutcomeRange = Outcome(s), &r
		if s != "" && !contains(outcomes, s) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown outcome",
				Detail:   fmt.Sprintf("The outcome %q is not one a run can have: use %s.%s", s, strings.Join(outcomes, ", "), didYouMean(s, outcomes)),
				Subject:  &r,
			})
		}
	}
	if at := content.Attributes["failed_at"]; at != nil {
		var list []string
		diags = append(diags, attrs{content.Attributes, ctx}.strs("failed_at", &list)...)
		r := at.Expr.Range()
		e.FailedAtRange = &r
		for _, s := range list {
			p, err := addrs.ParsePattern(s)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid step address", Detail: err.Error(), Subject: &r})
				continue
			}
			e.FailedAt = append(e.FailedAt, p)
		}
		if e.OutcomeRange == nil {
			e.Outcome = Failed
		}
	}
	return diags
}

func duplicateBlock(b *hcl.Block) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + b.Type + " block",
		Detail:   fmt.Sprintf("A case has one %s block.", b.Type),
		Subject:  b.DefRange.Ptr(),
	}
}

func hclIdentifier(s string) bool {
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || i > 0 && (r >= '0' && r <= '9' || r == '-')
		if !ok {
			return false
		}
	}
	return s != ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func didYouMean(given string, candidates []string) string {
	if s := lang.Nearest(given, candidates); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}
