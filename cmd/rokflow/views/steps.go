package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/rokflow/rokflow/internal/jsondoc"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// KindList writes one line per kind: name, side-effect class, summary.
func KindList(w io.Writer, reg *steps.Registry, colorOn bool) {
	c := newPalette(colorOn)
	width := 0
	for _, n := range reg.Names() {
		width = max(width, len(n))
	}
	for _, n := range reg.Names() {
		k, _ := reg.Lookup(n)
		s := k.Schema()
		fmt.Fprintf(w, "%s  %-22s  %s\n", c.bold(fmt.Sprintf("%-*s", width, n)), classText(s), s.Summary)
	}
	fmt.Fprintln(w, "\nRun \"rokflow steps KIND\" for a kind's arguments and outputs, and")
	fmt.Fprintln(w, "\"rokflow steps connection\" for how steps reach the hosts their on names.")
}

func classText(s *steps.Schema) string {
	t := s.Effect.String()
	if s.Gate {
		t += ", gate"
	}
	if s.Reversible {
		t += ", reversible"
	}
	return t
}

// KindDoc writes the documentation of one kind, from its schema.
func KindDoc(w io.Writer, s *steps.Schema, colorOn bool) {
	c := newPalette(colorOn)
	fmt.Fprintf(w, "%s — %s\n\n", c.bold(s.Name), s.Summary)
	if s.Description != "" {
		fmt.Fprintf(w, "%s\n\n", wrap(s.Description, 80, ""))
	}
	fmt.Fprintf(w, "%s %s\n", c.bold("Side effects:"), classText(s))
	if s.Target == steps.TargetHost {
		fmt.Fprintf(w, "%s runs on the host named by `on` (this machine when omitted), reached\n        through its connection (rokflow steps connection)\n", c.bold("Target:"))
	} else {
		fmt.Fprintf(w, "%s none; talks to the service named in its arguments\n", c.bold("Target:"))
	}
	fmt.Fprintf(w, "%s\n", wrap(c.bold("Secrets:")+" "+secretsText(s.Secrets), 80, ""))
	if s.DefaultTimeout != "" {
		fmt.Fprintf(w, "%s the step's `timeout`; %s when the step sets none\n", c.bold("Timeout:"), s.DefaultTimeout)
	}
	fmt.Fprintf(w, "\n%s\n", c.bold("Arguments:"))
	writeBlockDoc(w, c, s.Args, "  ")
	fmt.Fprintf(w, "\n%s (step.NAME.outputs.…)\n", c.bold("Outputs:"))
	for _, n := range sortedNames(s.Outputs) {
		a := s.Outputs[n]
		fmt.Fprintf(w, "  %s %s\n", c.bold(n), c.dim(schema.TypeString(a.Type)))
		if a.Description != "" {
			fmt.Fprintf(w, "%s\n", wrap(a.Description, 76, "      "))
		}
	}
}

func writeBlockDoc(w io.Writer, c palette, b *schema.Block, indent string) {
	for _, n := range b.AttributeNames() {
		a := b.Attributes[n]
		var notes []string
		if a.Required {
			notes = append(notes, "required")
		} else {
			notes = append(notes, "optional")
		}
		if a.Default != cty.NilVal && !a.Default.IsNull() && !a.Sensitive {
			// A sensitive argument's default is not shown, as in steps --json.
			notes = append(notes, "default "+steps.Display(a.Default))
		}
		if a.Sensitive {
			notes = append(notes, "sensitive")
		}
		fmt.Fprintf(w, "%s%s %s %s\n", indent, c.bold(n), schema.TypeString(a.Type), c.dim("("+strings.Join(notes, ", ")+")"))
		if a.Description != "" {
			fmt.Fprintf(w, "%s\n", wrap(a.Description, 76, indent+"    "))
		}
	}
	for _, n := range b.BlockNames() {
		nb := b.Blocks[n]
		many := "block, at most one"
		if nb.Nesting == schema.NestingList {
			many = "blocks, any number"
		}
		fmt.Fprintf(w, "%s%s { … } %s\n", indent, c.bold(n), c.dim("("+many+")"))
		if nb.Description != "" {
			fmt.Fprintf(w, "%s\n", wrap(nb.Description, 76, indent+"    "))
		}
		writeBlockDoc(w, c, &nb.Block, indent+"    ")
	}
}

// wrap breaks text into lines of at most width runes after the indent.
func wrap(text string, width int, indent string) string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		line := indent
		for _, word := range strings.Fields(para) {
			if len(line) > len(indent) && len(line)+1+len(word) > width+len(indent) {
				lines = append(lines, line)
				line = indent
			}
			if len(line) > len(indent) {
				line += " "
			}
			line += word
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// secretsText says what becomes of a step of the kind given a secret.
func secretsText(s steps.Secrets) string {
	t := "given a sensitive value"
	if len(s.Credentials) > 0 {
		t += " other than as a credential (" + strings.Join(s.Credentials, ", ") + ")"
	}
	t += ", every output"
	if len(s.Clean) > 0 {
		t += " but " + strings.Join(s.Clean, ", ")
	}
	t += " is sensitive, and output lines are "
	if s.CleanStream {
		return t + "shown with the value replaced"
	}
	return t + "withheld"
}

// kindJSON is the JSON form of a kind's documentation.
type kindJSON struct {
	Name        string `json:"name"`
	Summary     string `json:"summary"`
	Description string `json:"description"`
	Effect      string `json:"effect"`
	Gate        bool   `json:"gate"`
	Reversible  bool   `json:"reversible"`
	Target      bool   `json:"target_host"`
	// DefaultTimeout is the timeout of a step of the kind that sets none.
	DefaultTimeout string              `json:"default_timeout,omitempty"`
	Args           blockJSON           `json:"args"`
	Outputs        map[string]attrJSON `json:"outputs"`
	Secrets        secretsJSON         `json:"secrets"`
}

// secretsJSON is steps.Secrets: what a sensitive argument cannot reach.
type secretsJSON struct {
	Credentials []string `json:"credentials"`
	Clean       []string `json:"clean_outputs"`
	CleanStream bool     `json:"clean_stream"`
}

type blockJSON struct {
	Attributes map[string]attrJSON  `json:"attributes"`
	Blocks     map[string]blockJSON `json:"blocks,omitempty"`
	Nesting    string               `json:"nesting,omitempty"`
}

type attrJSON struct {
	Type        json.RawMessage `json:"type"`
	TypeText    string          `json:"type_text"`
	Required    bool            `json:"required,omitempty"`
	Sensitive   bool            `json:"sensitive,omitempty"`
	Default     json.RawMessage `json:"default,omitempty"`
	Description string          `json:"description"`
}

func attrDoc(a *schema.Attribute) attrJSON {
	ty, _ := ctyjson.MarshalType(a.Type)
	out := attrJSON{Type: ty, TypeText: schema.TypeString(a.Type), Required: a.Required, Sensitive: a.Sensitive, Description: a.Description}
	if a.Default != cty.NilVal && !a.Default.IsNull() && !a.Sensitive {
		if b, err := ctyjson.Marshal(a.Default, a.Default.Type()); err == nil {
			out.Default = b
		}
	}
	return out
}

func blockDoc(b *schema.Block) blockJSON {
	out := blockJSON{Attributes: map[string]attrJSON{}}
	for n, a := range b.Attributes {
		out.Attributes[n] = attrDoc(a)
	}
	for n, nb := range b.Blocks {
		if out.Blocks == nil {
			out.Blocks = map[string]blockJSON{}
		}
		bd := blockDoc(&nb.Block)
		bd.Nesting = "single"
		if nb.Nesting == schema.NestingList {
			bd.Nesting = "list"
		}
		out.Blocks[n] = bd
	}
	return out
}

func kindDoc(s *steps.Schema) kindJSON {
	out := kindJSON{
		Name: s.Name, Summary: s.Summary, Description: s.Description,
		Effect: s.Effect.String(), Gate: s.Gate, Reversible: s.Reversible,
		Target: s.Target == steps.TargetHost, DefaultTimeout: s.DefaultTimeout,
		Args: blockDoc(s.Args), Outputs: map[string]attrJSON{},
		Secrets: secretsJSON{Credentials: nonNil(s.Secrets.Credentials), Clean: nonNil(s.Secrets.Clean), CleanStream: s.Secrets.CleanStream},
	}
	for n, a := range s.Outputs {
		out.Outputs[n] = attrDoc(a)
	}
	return out
}

// StepsJSON is the document steps --json prints (docs/json.md): kinds,
// and blocks such as connection documented from their schemas.
type StepsJSON struct {
	jsondoc.Header
	Kinds  []kindJSON           `json:"kinds"`
	Blocks map[string]topicJSON `json:"blocks,omitempty"`
}

// KindsJSON writes the documentation of the given kinds and topics as one
// JSON document: {"format_version": "1.0", "kinds": [...], "blocks":
// {"connection": {...}}}.
func KindsJSON(w io.Writer, schemas []*steps.Schema, topics ...Topic) error {
	doc := StepsJSON{Header: jsondoc.Steps.Header(), Kinds: []kindJSON{}}
	for _, s := range schemas {
		doc.Kinds = append(doc.Kinds, kindDoc(s))
	}
	for _, t := range topics {
		if doc.Blocks == nil {
			doc.Blocks = map[string]topicJSON{}
		}
		doc.Blocks[t.Name] = topicDoc(t)
	}
	return jsondoc.Steps.Write(w, doc)
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
